import { ARTIFACTS, failurePath } from "../domain/artifacts";
import type { ArtifactRead } from "../schemas/artifacts/outcome";
import type { RunRef } from "../schemas/common";
import { openEvidenceSession, type EvidenceDeps, type VerifiedReading } from "./evidenceSession";
import { sortByPath } from "./seal";

/** Per-artifact and whole-run result of re-verifying a run. */
export interface VerificationReport {
  run: RunRef;
  ok: boolean;
  merkleRoot?: string;
  eventsChainHead?: string;
  /** Every indexed artifact (and every expected one that is absent), with what was found. */
  artifacts: ArtifactRead[];
  seal: { ok: boolean; problems: string[] };
  /** Blobs stored under the run's folder that the index does not list (reported, not counted as failures). */
  unindexed: string[];
}

// Present in every sealed run; their absence is a failure. Others (lock contention, failure records, the report's
// outputs) exist only in some runs.
const ALWAYS_EXPECTED: readonly string[] = [
  ARTIFACTS.run,
  ARTIFACTS.events,
  ARTIFACTS.artifactIndex,
  ARTIFACTS.manifest,
].map((a) => a.path);

/**
 * The reads a verification report lists, sorted by path: every indexed artifact and every expected one that is
 * absent. A run refused in phase 01 (its policy) has no run.json by design; its verified failure record says why.
 * Shared with the export's streamed check (lib/export/runCheck.ts), so both apply the same expectations.
 */
export function reportedArtifacts(readings: ReadonlyMap<string, VerifiedReading>): ArtifactRead[] {
  const initFailed = readings.get(failurePath("init"))?.read.status === "verified";
  const expected = initFailed ? ALWAYS_EXPECTED.filter((p) => p !== ARTIFACTS.run.path) : ALWAYS_EXPECTED;
  return sortByPath(
    [...readings.values()]
      .map((r) => r.read)
      .filter((r) => r.status !== "missing" || r.indexedSha256 !== undefined || expected.includes(r.path)),
  );
}

/**
 * Re-reads every artifact of a run, recomputes its SHA-256, compares it with the index, and checks the manifest's
 * Merkle root and the event chain. `ok` is false on any mismatch.
 */
export async function verifyRun(deps: EvidenceDeps, run: RunRef): Promise<VerificationReport> {
  const session = openEvidenceSession(deps, run);
  const back = await session.readAll();
  const artifacts = reportedArtifacts(back.readings);
  const unindexed = (await session.storedPaths()).filter((path) => !back.rows.has(path));
  const sealOk = back.manifest !== undefined && back.sealProblems.length === 0;
  return {
    run,
    ok: sealOk && artifacts.every((a) => a.status === "verified"),
    ...(back.manifest
      ? { merkleRoot: back.manifest.merkle.root, eventsChainHead: back.manifest.events.chainHead }
      : {}),
    artifacts,
    seal: { ok: sealOk, problems: back.manifest ? back.sealProblems : ["no verified manifest.json"] },
    unindexed,
  };
}

/** Human-readable report, one line per artifact. */
export function formatVerificationReport(report: VerificationReport): string {
  const lines = [
    `run ${report.run.tenant}/${report.run.client}/${report.run.device}/${report.run.runId}: ${report.ok ? "VERIFIED" : "FAILED"}`,
  ];
  if (report.merkleRoot) lines.push(`  merkle root       ${report.merkleRoot}`);
  if (report.eventsChainHead) lines.push(`  event chain head  ${report.eventsChainHead}`);
  for (const a of report.artifacts) {
    const mark = a.status === "verified" ? "ok " : "BAD";
    lines.push(`  [${mark}] ${a.path.padEnd(44)} ${a.status}${a.problem ? `: ${a.problem}` : ""}`);
    if (a.status === "hash-mismatch" && a.actualSha256)
      lines.push(`        indexed ${a.indexedSha256}\n        actual  ${a.actualSha256}`);
  }
  lines.push(`  seal: ${report.seal.ok ? "ok" : report.seal.problems.join("; ")}`);
  for (const u of report.unindexed) lines.push(`  [warn] ${u} is stored but not indexed`);
  return lines.join("\n");
}
