import { ARTIFACTS } from "../domain/artifacts";
import { openEvidenceSession } from "../evidence/evidenceSession";
import { runPrefix } from "../evidence/keys";
import type { EvidenceDeps } from "../evidence/runEvidence";
import type { ExitCodeRecord, FinalReport } from "../schemas/artifacts/outcome";
import type { RunRef } from "../schemas/common";
import type { DeviceRunResult } from "../schemas/deviceRun";

/**
 * The result of a run that is already sealed, read back from its verified exit code and final report; undefined when
 * the run is not sealed (or its decision does not verify: then the caller seals as usual and a conflict shows it).
 *
 * Why (issue 22): the advance that ends a run seals it in the same call. If that call's answer is lost and its retries
 * run out, the orchestrator's failure path would seal the run a second time with different events (a write-once
 * conflict) and run hooks after the seal. A sealed run is final: the failure path and finishDeviceRun return what it
 * says instead. One Runs-row read on those rare paths only.
 */
export async function sealedResult(evidence: EvidenceDeps, run: RunRef): Promise<DeviceRunResult | undefined> {
  const row = await evidence.index.getRun(run.tenant, run.client, run.runId);
  if (row?.status !== "completed") return undefined;
  const session = openEvidenceSession(evidence, run);
  const decision = await session.value<ExitCodeRecord>(ARTIFACTS.exitCode);
  const report = await session.value<FinalReport>(ARTIFACTS.finalReport);
  if (decision === undefined || report === undefined) return undefined;
  return runResultOf(run, decision, report, decision.merkleRoot);
}

/** A sealed run's result, from its exit-code decision and final report (the verified evidence, not orchestration state). */
export function runResultOf(
  run: RunRef,
  decision: Pick<ExitCodeRecord, "exitCode" | "name">,
  report: Pick<FinalReport, "updates" | "regressions">,
  merkleRoot: string | undefined,
): DeviceRunResult {
  return {
    run,
    exitCode: decision.exitCode,
    exitName: decision.name,
    counts: {
      approved: report.updates.approved,
      installed: report.updates.installed,
      failed: report.updates.failed,
      regressions: report.regressions,
    },
    ...(merkleRoot === undefined ? {} : { merkleRoot }),
    evidencePrefix: runPrefix(run),
  };
}
