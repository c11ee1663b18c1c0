import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import type { z } from "zod";
import { ARTIFACTS } from "../domain/artifacts";
import { verifyEventChain, type ChainVerification } from "../evidence/hashChain";
import { hashLeaf, merkleRootFromLeafHashes, verifyHexProof } from "../evidence/merkle";
import { merkleLeafData, merkleRootHex, sortByPath } from "../evidence/seal";
import { canonicalJson } from "../evidence/canonicalJson";
import { RECEIPT_FILES } from "../evidence/checkReceipt";
import { ArtifactIndexSchema, ManifestSchema, type ArtifactIndex, type Manifest } from "../schemas/artifacts/integrity";
import { RunReceiptSchema, type RunReceipt } from "../schemas/artifacts/receipt";
import { verifyConsistency } from "../transparency/consistency";
import {
  formatVerifierKey,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  type Checkpoint,
  type NoteVerifier,
} from "../transparency/note";
import { HashingTap } from "./hashingTap";
import {
  PACKAGE_FILES,
  PackageIndexSchema,
  PackageManifestSchema,
  PackageConsistencySchema,
  PackageProofsSchema,
  RUN_FILES,
  runFolder,
  type PackageConsistency,
  type PackageIndex,
  type PackageManifest,
  type PackageProofs,
} from "./packageLayout";

/** One thing wrong with a package, naming the file it concerns. */
export interface PackageProblem {
  path: string;
  problem: string;
}

/** Result of {@link verifyPackage}. */
export interface PackageVerification {
  ok: boolean;
  /** Runs listed in export.json. */
  runs: number;
  /** Artifacts listed in the runs' index.json files. */
  artifacts: number;
  /** Every problem found, in the order of the files they name in the zip (missing files where they are listed). */
  problems: PackageProblem[];
  exportId?: string;
  tenant?: string;
  /** Each run's Merkle root from its manifest.json: what must be compared with the roots reported when the runs ended. */
  roots: { folder: string; merkleRoot: string }[];
  /** The tenant log's checkpoint the runs' receipts were proven against, and whose key verified it. */
  anchor?: PackageAnchor;
}

/** What a verification was anchored to. */
export interface PackageAnchor {
  origin: string;
  size: number;
  /** Hex root of the checkpoint. */
  root: string;
  /** "given": the key passed with --key; "package": the package's own log-key.txt (compare it with the published one). */
  keyFrom: "given" | "package";
  key: string;
  /** Set when a checkpoint was given (--checkpoint): its size, proven consistent with the package's. */
  givenCheckpointSize?: number;
}

/** What to anchor a package to: a checkpoint and the log's verifier key, obtained outside the package. */
export interface VerifyPackageOptions {
  /** A signed checkpoint of the tenant's log (C2SP note), e.g. from the published checkpoints container. */
  checkpoint?: string;
  /** The tenant log's verifier key (`name+keyid+base64`), as the API publishes it. */
  key?: string;
}

