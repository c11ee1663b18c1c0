import type { Readable, Writable } from "node:stream";
import { specForPath } from "../domain/artifacts";
import { canonicalJson } from "../evidence/canonicalJson";
import { isInsideRun, type EvidenceSession, type VerifiedReading } from "../evidence/evidenceSession";
import { inclusionProof, merkleRootFromLeafHashes } from "../evidence/merkle";
import { merkleLeafHashes, sortByPath } from "../evidence/seal";
import type { VerificationReport } from "../evidence/verifyRun";
import type { ExportCounts, ExportRequest } from "../schemas/api/exports";
import type { ArtifactRead } from "../schemas/artifacts/outcome";
import type { ArtifactRow } from "../schemas/tableRows";
import { MATRIX_PATHS, matrixCsv, matrixHtml, type MatrixRun } from "./complianceMatrix";
import { renderExportReadme } from "./exportReadme";
import { buildAssessmentResults, type OscalRun } from "./oscalAssessmentResults";
import { collectOscalFacts, OSCAL_FACT_PATHS, type OscalRunFacts } from "./oscalFacts";
import type { ExportSource } from "./exportSource";
import type { RunInScope } from "./listRunsInScope";
import {
  EXPORT_TOOL,
  PACKAGE_FILES,
  PACKAGE_FORMAT,
  RUN_FILES,
  runFolder,
  type PackageConsistency,
  type PackageIndex,
  type PackageManifest,
  type PackageProofs,
  type PackageRun,
} from "./packageLayout";
import { noteText, parseCheckpoint } from "../transparency/note";
import { PackageZip } from "./packageZip";
import { readAhead } from "./readAhead";
import { readingOfStreamed, RunCheck } from "./runCheck";
import { textStream } from "./textStream";

/** What to package. */
export interface ExportPackageInput {
  exportId: string;
  tenant: string;
  request: ExportRequest;
  /** The orchestration's time: the only timestamp the package itself carries (zip entries' mtime included). */
  createdAt: string;
  /** The runs in scope (listRunsInScope); runs not sealed yet are listed in export.json as skipped, not packaged. */
  runs: readonly RunInScope[];
  /** The tenant's transparency log as pinned before the runs were listed (absent: the tenant has no logged run). */
  log?: PackageLog;
}

/**
 * The tenant log in a package: the checkpoint the package is built against (read before the runs were listed, so
 * every run it includes is listed as completed), every receipt up to it, the verifier key, and at the end the latest
 * checkpoint with the consistency proof to it.
 */
export interface PackageLog {
  key: string;
  checkpoint: { size: number; note: string };
  receipts: readonly string[];
  finish(): Promise<{ latest: string; proof: string[] }>;
}

/** Tuning of {@link writeExportPackage}; the defaults keep memory flat (a few MiB of buffers) at any size. */
export interface ExportPackageOptions {
  /** Blob downloads started ahead of the zip (their latency overlaps the streaming of the ones before). */
  readAhead?: number;
  /** Runs whose index rows and blob listing are read ahead. */
  runsAhead?: number;
  /** Streamed entries queued in the zip before the writer waits. */
  maxPendingStreams?: number;
  /** Artifacts up to this size are also schema-checked (they pass through memory anyway); larger ones hash-checked only. */
  captureLimit?: number;
}

/** What the package holds and how its export-time verification went. */
export interface ExportPackageResult {
  counts: ExportCounts;
  /** Files in the zip, SHA256SUMS included. */
  files: number;
  /** True when every packaged run verified at export time. */
  verified: boolean;
  /** Runs whose export-time verification failed (verification-report.json says why). */
  runsFailed: number;
}

/** One run's line in verification-report.json: the verdict and only what is wrong, so the file stays small. */
interface RunVerificationSummary {
  client: string;
  device: string;
  runId: string;
  folder: string;
  ok: boolean;
  merkleRoot?: string;
  eventsChainHead?: string;
  artifacts: number;
  verified: number;
  problems: ArtifactRead[];
  seal: { ok: boolean; problems: string[] };
  unindexed: string[];
}

const DEFAULTS = { readAhead: 16, runsAhead: 4, maxPendingStreams: 8, captureLimit: 8 * 1024 * 1024 } as const;

// Artifact paths come from index rows (table data): only plain relative paths become zip entries, so no row can
// make an auditor's unzip write outside the run folder.
const SAFE_PATH = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

