import { ARTIFACTS } from "../domain/artifacts";
import { buildFinalReport } from "../domain/report/buildFinalReport";
import { renderReportHtml } from "../domain/report/renderReportHtml";
import { putArtifact, readVerified, type EvidenceDeps } from "../evidence/runEvidence";
import type { Catalog, InstallOutcome, RebootRecord } from "../schemas/artifacts/catalog";
import type { ArtifactIndex, Manifest, RunEvent } from "../schemas/artifacts/integrity";
import type { ExitCodeRecord } from "../schemas/artifacts/outcome";
import type { RunRecord } from "../schemas/artifacts/run";
import type { BaselineDiff } from "../schemas/artifacts/snapshot";
import type { Regressions, ValidationReport } from "../schemas/artifacts/validation";
import type { RunRef } from "../schemas/common";

async function readBack<T>(
  evidence: EvidenceDeps,
  run: RunRef,
  rows: Awaited<ReturnType<EvidenceDeps["index"]["readArtifacts"]>>,
  key: keyof typeof ARTIFACTS,
): Promise<T | undefined> {
  const spec = ARTIFACTS[key];
  const row = rows.get(spec.path);
  if (row === undefined) return undefined;
  const reading = await readVerified(evidence, run, spec, row);
  return reading.read.status === "verified" ? (reading.value as T) : undefined;
}

/** Phase 11's report: final-report.json and report.html from the verified artifacts, stored and indexed. */
export async function writeReport(evidence: EvidenceDeps, run: RunRef, generatedAt: string) {
  const rows = await evidence.index.readArtifacts(run.runId);
  const [exitCode, manifest, artifactIndex, catalog, installs, regressions, reboot] = await Promise.all([
    readBack<ExitCodeRecord>(evidence, run, rows, "exitCode"),
    readBack<Manifest>(evidence, run, rows, "manifest"),
    readBack<ArtifactIndex>(evidence, run, rows, "artifactIndex"),
    readBack<Catalog>(evidence, run, rows, "catalog"),
    readBack<InstallOutcome[]>(evidence, run, rows, "installSummary"),
    readBack<Regressions>(evidence, run, rows, "regressions"),
    readBack<RebootRecord>(evidence, run, rows, "reboot"),
  ]);
  // Only for the HTML: absent or unverified ones are shown as "not available" there, never guessed.
  const [runRecord, preValidation, postValidation, baselineDiff, events] = await Promise.all([
    readBack<RunRecord>(evidence, run, rows, "run"),
    readBack<ValidationReport>(evidence, run, rows, "preValidation"),
    readBack<ValidationReport>(evidence, run, rows, "postValidation"),
    readBack<BaselineDiff>(evidence, run, rows, "baselineDiff"),
    readBack<RunEvent[]>(evidence, run, rows, "events"),
  ]);
  const exitCodeSha256 = rows.get(ARTIFACTS.exitCode.path)?.sha256;
  if (exitCode === undefined || manifest === undefined || artifactIndex === undefined || exitCodeSha256 === undefined) {
    throw new Error(`run ${run.runId}: the exit code or the seal cannot be read back verified; no report is written`);
  }
  const report = buildFinalReport({
    exitCode,
    exitCodeSha256,
    manifest,
    artifactIndex,
    ...(catalog === undefined ? {} : { catalog }),
    ...(installs === undefined ? {} : { installs }),
    ...(regressions === undefined ? {} : { regressions }),
    ...(reboot === undefined ? {} : { reboot }),
    generatedAt,
  });
  const json = await putArtifact(evidence, run, ARTIFACTS.finalReport, report);
  const html = await putArtifact(
    evidence,
    run,
    ARTIFACTS.reportHtml,
    renderReportHtml({
      report,
      artifactIndex: artifactIndex.entries,
      runRecord,
      installs,
      regressions,
      preValidation,
      postValidation,
      baselineDiff,
      events,
      reboot,
    }),
  );
  await evidence.index.indexArtifacts(run, [
    { ...json, merkleLeaf: false },
    { ...html, merkleLeaf: false },
  ]);
  return { report, manifest };
}