/** The file is not a zip that can be opened (absent, truncated before its central directory, not a zip at all). */
export class PackageUnreadableError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: not a readable zip (${reason})`);
    this.name = "PackageUnreadableError";
  }
}

/** Metadata files kept in memory for the checks; everything else is only hashed as it streams. */
const METADATA =
  /^runs\/[^/]+\/[^/]+\/[^/]+\/(index\.json|proofs\.json|10-index\/(manifest\.json|artifact-index\.json|events\.jsonl)|11-report\/(exit-code\.json|final-report\.json|receipt\.json)|05-install\/install-summary\.jsonl)$/;
const METADATA_LIMIT = 64 * 1024 * 1024;

/** What was read for one zip entry. */
interface EntryRead {
  order: number;
  sha256?: string;
  size?: number;
  /** Set when the entry's bytes could not be read (damaged data, a bad size). */
  error?: string;
}

/** Collected while reading the zip, checked once every entry is read. */
interface Collected {
  entries: Map<string, EntryRead>;
  texts: Map<string, string>;
  chains: Map<string, ChainVerification>;
  problems: { path: string; problem: string; order: number; seq: number }[];
}

/**
 * Verifies an export package offline (no network, no Azure): every SHA256SUMS line; for every run in export.json,
 * each file against index.json (missing and unlisted files included), the Merkle root recomputed from the index rows
 * against manifest.json, artifact-index.json against the manifest, every inclusion proof (from the file's own hash)
 * against the manifest's root, and the events.jsonl hash chain against the manifest. Reads the zip once, streaming.
 * Throws {@link PackageUnreadableError} only when the file cannot be opened as a zip.
 */
export async function verifyPackage(zipFile: string, options: VerifyPackageOptions = {}): Promise<PackageVerification> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipFile, {
      lazyEntries: true,
      autoClose: false,
      validateEntrySizes: true,
      strictFileNames: true,
    });
  } catch (error) {
    throw new PackageUnreadableError(zipFile, error instanceof Error ? error.message : String(error));
  }
  const c: Collected = { entries: new Map(), texts: new Map(), chains: new Map(), problems: [] };
  try {
    await readEntries(zip, c);
  } finally {
    zip.close();
  }
  return check(c, options);
}

async function readEntries(zip: yauzl.ZipFile, c: Collected): Promise<void> {
  let order = 0;
  let last = "(start of the zip)";
  try {
    for await (const entry of zip.eachEntry()) {
      const path = entry.fileName;
      last = path;
      order += 1;
      if (path.endsWith("/")) continue;
      if (c.entries.has(path)) {
        problem(c, path, "appears more than once in the zip", order);
        continue;
      }
      const read: EntryRead = { order };
      c.entries.set(path, read);
      const keep =
        METADATA.test(path) ||
        path === PACKAGE_FILES.manifest ||
        path === PACKAGE_FILES.sums ||
        path === PACKAGE_FILES.installs ||
        path.startsWith("transparency/");
      const tap = new HashingTap(keep ? METADATA_LIMIT : 0);
      try {
        const stream = await zip.openReadStreamPromise(entry);
        await pipeline(stream, tap, discard());
        const digest = tap.digest;
        read.sha256 = digest.sha256;
        read.size = digest.size;
        if (keep && digest.bytes === undefined)
          problem(c, path, `larger than ${METADATA_LIMIT} bytes: not checked`, order);
        else if (keep && digest.bytes !== undefined) collectText(c, path, digest.bytes);
      } catch (error) {
        read.error = error instanceof Error ? error.message : String(error);
        problem(c, path, `cannot be read from the zip: ${read.error}`, order);
      }
    }
  } catch (error) {
    // The central directory itself is damaged, or names a path that escapes the folder: stop, say where.
    problem(
      c,
      last,
      `the zip cannot be read past this entry: ${error instanceof Error ? error.message : String(error)}`,
      order + 0.5,
    );
  }
}

function collectText(c: Collected, path: string, bytes: Buffer): void {
  if (path.endsWith("/10-index/events.jsonl")) {
    // Checked now so the events need not stay in memory; the run id is the folder's.
    const runId = path.split("/")[3] ?? "";
    c.chains.set(path, verifyEventChain(bytes, runId));
    return;
  }
  c.texts.set(path, bytes.toString("utf8"));
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/** Records a problem, ordered by where its file is in the zip (or `order`: where a missing file is listed). */
function problem(c: Collected, path: string, text: string, order?: number): void {
  c.problems.push({
    path,
    problem: text,
    order: order ?? c.entries.get(path)?.order ?? Number.MAX_SAFE_INTEGER,
    seq: c.problems.length,
  });
}

/** Parses a JSON metadata file with its schema; a problem (and undefined) when absent, not JSON or not the schema. */
function parsed<T>(c: Collected, path: string, schema: z.ZodType<T>, whereListed: number): T | undefined {
  const entry = c.entries.get(path);
  const text = c.texts.get(path);
  if (entry === undefined) {
    problem(c, path, "missing from the package", whereListed);
    return undefined;
  }
  if (text === undefined) return undefined; // unreadable or too large: already a problem
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    problem(c, path, "is not JSON");
    return undefined;
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    problem(
      c,
      path,
      `is not a valid ${path.split("/").pop() ?? path}: ${issue ? `${issue.path.map(String).join(".") || "(document)"}: ${issue.message}` : "invalid"}`,
    );
    return undefined;
  }
  return result.data;
}

function check(c: Collected, options: VerifyPackageOptions): PackageVerification {
  const roots: PackageVerification["roots"] = [];
  checkSums(c);
  for (const required of [PACKAGE_FILES.readme, PACKAGE_FILES.manifest, PACKAGE_FILES.sums]) {
    if (!c.entries.has(required)) problem(c, required, "missing from the package", 0);
  }
  const manifest = c.entries.has(PACKAGE_FILES.manifest)
    ? parsed<PackageManifest>(c, PACKAGE_FILES.manifest, PackageManifestSchema, 0)
    : undefined;
  let artifacts = 0;
  const folders = new Set<string>();
  for (const run of manifest?.runs ?? []) {
    const folder = runFolder(run);
    folders.add(folder);
    if (run.folder !== folder)
      problem(c, PACKAGE_FILES.manifest, `run ${run.runId}: folder ${run.folder}, expected ${folder}`);
    artifacts += checkRun(c, manifest as PackageManifest, run, folder, roots);
  }
  if (manifest !== undefined) checkInstalls(c, manifest);
  const anchor = manifest === undefined ? undefined : checkLog(c, manifest, options);
  const topLevel = new Set<string>(Object.values(PACKAGE_FILES));
  for (const [path, entry] of c.entries) {
    if (topLevel.has(path)) continue;
    if (path.startsWith("runs/")) {
      const folder = path.split("/").slice(0, 4).join("/") + "/";
      if (manifest !== undefined && !folders.has(folder))
        problem(c, path, "is not in a run listed in export.json", entry.order);
    } else {
      problem(c, path, "is not part of the package layout", entry.order);
    }
  }
  const problems = c.problems
    .sort((a, b) => a.order - b.order || a.seq - b.seq)
    .map(({ path, problem: text }) => ({ path, problem: text }));
  return {
    ok: problems.length === 0,
    runs: manifest?.runs.length ?? 0,
    artifacts,
    problems,
    ...(manifest === undefined ? {} : { exportId: manifest.exportId, tenant: manifest.tenant }),
    roots,
    ...(anchor === undefined ? {} : { anchor }),
  };
}

/** Every SHA256SUMS line against the file's hash; every file (but SHA256SUMS) listed. */
function checkSums(c: Collected): void {
  const sums = c.texts.get(PACKAGE_FILES.sums);
  if (sums === undefined) return;
  const where = c.entries.get(PACKAGE_FILES.sums)?.order ?? Number.MAX_SAFE_INTEGER;
  const listed = new Set<string>();
  for (const [i, line] of sums.split("\n").entries()) {
    if (line === "") continue;
    // sha256sum's text (two spaces) and binary (space, asterisk) forms.
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (match === null || match[1] === undefined || match[2] === undefined) {
      problem(c, PACKAGE_FILES.sums, `line ${i + 1} is not "<sha256>  <path>"`, where);
      continue;
    }
    const [, sha, path] = match;
    listed.add(path);
    const entry = c.entries.get(path);
    if (entry === undefined) problem(c, path, "listed in SHA256SUMS but missing from the package", where);
    else if (entry.sha256 !== undefined && entry.sha256 !== sha.toLowerCase())
      problem(c, path, `SHA-256 is ${entry.sha256}, SHA256SUMS says ${sha.toLowerCase()}`);
  }
  for (const [path, entry] of c.entries) {
    if (path !== PACKAGE_FILES.sums && !listed.has(path)) problem(c, path, "is not listed in SHA256SUMS", entry.order);
  }
}

/** Checks one run folder; returns the number of artifacts its index lists. */
function checkRun(
  c: Collected,
  manifest: PackageManifest,
  run: PackageManifest["runs"][number],
  folder: string,
  roots: PackageVerification["roots"],
): number {
  const indexPath = `${folder}${RUN_FILES.index}`;
  const listedAt = c.entries.get(PACKAGE_FILES.manifest)?.order ?? 0;
  const index = parsed<PackageIndex>(c, indexPath, PackageIndexSchema, listedAt);
  const ref = { tenant: manifest.tenant, client: run.client, device: run.device, runId: run.runId };
  const sameRun = (other: { tenant: string; client: string; device: string; runId: string }): boolean =>
    other.tenant === ref.tenant &&
    other.client === ref.client &&
    other.device === ref.device &&
    other.runId === ref.runId;
  if (index === undefined) return 0;
  if (!sameRun(index.run))
    problem(
      c,
      indexPath,
      `belongs to ${index.run.tenant}/${index.run.client}/${index.run.device}/${index.run.runId}, not to this folder's run`,
    );
  const indexOrder = c.entries.get(indexPath)?.order ?? listedAt;

  // Every indexed file present with its hash and size; every file of the folder indexed.
  const rows = new Map(index.rows.map((r) => [r.path, r]));
  for (const row of index.rows) {
    const path = `${folder}${row.path}`;
    const entry = c.entries.get(path);
    if (entry === undefined) problem(c, path, "is indexed in index.json but missing from the package", indexOrder);
    else if (entry.sha256 !== undefined && entry.sha256 !== row.sha256)
      problem(c, path, `SHA-256 is ${entry.sha256}, index.json says ${row.sha256}`);
    else if (entry.size !== undefined && entry.size !== row.size)
      problem(c, path, `size is ${entry.size} bytes, index.json says ${row.size}`);
  }
  const own = new Set<string>([indexPath, `${folder}${RUN_FILES.proofs}`]);
  for (const [path, entry] of c.entries) {
    if (path.startsWith(folder) && !own.has(path) && !rows.has(path.slice(folder.length)))
      problem(c, path, "is in the run folder but not in its index.json", entry.order);
  }

  // The seal.
  const manifestPath = `${folder}${ARTIFACTS.manifest.path}`;
  const seal = c.entries.has(manifestPath) ? parsed<Manifest>(c, manifestPath, ManifestSchema, indexOrder) : undefined;
  if (seal === undefined) {
    if (!c.entries.has(manifestPath) && !rows.has(ARTIFACTS.manifest.path))
      problem(c, manifestPath, "missing: the run's seal cannot be checked", indexOrder);
    return index.rows.length;
  }
  roots.push({ folder, merkleRoot: seal.merkle.root });
  if (!sameRun(seal.run))
    problem(
      c,
      manifestPath,
      `seals ${seal.run.tenant}/${seal.run.client}/${seal.run.device}/${seal.run.runId}, not this folder's run`,
    );
  if (run.merkleRoot !== undefined && run.merkleRoot !== seal.merkle.root)
    problem(
      c,
      manifestPath,
      `Merkle root ${seal.merkle.root} is not the ${run.merkleRoot} export.json lists for the run`,
    );
  if (run.eventsChainHead !== undefined && run.eventsChainHead !== seal.events.chainHead)
    problem(
      c,
      manifestPath,
      `event chain head ${seal.events.chainHead} is not the ${run.eventsChainHead} export.json lists for the run`,
    );

  const leaves = sortByPath(index.rows.filter((r) => r.merkleLeaf));
  const root = merkleRootHex(leaves);
  if (root !== seal.merkle.root)
    problem(c, indexPath, `Merkle root of its leaf rows is ${root}, manifest.json says ${seal.merkle.root}`);
  if (leaves.length !== seal.merkle.leafCount)
    problem(c, indexPath, `lists ${leaves.length} Merkle leaves, manifest.json says ${seal.merkle.leafCount}`);

  const artifactIndexPath = `${folder}${ARTIFACTS.artifactIndex.path}`;
  const artifactIndexEntry = c.entries.get(artifactIndexPath);
  if (artifactIndexEntry?.sha256 !== undefined) {
    if (artifactIndexEntry.sha256 !== seal.artifactIndexSha256)
      problem(
        c,
        artifactIndexPath,
        `SHA-256 is ${artifactIndexEntry.sha256}, manifest.json sealed ${seal.artifactIndexSha256}`,
      );
    const artifactIndex = parsed<ArtifactIndex>(c, artifactIndexPath, ArtifactIndexSchema, indexOrder);
    if (artifactIndex !== undefined) {
      const listed = artifactIndex.entries.map((e) => `${e.path}:${e.sha256}`).join("\n");
      const indexed = leaves.map((r) => `${r.path}:${r.sha256}`).join("\n");
      if (listed !== indexed)
        problem(c, artifactIndexPath, "lists different artifacts than the Merkle leaves of index.json");
    }
  }

  const eventsPath = `${folder}${ARTIFACTS.events.path}`;
  const chain = c.chains.get(eventsPath);
  if (chain !== undefined) {
    for (const p of chain.problems) problem(c, eventsPath, `event chain: ${p}`);
    if (chain.head !== seal.events.chainHead)
      problem(c, eventsPath, `event chain head is ${chain.head}, manifest.json says ${seal.events.chainHead}`);
    if (chain.count !== seal.events.count)
      problem(c, eventsPath, `holds ${chain.count} events, manifest.json says ${seal.events.count}`);
  }

  checkProofs(c, folder, ref, leaves, seal, indexOrder, sameRun);
  checkDecision(c, run, folder, ref, seal, indexOrder);
  return index.rows.length;
}