/** A run ready to stream: its rows, its metadata files and the check its artifacts report to. */
interface RunPlan {
  scoped: RunInScope;
  /** The run's evidence session: every blob of the run is read through it. */
  session: EvidenceSession;
  folder: string;
  rows: ArtifactRow[];
  check: RunCheck;
  /** Paths written into the package (for the matrix: only artifacts present are cited). */
  packaged: Set<string>;
  files: { path: string; bytes: Buffer }[];
  /** What the OSCAL assessment results state from the run's verified artifacts. */
  facts: OscalRunFacts;
}

/** A unit of work in zip order. */
type Work =
  | { kind: "file"; path: string; bytes: Buffer }
  | { kind: "artifact"; plan: RunPlan; row: ArtifactRow }
  | { kind: "runDone"; plan: RunPlan };

/**
 * Writes an export package (zip) to `out` as it is built: README.md, export.json, each run's index.json,
 * proofs.json and artifacts (each blob streamed from storage into the zip and hashed on the way), installs.jsonl,
 * verification-report.json, the compliance matrix, and SHA256SUMS last. Nothing is held whole: memory is per-run
 * metadata plus a bounded number of in-flight blobs. On failure `out` is destroyed with the error, so an upload
 * reading from it never commits a partial package.
 */
export async function writeExportPackage(
  source: ExportSource,
  input: ExportPackageInput,
  out: Writable,
  options: ExportPackageOptions = {},
): Promise<ExportPackageResult> {
  const settings = { ...DEFAULTS, ...options };
  const downloads = new Downloads(source);
  const zip = new PackageZip(out, { mtime: new Date(input.createdAt), maxPendingStreams: settings.maxPendingStreams });
  const building = build(source, input, zip, downloads, settings);
  building.catch(() => undefined);
  try {
    return await Promise.race([building, zip.failed]);
  } catch (error) {
    // Stop the downloads still open ahead of the zip; the caller's upload sees the error, not an end.
    downloads.abortAll();
    out.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/**
 * The blob downloads in flight, each with its own AbortController (one shared signal would collect a listener per
 * download), so a failed build can stop the ones still open.
 */
class Downloads {
  private readonly open = new Set<AbortController>();
  private aborted = false;

  constructor(private readonly source: ExportSource) {}

  async start(session: EvidenceSession, path: string): Promise<Readable | undefined> {
    if (this.aborted) throw new Error("export aborted");
    const controller = new AbortController();
    this.open.add(controller);
    try {
      const stream = await this.source.openArtifact(session, path, controller.signal);
      if (stream === undefined) {
        this.open.delete(controller);
        return stream;
      }
      stream.once("close", () => this.open.delete(controller));
      // A read-ahead download can fail before the zip reaches it; keep the error (addStream rethrows it, naming the
      // file) instead of letting an 'error' with no listener crash the process.
      stream.on("error", () => undefined);
      return stream;
    } catch (error) {
      this.open.delete(controller);
      throw error;
    }
  }

  abortAll(): void {
    this.aborted = true;
    for (const controller of this.open) controller.abort();
    this.open.clear();
  }
}

async function build(
  source: ExportSource,
  input: ExportPackageInput,
  zip: PackageZip,
  downloads: Downloads,
  settings: Required<ExportPackageOptions>,
): Promise<ExportPackageResult> {
  // Only sealed runs: a queued or running run's evidence is incomplete and cannot verify. With a log, only the runs
  // whose receipt it holds at the pinned checkpoint: one finishing meanwhile is not anchored by the package's log.
  const logged = input.log === undefined ? undefined : loggedRuns(input.log);
  const packaged = input.runs.filter(
    (r) =>
      (r.status === "sealed" || r.status === "completed") &&
      (logged === undefined || logged.has(`${r.run.client}/${r.run.device}/${r.run.runId}`)),
  );
  const manifest = packageManifest(input, packaged);
  zip.addBuffer(
    PACKAGE_FILES.readme,
    Buffer.from(
      renderExportReadme({ ...manifest, runs: manifest.runs.length, skipped: manifest.skipped.length }),
      "utf8",
    ),
  );
  zip.addBuffer(PACKAGE_FILES.manifest, json(manifest));

  const counts: ExportCounts = { runs: packaged.length, artifacts: 0, bytes: 0 };
  const summaries: Promise<RunSummary>[] = [];
  const plans = readAhead(packaged, settings.runsAhead, (scoped) => planRun(source, scoped));
  const open = async (work: Work): Promise<{ work: Work; stream?: Readable | undefined }> =>
    work.kind === "artifact" ? { work, stream: await downloads.start(work.plan.session, work.row.path) } : { work };

  for await (const { work, stream } of readAhead(workOf(plans), settings.readAhead, open)) {
    if (work.kind === "file") {
      zip.addBuffer(work.path, work.bytes);
    } else if (work.kind === "artifact") {
      const { plan, row } = work;
      if (stream === undefined) {
        plan.check.record({
          read: {
            path: row.path,
            status: "missing",
            indexedSha256: row.sha256,
            problem: "indexed but the blob is gone",
          },
        });
        continue;
      }
      plan.packaged.add(row.path);
      const spec = specForPath(row.path);
      const streamed = zip.addStream(`${plan.folder}${row.path}`, stream, settings.captureLimit).then((tap) => {
        counts.artifacts += 1;
        counts.bytes += tap.size;
        const reading = readingOfStreamed(spec, row, tap);
        plan.check.record(reading);
        if (reading.read.status === "verified" && tap.bytes !== undefined && OSCAL_FACT_PATHS.has(row.path))
          collectOscalFacts(plan.facts, row.path, tap.bytes);
      });
      // A failed entry fails the whole zip (zip.failed); here it must only not go unhandled.
      streamed.catch(() => undefined);
      plan.check.track(streamed);
      await zip.room();
    } else {
      const summary = summarize(work.plan);
      summary.catch(() => undefined);
      summaries.push(summary);
    }
  }

  // finish() waits for these streamed entries; a failing one fails the zip (and so the build).
  void zip.addStream(PACKAGE_FILES.installs, textStream(installLines(source, input.tenant, packaged)));
  const done = await Promise.race([Promise.all(summaries), zip.failed]);
  const runs = done.map((d) => d.summary);
  const runsFailed = runs.filter((r) => !r.ok).length;
  zip.addBuffer(
    PACKAGE_FILES.verification,
    json({
      schemaVersion: 1,
      exportId: input.exportId,
      tenant: input.tenant,
      createdAt: input.createdAt,
      method:
        "Every artifact was hashed (SHA-256) as it was copied into this package and compared with the index; artifacts up to " +
        `${settings.captureLimit} bytes were also checked against their schema; each run's seal was checked (Merkle root over the ` +
        "index, artifact-index.json, event chain). The rules of `patchpilot verify --run`.",
      ok: runsFailed === 0,
      counts: {
        runs: runs.length,
        runsVerified: runs.length - runsFailed,
        artifacts: runs.reduce((n, r) => n + r.artifacts, 0),
        artifactsVerified: runs.reduce((n, r) => n + r.verified, 0),
      },
      runs,
    }),
  );
  const matrix = done.map((d) => d.matrix);
  void zip.addStream(PACKAGE_FILES.matrixCsv, textStream(matrixCsv(matrix)));
  void zip.addStream(
    PACKAGE_FILES.matrixHtml,
    textStream(
      matrixHtml(matrix, {
        tenant: input.tenant,
        exportId: input.exportId,
        createdAt: input.createdAt,
        from: input.request.from,
        to: input.request.to,
      }),
    ),
  );
  const oscal = buildAssessmentResults(
    done.map((d) => d.oscal),
    {
      tenant: input.tenant,
      exportId: input.exportId,
      createdAt: input.createdAt,
      from: input.request.from,
      to: input.request.to,
      toolVersion: EXPORT_TOOL.version,
    },
  );
  zip.addBuffer(PACKAGE_FILES.oscal, json(oscal));
  if (input.log !== undefined) {
    const { log } = input;
    zip.addBuffer(PACKAGE_FILES.logKey, Buffer.from(`${log.key}\n`, "utf8"));
    zip.addBuffer(PACKAGE_FILES.checkpoint, Buffer.from(log.checkpoint.note, "utf8"));
    zip.addBuffer(PACKAGE_FILES.receipts, Buffer.from(log.receipts.map((r) => `${r}\n`).join(""), "utf8"));
    const { latest, proof } = await log.finish();
    const consistency: PackageConsistency = {
      schemaVersion: 1,
      algorithm: "rfc6962-sha256",
      from: { size: log.checkpoint.size, root: parseCheckpoint(noteText(log.checkpoint.note)).root.toString("hex") },
      latest,
      proof,
    };
    zip.addBuffer(PACKAGE_FILES.consistency, json(consistency));
  }
  const { files } = await zip.finish();
  return { counts, files, verified: runsFailed === 0, runsFailed };
}

function packageManifest(input: ExportPackageInput, packaged: readonly RunInScope[]): PackageManifest {
  const describe = (r: RunInScope): Omit<PackageRun, "folder"> => ({
    client: r.run.client,
    device: r.run.device,
    runId: r.run.runId,
    status: r.status,
    startedAt: r.startedAt,
    ...(r.merkleRoot === undefined ? {} : { merkleRoot: r.merkleRoot }),
    ...(r.eventsChainHead === undefined ? {} : { eventsChainHead: r.eventsChainHead }),
    ...(r.exitCode === undefined ? {} : { exitCode: r.exitCode }),
    ...(r.exitCodeName === undefined ? {} : { exitCodeName: r.exitCodeName }),
  });
  return {
    schemaVersion: 1,
    format: PACKAGE_FORMAT,
    exportId: input.exportId,
    tenant: input.tenant,
    scope: input.request,
    createdAt: input.createdAt,
    tool: { ...EXPORT_TOOL },
    runs: packaged.map((r) => ({ ...describe(r), folder: runFolder(r.run) })),
    skipped: input.runs
      .filter((r) => !packaged.includes(r))
      .map((r) => ({
        ...describe(r),
        reason:
          r.status === "sealed" || r.status === "completed"
            ? "not in the tenant's transparency log at the package's checkpoint (finished after it)"
            : "not sealed when the package was built: its evidence is incomplete",
      })),
  };
}

/** Reads a run's index rows and blob listing, and builds its index.json and proofs.json. */
async function planRun(source: ExportSource, scoped: RunInScope): Promise<RunPlan> {
  const { run } = scoped;
  const session = source.openSession(run);
  const [rowMap, storedPaths] = await Promise.all([session.rows(), session.storedPaths()]);
  const rows = sortByPath([...rowMap.values()]);
  const stored = new Set(storedPaths);
  const folder = runFolder(run);

  const index: PackageIndex = {
    schemaVersion: 1,
    run,
    rows: rows.map((r) => ({
      path: r.path,
      sha256: r.sha256,
      size: r.size,
      merkleLeaf: r.merkleLeaf,
      ...(r.versionId === undefined ? {} : { versionId: r.versionId }),
    })),
  };
  // The tree of the index rows marked as leaves: when the seal holds, its root is the manifest's (the verifier checks
  // every proof against the manifest's root, using the hash of the file as packaged).
  const leaves = rows.filter((r) => r.merkleLeaf);
  const leafHashes = merkleLeafHashes(leaves);
  const proofs: PackageProofs = {
    schemaVersion: 1,
    run,
    algorithm: "rfc6962-sha256",
    treeSize: leaves.length,
    root: merkleRootFromLeafHashes(leafHashes).toString("hex"),
    proofs: leaves.map((leaf, i) => ({
      path: leaf.path,
      sha256: leaf.sha256,
      leafIndex: i,
      leafHash: (leafHashes[i] as Buffer).toString("hex"),
      auditPath: inclusionProof(leafHashes, i).map((h) => h.toString("hex")),
    })),
  };
  return {
    scoped,
    session,
    folder,
    rows,
    check: new RunCheck(run, rowMap, stored),
    packaged: new Set(),
    facts: {},
    files: [
      { path: `${folder}${RUN_FILES.index}`, bytes: json(index) },
      { path: `${folder}${RUN_FILES.proofs}`, bytes: json(proofs) },
    ],
  };
}

/** Why a row's blob is not packaged, recorded as its reading; undefined when it is packaged. */
function refusal(plan: RunPlan, row: ArtifactRow): VerifiedReading | undefined {
  // Tenant isolation: a row must point inside this run's own folder, whatever its run id says. The blob name it
  // points at is not repeated: it may name another tenant.
  if (!isInsideRun(plan.scoped.run, row)) {
    return {
      read: {
        path: row.path,
        status: "hash-mismatch",
        indexedSha256: row.sha256,
        problem: "indexed blob is outside this run's folder; not packaged",
      },
    };
  }
  if (!SAFE_PATH.test(row.path)) {
    return {
      read: {
        path: row.path,
        status: "unreadable",
        indexedSha256: row.sha256,
        problem: "artifact path is not a plain relative path; not packaged",
      },
    };
  }
  return undefined;
}

async function* workOf(plans: AsyncIterable<RunPlan>): AsyncGenerator<Work> {
  for await (const plan of plans) {
    for (const file of plan.files) yield { kind: "file", ...file };
    for (const row of plan.rows) {
      const refused = refusal(plan, row);
      if (refused === undefined) yield { kind: "artifact", plan, row };
      else plan.check.record(refused);
    }
    yield { kind: "runDone", plan };
  }
}

/** A run's line in verification-report.json, what the matrix cites and what the OSCAL results state. */
interface RunSummary {
  summary: RunVerificationSummary;
  matrix: MatrixRun;
  oscal: OscalRun;
}

/** Once a run's artifacts are through: its line in verification-report.json and what the matrix cites. */
async function summarize(plan: RunPlan): Promise<RunSummary> {
  const report: VerificationReport = await plan.check.report();
  const { run } = plan.scoped;
  const status = new Map(report.artifacts.map((a) => [a.path, a.status]));
  const cited = new Map<string, { sha256: string; status: string }>();
  const oscalCited = new Map<string, { sha256: string; status: string }>();
  for (const row of plan.rows) {
    if (!plan.packaged.has(row.path)) continue;
    const entry = { sha256: row.sha256, status: status.get(row.path) ?? "verified" };
    if (MATRIX_PATHS.has(row.path)) cited.set(row.path, entry);
    if (MATRIX_PATHS.has(row.path) || OSCAL_FACT_PATHS.has(row.path)) oscalCited.set(row.path, entry);
  }
  return {
    summary: {
      client: run.client,
      device: run.device,
      runId: run.runId,
      folder: plan.folder,
      ok: report.ok,
      ...(report.merkleRoot === undefined ? {} : { merkleRoot: report.merkleRoot }),
      ...(report.eventsChainHead === undefined ? {} : { eventsChainHead: report.eventsChainHead }),
      artifacts: report.artifacts.length,
      verified: report.artifacts.filter((a) => a.status === "verified").length,
      problems: report.artifacts.filter((a) => a.status !== "verified"),
      seal: report.seal,
      unindexed: report.unindexed,
    },
    matrix: { client: run.client, device: run.device, runId: run.runId, folder: plan.folder, artifacts: cited },
    oscal: {
      client: run.client,
      device: run.device,
      runId: run.runId,
      folder: plan.folder,
      startedAt: plan.scoped.startedAt,
      ...(report.merkleRoot === undefined ? {} : { merkleRoot: report.merkleRoot }),
      ...(report.eventsChainHead === undefined ? {} : { eventsChainHead: report.eventsChainHead }),
      verified: report.ok,
      artifacts: oscalCited,
      facts: plan.facts,
    },
  };
}

/** installs.jsonl: the audit rows of the packaged runs, device by device, one canonical JSON object per line. */
async function* installLines(
  source: ExportSource,
  tenant: string,
  runs: readonly RunInScope[],
): AsyncGenerator<string> {
  const runIds = new Set(runs.map((r) => r.run.runId));
  const devices = [...new Set(runs.map((r) => r.run.device))].sort();
  for (const device of devices) {
    for (const row of await source.readInstalls(tenant, device)) {
      if (row.tenant !== tenant || !runIds.has(row.runId)) continue;
      const { partitionKey: _partitionKey, rowKey: _rowKey, ...rest } = row;
      yield `${canonicalJson(rest)}\n`;
    }
  }
}

/** Pretty JSON (auditors read these files); key order is fixed by construction, so the bytes are deterministic. */
function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
}

/** `client/device/runId` of every receipt in the pinned log. */
function loggedRuns(log: PackageLog): Set<string> {
  const out = new Set<string>();
  for (const line of log.receipts) {
    const r = JSON.parse(line) as { client: string; device: string; runId: string };
    out.add(`${r.client}/${r.device}/${r.runId}`);
  }
  return out;
}
