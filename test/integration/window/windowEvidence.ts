import type { EvidenceDeps } from "../../../lib/evidence/runEvidence";
import { WindowReportSchema, type DeviceOutcome } from "../../../lib/schemas/window";

/** Every device outcome a window report lists (all rings, all clients), read back from the evidence store. */
export async function readWindowOutcomes(evidence: EvidenceDeps, reportPath: string): Promise<DeviceOutcome[]> {
  const bytes = await evidence.store.readBlob(reportPath);
  if (bytes === undefined) throw new Error(`window report ${reportPath} is missing`);
  const report = WindowReportSchema.parse(JSON.parse(bytes.toString("utf8")));
  return report.rings.flatMap((ring) => ring.rollouts.flatMap((rollout) => rollout.outcomes));
}