/** Every leaf's inclusion proof, from the packaged file's own hash, against the manifest's root. */
function checkProofs(
  c: Collected,
  folder: string,
  ref: { tenant: string; client: string; device: string; runId: string },
  leaves: readonly PackageIndex["rows"][number][],
  seal: Manifest,
  indexOrder: number,
  sameRun: (other: typeof ref) => boolean,
): void {
  const proofsPath = `${folder}${RUN_FILES.proofs}`;
  const proofs = parsed<PackageProofs>(c, proofsPath, PackageProofsSchema, indexOrder);
  if (proofs === undefined) return;
  if (!sameRun(proofs.run)) problem(c, proofsPath, `belongs to ${proofs.run.runId}, not this folder's run`);
  if (proofs.root !== seal.merkle.root)
    problem(c, proofsPath, `proves against root ${proofs.root}, manifest.json's is ${seal.merkle.root}`);
  if (proofs.treeSize !== seal.merkle.leafCount)
    problem(c, proofsPath, `tree size ${proofs.treeSize}, manifest.json says ${seal.merkle.leafCount}`);
  const byPath = new Map(proofs.proofs.map((p) => [p.path, p]));
  const leafPaths = new Set(leaves.map((l) => l.path));
  for (const leaf of leaves) {
    const path = `${folder}${leaf.path}`;
    const proof = byPath.get(leaf.path);
    const actual = c.entries.get(path)?.sha256;
    if (proof === undefined) {
      problem(c, path, "has no inclusion proof in proofs.json");
      continue;
    }
    // A missing or unreadable file is reported above; there is no hash of its bytes to prove.
    if (actual === undefined) continue;
    const leafHash = hashLeaf(merkleLeafData({ path: leaf.path, sha256: actual })).toString("hex");
    const ok = verifyHexProof(leafHash, {
      leafIndex: proof.leafIndex,
      treeSize: proofs.treeSize,
      auditPath: proof.auditPath,
      root: seal.merkle.root,
    });
    if (!ok) problem(c, path, "inclusion proof does not verify against manifest.json's Merkle root");
  }
  for (const p of proofs.proofs) {
    if (!leafPaths.has(p.path))
      problem(c, proofsPath, `has a proof for ${p.path}, which is not a Merkle leaf in index.json`);
  }
}

