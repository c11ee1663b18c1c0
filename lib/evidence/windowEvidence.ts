import { ARTIFACTS } from "../domain/artifacts";
import { WindowReportSchema, type WindowReport } from "../schemas/window";
import type { RunRef } from "../schemas/common";
import { canonicalJsonBytes } from "./canonicalJson";
import { openEvidenceSession, type EvidenceDeps } from "./evidenceSession";

/** File name of a window occurrence's report. */
export const WINDOW_REPORT_FILE = "window-report.json";

/** Blob folder of a window occurrence's evidence: `{tenant}/_windows/{windowId}/{instanceId}/`. */
export function windowPrefix(report: Pick<WindowReport, "tenant" | "windowId" | "occurrence">): string {
  return `${report.tenant}/_windows/${report.windowId}/${report.occurrence.instanceId}/`;
}

// The run-scoped store and index address `{tenant}/{client}/{device}/{runId}/` with the run id as the index
// partition; a window occurrence maps onto the same four levels (client `_windows`, which no client slug can be), so
// window evidence gets the same write-once create and the same create-once index rows without a second code path.
function windowScope(report: WindowReport): RunRef {
  return { tenant: report.tenant, client: "_windows", device: report.windowId, runId: report.occurrence.instanceId };
}

/**
 * Stores a window report as canonical JSON (write-once: a retry with identical bytes succeeds, different bytes are
 * an EvidenceConflictError) and indexes it in the Artifacts table under the occurrence's instance id.
 */
export async function putWindowReport(
  deps: EvidenceDeps,
  report: WindowReport,
): Promise<{ path: string; sha256: string }> {
  const parsed = WindowReportSchema.parse(report);
  const session = openEvidenceSession(deps, windowScope(parsed));
  const stored = await session.putBytes(WINDOW_REPORT_FILE, canonicalJsonBytes(parsed), ARTIFACTS.run.contentType);
  await session.index([{ ...stored, merkleLeaf: false }]);
  return { path: stored.blobName, sha256: stored.sha256 };
}
