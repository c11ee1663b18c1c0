import { ARTIFACTS } from "../domain/artifacts";
import { buildFinalReport } from "../domain/report/buildFinalReport";
import { renderReportHtml } from "../domain/report/renderReportHtml";
import type { EvidenceSession } from "../evidence/evidenceSession";
import type { Catalog, InstallOutcome, RebootRecord } from "../schemas/artifacts/catalog";
import type { ArtifactIndex, Manifest, RunEvent } from "../schemas/artifacts/integrity";
import type { ExitCodeRecord } from "../schemas/artifacts/outcome";
import type { RunRecord } from "../schemas/artifacts/run";
import type { BaselineDiff } from "../schemas/artifacts/snapshot";
import type { Regressions, ValidationReport } from "../schemas/artifacts/validation";
import type { RemediationRecord } from "../schemas/artifacts/remediation";

/** Phase 11's report: final-report.json and report.html from the verified artifacts, stored and indexed. */
export async function writeReport(session: EvidenceSession, generatedAt: string) {
  const { run } = session;
  const [exitCode, manifest, artifactIndex, catalog, installs, regressions, reboot] = await Promise.all([
    session.value<ExitCodeRecord>(ARTIFACTS.exitCode),
    session.value<Manifest>(ARTIFACTS.manifest),
    session.value<ArtifactIndex>(ARTIFACTS.artifactIndex),
    session.value<Catalog>(ARTIFACTS.catalog),
    session.value<InstallOutcome[]>(ARTIFACTS.installSummary),
    session.value<Regressions>(ARTIFACTS.regressions),
    session.value<RebootRecord>(ARTIFACTS.reboot),
  ]);
  // Only for the HTML: absent or unverified ones are shown as "not available" there, never guessed.
  const [runRecord, preValidation, postValidation, baselineDiff, events] = await Promise.all([
    session.value<RunRecord>(ARTIFACTS.run),
    session.value<ValidationReport>(ARTIFACTS.preValidation),
    session.value<ValidationReport>(ARTIFACTS.postValidation),
    session.value<BaselineDiff>(ARTIFACTS.baselineDiff),
    session.value<RunEvent[]>(ARTIFACTS.events),
  ]);
  const exitCodeRow = await session.lookup(ARTIFACTS.exitCode.path);
  const exitCodeSha256 = exitCodeRow.status === "found" ? exitCodeRow.row.sha256 : undefined;
  if (exitCode === undefined || manifest === undefined || artifactIndex === undefined || exitCodeSha256 === undefined) {
    throw new Error(`run ${run.runId}: the exit code or the seal cannot be read back verified; no report is written`);
  }
  // Issue 20: only runs that remediated a regression have one (read only when the sealed index lists it).
  const remediation = artifactIndex.entries.some((e) => e.path === ARTIFACTS.remediation.path)
    ? await session.value<RemediationRecord>(ARTIFACTS.remediation)
    : undefined;
  const report = buildFinalReport({
    exitCode,
    exitCodeSha256,
    manifest,
    artifactIndex,
    ...(catalog === undefined ? {} : { catalog }),
    ...(installs === undefined ? {} : { installs }),
    ...(regressions === undefined ? {} : { regressions }),
    ...(reboot === undefined ? {} : { reboot }),
    ...(remediation === undefined ? {} : { remediation }),
    generatedAt,
  });
  const json = await session.put(ARTIFACTS.finalReport, report);
  const html = await session.put(
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
  await session.index([
    { ...json, merkleLeaf: false },
    { ...html, merkleLeaf: false },
  ]);
  return { report, manifest };
}