/** The JSON value of a kept file, or undefined (absent, unreadable or not JSON: reported elsewhere or here). */
function jsonOf(c: Collected, path: string): unknown {
  const text = c.texts.get(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The decision inside the commitment: the run's receipt (its sealed root, manifest and the hash of every report file)
 * against the packaged files' own hashes, and every copy of the exit code (exit-code.json, final-report.json,
 * export.json) against the one the receipt commits to. A completed run without a receipt has an uncommitted decision.
 */
function checkDecision(
  c: Collected,
  run: PackageManifest["runs"][number],
  folder: string,
  ref: { tenant: string; client: string; device: string; runId: string },
  seal: Manifest,
  indexOrder: number,
): void {
  const receiptPath = `${folder}${ARTIFACTS.receipt.path}`;
  if (!c.entries.has(receiptPath)) {
    if (run.status === "completed" || c.entries.has(`${folder}${ARTIFACTS.exitCode.path}`))
      problem(
        c,
        receiptPath,
        "missing: the run's decision and report are not committed to its seal (no receipt)",
        indexOrder,
      );
    return;
  }
  const receipt = parsed<RunReceipt>(c, receiptPath, RunReceiptSchema, indexOrder);
  if (receipt === undefined) return;
  const actual = (path: string): string | undefined => c.entries.get(`${folder}${path}`)?.sha256;
  // Each file where it is: the first one that differs is the first problem.
  for (const file of receipt.files) {
    const sha = actual(file.path);
    if (sha === undefined)
      problem(c, `${folder}${file.path}`, "is committed to by receipt.json but missing", indexOrder);
    else if (sha !== file.sha256)
      problem(c, `${folder}${file.path}`, `SHA-256 is ${sha}, the run's receipt commits to ${file.sha256}`);
  }
  const committed = new Set(receipt.files.map((f) => f.path));
  for (const path of RECEIPT_FILES)
    if (!committed.has(path) && actual(path) !== undefined)
      problem(c, receiptPath, `does not commit to ${path}, which the run holds`);
  if (receipt.exitCode.sha256 !== receipt.files.find((f) => f.path === ARTIFACTS.exitCode.path)?.sha256)
    problem(c, receiptPath, "its exit code hash is not the one it lists for exit-code.json");
  const manifestSha = actual(ARTIFACTS.manifest.path);
  if (manifestSha !== receipt.manifestSha256)
    problem(c, receiptPath, `commits to manifest.json ${receipt.manifestSha256}, the package's is ${manifestSha}`);
  if (receipt.merkleRoot !== seal.merkle.root)
    problem(c, receiptPath, `commits to Merkle root ${receipt.merkleRoot}, manifest.json's is ${seal.merkle.root}`);
  const named = `${receipt.tenant}/${receipt.client}/${receipt.device}/${receipt.runId}`;
  if (named !== `${ref.tenant}/${ref.client}/${ref.device}/${ref.runId}`)
    problem(c, receiptPath, `is the receipt of ${named}, not of this folder's run`);

  // Every copy of the exit code against the committed one.
  const code = receipt.exitCode.code;
  const exitCodePath = `${folder}${ARTIFACTS.exitCode.path}`;
  const decided = jsonOf(c, exitCodePath) as { exitCode?: unknown; name?: unknown } | undefined;
  if (decided !== undefined && (decided.exitCode !== code || decided.name !== receipt.exitCode.name))
    problem(c, exitCodePath, `says ${String(decided.exitCode)}, the run's receipt commits to ${code}`);
  const reportPath = `${folder}${ARTIFACTS.finalReport.path}`;
  const report = jsonOf(c, reportPath) as { exitCode?: unknown; evidence?: { exitCodeSha256?: unknown } } | undefined;
  if (report !== undefined && report.exitCode !== code)
    problem(c, reportPath, `says exit code ${String(report.exitCode)}, the run's receipt commits to ${code}`);
  if (report?.evidence !== undefined && report.evidence.exitCodeSha256 !== receipt.exitCode.sha256)
    problem(c, reportPath, "cites another exit-code.json than the one the run's receipt commits to");
  if (run.exitCode !== undefined && run.exitCode !== code)
    problem(c, PACKAGE_FILES.manifest, `run ${run.runId}: exit code ${run.exitCode}, its receipt commits to ${code}`);
  if (run.exitCodeName !== undefined && run.exitCodeName !== receipt.exitCode.name)
    problem(
      c,
      PACKAGE_FILES.manifest,
      `run ${run.runId}: exit code name ${run.exitCodeName}, its receipt commits to ${receipt.exitCode.name}`,
    );
}

/**
 * installs.jsonl against the sealed install summaries: for every packaged run, its rows must be exactly the lines of
 * its `install-summary.jsonl` (a Merkle leaf, so proven against the run's root), and no row may name a run the package
 * does not hold.
 */
function checkInstalls(c: Collected, manifest: PackageManifest): void {
  const path = PACKAGE_FILES.installs;
  const text = c.texts.get(path);
  if (text === undefined) {
    if (!c.entries.has(path)) problem(c, path, "missing from the package", Number.MAX_SAFE_INTEGER - 1);
    return;
  }
  const byRun = new Map<string, { line: number; row: string }[]>();
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      problem(c, path, `line ${i + 1} is not JSON`);
      continue;
    }
    const runId = (row as { runId?: unknown }).runId;
    if (typeof runId !== "string") {
      problem(c, path, `line ${i + 1} names no run`);
      continue;
    }
    byRun.set(runId, [...(byRun.get(runId) ?? []), { line: i + 1, row: canonicalJson(row) }]);
  }
  const held = new Map(manifest.runs.map((r) => [r.runId, r]));
  for (const [runId, rows] of byRun)
    if (!held.has(runId))
      problem(c, path, `line ${rows[0]?.line ?? 0} names run ${runId}, which is not in the package`);
  for (const run of manifest.runs) {
    const summaryPath = `${runFolder(run)}${ARTIFACTS.installSummary.path}`;
    const summary = c.texts.get(summaryPath);
    const rows = byRun.get(run.runId) ?? [];
    if (summary === undefined) {
      if (rows.length > 0 && !c.entries.has(summaryPath))
        problem(c, path, `line ${rows[0]?.line ?? 0}: run ${run.runId} has no sealed install-summary.jsonl`);
      continue;
    }
    const sha = c.entries.get(summaryPath)?.sha256 ?? "";
    const expected: string[] = [];
    for (const [i, line] of summary.split("\n").entries()) {
      if (line === "") continue;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // the summary itself is reported by its schema and proof checks
      }
      expected.push(
        canonicalJson({
          tenant: manifest.tenant,
          client: run.client,
          device: run.device,
          runId: run.runId,
          updateId: o.updateId,
          ...(typeof o.kb === "string" && o.kb !== "" ? { kb: o.kb } : {}),
          title: o.title,
          installed: o.installed,
          result: o.result,
          finishedAt: o.finishedAt,
          artifactPath: ARTIFACTS.installSummary.path,
          artifactSha256: sha,
          line: i + 1,
        }),
      );
    }
    const want = new Set(expected);
    for (const r of rows)
      if (!want.has(r.row))
        problem(c, path, `line ${r.line} is not an outcome of run ${run.runId}'s sealed install-summary.jsonl`);
    const got = new Set(rows.map((r) => r.row));
    const absent = expected.filter((e) => !got.has(e)).length;
    if (absent > 0)
      problem(c, path, `${absent} outcome(s) of run ${run.runId}'s sealed install-summary.jsonl have no row`);
  }
}

