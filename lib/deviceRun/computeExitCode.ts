import { ARTIFACTS, PHASES, type ArtifactKey } from "../domain/artifacts";
import { decideExitCode, type ExitCodeEvidence, type Reading } from "../domain/exitCode/decideExitCode";
import { sortByPath } from "../evidence/seal";
import {
  openEvidenceSession,
  type EvidenceDeps,
  type EvidenceSession,
  type VerifiedReading,
} from "../evidence/evidenceSession";
import type { ExitCode, ExitCodeName, ExitCodeRecord } from "../schemas/artifacts/outcome";
import type { RunRef } from "../schemas/common";

/** What the decision is about; `decidedAt` comes from the orchestrator, so a retry writes the same bytes. */
export interface ComputeExitCodeInput {
  run: RunRef;
  decidedAt: string;
}

/** Options of {@link computeExitCode}. */
export interface ComputeExitCodeOptions {
  /** False: leave the Runs row to the caller, which records the code in its one update (finishRun). */
  statusRow?: boolean;
}

/** What the decision returns: a summary and a reference, never the artifacts. */
export interface ComputeExitCodeResult {
  exitCode: ExitCode;
  name: ExitCodeName;
  rule: string;
  path: string;
  sha256: string;
}

function toReading<T>(r: VerifiedReading | undefined): Reading<T> {
  if (r === undefined) return { status: "missing" };
  if (r.read.status === "verified") return { status: "verified", value: r.value as T };
  return { status: r.read.status, ...(r.read.problem ? { problem: r.read.problem } : {}) };
}

/**
 * Computes a run's exit code from its stored evidence (inside the finishDeviceRun activity, after the seal): reads
 * every indexed artifact back, verifies it against the index and the seal, applies DESIGN.md's rules, and writes
 * `exit-code.json` (then indexes it through the session, which may defer it, and records the code on the run unless
 * the caller does).
 */
export async function computeExitCode(
  deps: EvidenceDeps,
  { run, decidedAt }: ComputeExitCodeInput,
  // finishRun passes its session, so the report reads what the decision read (verified once).
  session: EvidenceSession = openEvidenceSession(deps, run),
  options: ComputeExitCodeOptions = {},
): Promise<ComputeExitCodeResult> {
  // The report phase's own outputs are not inputs: a retried decision must read exactly what the first read.
  // Raw transcripts decide nothing (the parsed artifacts and failure records do) and are the bulk of a run's
  // blobs; their hashes are sealed in the Merkle tree and `verifyRun` re-checks them for auditors.
  const back = await session.readAll({
    skip: (p) => p.startsWith(`${PHASES.report}/`) || p.includes("/transcripts/"),
  });
  const get = (key: ArtifactKey) => back.readings.get(ARTIFACTS[key].path);
  const failure = (folder: string) => back.readings.get(`${folder}/failure.json`);

  const manifest = toReading<unknown>(get("manifest"));
  const evidence: ExitCodeEvidence = {
    run: toReading(get("run")),
    lockContention: toReading(get("lockContention")),
    baseline: toReading(get("baseline")),
    preValidation: toReading(get("preValidation")),
    gates: toReading(get("gates")),
    hooksPreInstall: toReading(get("hooksPreInstall")),
    catalog: toReading(get("catalog")),
    diskSnapshots: toReading(get("diskSnapshots")),
    installSummary: toReading(get("installSummary")),
    installFailure: toReading(failure(PHASES.install)),
    reboot: toReading(get("reboot")),
    snapshot: toReading(get("snapshot")),
    baselineDiff: toReading(get("baselineDiff")),
    postValidation: toReading(get("postValidation")),
    regressions: toReading(get("regressions")),
    diagnostics: toReading(get("diagnostics")),
    diagnosticsFailure: toReading(failure(PHASES.diagnostics)),
    events: toReading(get("events")),
    remediation: toReading(get("remediation")),
    remediationEvidence: Object.fromEntries(
      (["uninstall", "remediationValidation", "remediationRegressions"] as const).map((k) => [
        ARTIFACTS[k].path,
        toReading(get(k)),
      ]),
    ),
    artifactIndex: toReading(get("artifactIndex")),
    manifest:
      manifest.status === "verified" && back.sealProblems.length > 0
        ? { status: "hash-mismatch", problem: back.sealProblems.join("; ") }
        : manifest,
    otherFailures: Object.fromEntries(
      Object.values(PHASES)
        .filter((f) => f !== PHASES.install && f !== PHASES.diagnostics && back.readings.has(`${f}/failure.json`))
        .map((f) => [f, toReading(failure(f))]),
    ),
    otherIntegrityProblems: [...back.readings.values()]
      .map((r) => r.read)
      .filter((r) => !Object.values(ARTIFACTS).some((a) => a.path === r.path) && !r.path.endsWith("/failure.json"))
      .filter((r) => r.status !== "verified"),
  };
  const decision = decideExitCode(evidence);

  const record: ExitCodeRecord = {
    schemaVersion: 1,
    run,
    ...decision,
    decidedAt,
    ...(back.manifest ? { merkleRoot: back.manifest.merkle.root } : {}),
    artifactsRead: sortByPath(
      [...back.readings.values()]
        .map((r) => r.read)
        .filter((r) => r.status !== "missing" || r.indexedSha256 !== undefined || isExpected(r.path)),
    ),
  };
  const stored = await session.put(ARTIFACTS.exitCode, record);
  await session.index([{ ...stored, merkleLeaf: false }]);
  if (options.statusRow ?? true)
    await deps.index.upsertRun(run, {
      status: "completed",
      exitCode: decision.exitCode,
      exitCodeName: decision.name,
      exitCodeSha256: stored.sha256,
    });
  return {
    exitCode: decision.exitCode,
    name: decision.name,
    rule: decision.rule,
    path: stored.path,
    sha256: stored.sha256,
  };
}

// Artifacts whose absence is itself information (lock contention is absent in a normal run, and that is fine,
// but run.json or the summary being absent is what a 240 is about).
function isExpected(path: string): boolean {
  return (
    path !== ARTIFACTS.lockContention.path && path !== ARTIFACTS.finalReport.path && path !== ARTIFACTS.reportHtml.path
  );
}