/** Opens a signed checkpoint with the trusted keys; a problem (and undefined) when it does not verify or parse. */
function openCheckpoint(
  c: Collected,
  path: string,
  note: string,
  verifiers: readonly NoteVerifier[],
): Checkpoint | undefined {
  const opened = openNote(note, verifiers);
  if (!opened.ok) {
    problem(c, path, `is not a checkpoint signed by the log's key: ${opened.problem}`);
    return undefined;
  }
  try {
    return parseCheckpoint(opened.text);
  } catch (error) {
    problem(c, path, `is not a checkpoint: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * The anchor: the signed checkpoint (with the given key, else the package's own), every receipt of the log up to it
 * (their RFC 6962 root must be the checkpoint's), each packaged run's receipt among them, every logged run in the
 * export's scope in the package, the consistency proof to the latest checkpoint, and a given checkpoint consistent
 * with the package's.
 */
function checkLog(c: Collected, manifest: PackageManifest, options: VerifyPackageOptions): PackageAnchor | undefined {
  const cpPath = PACKAGE_FILES.checkpoint;
  const receiptsPath = PACKAGE_FILES.receipts;
  const end = Number.MAX_SAFE_INTEGER - 1;
  const runReceipts = manifest.runs.filter((r) => c.entries.has(`${runFolder(r)}${ARTIFACTS.receipt.path}`));
  if (!c.entries.has(cpPath)) {
    if (runReceipts.length > 0 || options.checkpoint !== undefined || options.key !== undefined)
      problem(
        c,
        cpPath,
        "missing: the package carries no signed checkpoint of the tenant's log; its runs are not anchored",
        end,
      );
    return undefined;
  }
  let key: NoteVerifier;
  const keyText = options.key ?? c.texts.get(PACKAGE_FILES.logKey);
  try {
    if (keyText === undefined) throw new Error("missing from the package");
    key = parseVerifierKey(keyText);
  } catch (error) {
    problem(
      c,
      options.key === undefined ? PACKAGE_FILES.logKey : "--key",
      `is not a verifier key: ${(error as Error).message}`,
      end,
    );
    return undefined;
  }
  const cp = openCheckpoint(c, cpPath, c.texts.get(cpPath) ?? "", [key]);
  if (cp === undefined) return undefined;
  if (!cp.origin.endsWith(`/${manifest.tenant}`))
    problem(c, cpPath, `is a checkpoint of ${cp.origin}, not of ${manifest.tenant}'s log`);

  // Every receipt up to the checkpoint, hashed as the log hashed them.
  const lines = (c.texts.get(receiptsPath) ?? "").split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (!c.entries.has(receiptsPath)) problem(c, receiptsPath, "missing: the log's receipts cannot be checked", end);
  else if (lines.length !== cp.size)
    problem(c, receiptsPath, `holds ${lines.length} receipts, the checkpoint's tree has ${cp.size}`);
  else if (!merkleRootFromLeafHashes(lines.map((l) => hashLeaf(Buffer.from(l, "utf8")))).equals(cp.root))
    problem(c, receiptsPath, "its receipts do not hash to the checkpoint's root (RFC 6962)");
  const logged = new Map(lines.map((l, i) => [l, i]));

  // Each packaged run's receipt is a leaf of the signed tree.
  for (const run of runReceipts) {
    const path = `${runFolder(run)}${ARTIFACTS.receipt.path}`;
    const text = c.texts.get(path);
    if (text !== undefined && !logged.has(text))
      problem(
        c,
        path,
        `is not a receipt of the tenant's transparency log (checkpoint size ${cp.size}): the run was changed after it was logged`,
      );
  }

  // Every logged run in the export's scope is in the package.
  const held = new Set(manifest.runs.map((r) => `${r.client}/${r.device}/${r.runId}`));
  const { from, to, clients, devices } = manifest.scope;
  const order = c.entries.get(receiptsPath)?.order ?? end;
  for (const [i, line] of lines.entries()) {
    const parsedReceipt = RunReceiptSchema.safeParse(safeJson(line));
    if (!parsedReceipt.success) {
      problem(c, receiptsPath, `line ${i + 1} is not a run receipt`);
      continue;
    }
    const r = parsedReceipt.data;
    const started = Date.parse(r.startedAt);
    const inScope =
      r.tenant === manifest.tenant &&
      started >= Date.parse(from) &&
      started < Date.parse(to) &&
      (clients === undefined || clients.includes(r.client)) &&
      (devices === undefined || devices.includes(r.device));
    if (inScope && !held.has(`${r.client}/${r.device}/${r.runId}`))
      problem(
        c,
        runFolder(r),
        `is in the tenant's log (leaf ${i}) and in the export's scope, but not in the package`,
        order,
      );
  }

  // The latest checkpoint when the package was finished, consistent with the one it was built against.
  const consistency = parsed<PackageConsistency>(c, PACKAGE_FILES.consistency, PackageConsistencySchema, end);
  let latest: Checkpoint | undefined;
  if (consistency !== undefined) {
    latest = openCheckpoint(c, PACKAGE_FILES.consistency, consistency.latest, [key]);
    if (latest !== undefined && !provesConsistency(cp, latest, consistency.proof))
      problem(
        c,
        PACKAGE_FILES.consistency,
        `does not prove checkpoint size ${cp.size} consistent with size ${latest.size}`,
      );
  }

  // A checkpoint obtained outside the package: the same tree, a prefix of it, or (with the proof) its extension.
  let givenCheckpointSize: number | undefined;
  if (options.checkpoint !== undefined) {
    const given = openCheckpoint(c, "--checkpoint", options.checkpoint, [key]);
    if (given !== undefined) {
      givenCheckpointSize = given.size;
      const leafHashes = lines.map((l) => hashLeaf(Buffer.from(l, "utf8")));
      if (given.origin !== cp.origin)
        problem(c, "--checkpoint", `is of log ${given.origin}, the package's is ${cp.origin}`);
      else if (given.size <= cp.size) {
        if (!merkleRootFromLeafHashes(leafHashes.slice(0, given.size)).equals(given.root))
          problem(
            c,
            "--checkpoint",
            `its tree of ${given.size} is not a prefix of the package's log: the log was rewritten`,
          );
      } else if (latest === undefined || latest.size !== given.size || !latest.root.equals(given.root)) {
        problem(
          c,
          "--checkpoint",
          `is newer (size ${given.size}) than the package's latest checkpoint; ask the API for the consistency proof`,
        );
      }
    }
  }
  return {
    origin: cp.origin,
    size: cp.size,
    root: cp.root.toString("hex"),
    keyFrom: options.key === undefined ? "package" : "given",
    key: formatVerifierKey(key),
    ...(givenCheckpointSize === undefined ? {} : { givenCheckpointSize }),
  };
}

function provesConsistency(from: Checkpoint, to: Checkpoint, proof: readonly string[]): boolean {
  return verifyConsistency(
    from.size,
    to.size,
    from.root,
    to.root,
    proof.map((h) => Buffer.from(h, "hex")),
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Human-readable result: on failure the first line names the first bad file; on success the roots to compare. */
export function formatPackageVerification(result: PackageVerification, name = "package"): string {
  const what = `${result.exportId === undefined ? "" : `export ${result.exportId} of ${result.tenant ?? "?"}: `}${result.runs} runs, ${result.artifacts} artifacts`;
  if (result.ok) {
    const a = result.anchor;
    return [
      `VERIFIED ${name}: ${what}; every file, index, Merkle proof, event chain, receipt and exit code holds.`,
      ...(a === undefined
        ? [
            "Not anchored (no transparency log in the package): compare these Merkle roots with those reported when the runs ended.",
          ]
        : [
            `Anchored: every receipt is in ${a.origin} at tree size ${a.size} (root ${a.root}), signed by ${a.key}` +
              (a.keyFrom === "given"
                ? " (the key given)."
                : " (the package's own key: pass --key with the key the API publishes, or this proves only self-consistency)."),
            ...(a.givenCheckpointSize === undefined
              ? []
              : [`The checkpoint given (size ${a.givenCheckpointSize}) is consistent with the package's.`]),
          ]),
      ...result.roots.map((r) => `  ${r.merkleRoot}  ${r.folder}`),
    ].join("\n");
  }
  const [first] = result.problems;
  return [
    `FAILED ${first?.path ?? name}: ${first?.problem ?? "not verified"}`,
    `${name}: ${what}; ${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}:`,
    ...result.problems.map((p) => `  ${p.path}: ${p.problem}`),
  ].join("\n");
}
