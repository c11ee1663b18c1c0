import { putWindowReport } from "../../lib/evidence/windowEvidence";
import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import { WindowReportSchema } from "../../lib/schemas/window";

/** Builds the activity that stores a window occurrence's `window-report.json` as indexed, write-once evidence. */
export function makeWriteWindowReport(deps: { evidence: EvidenceDeps }) {
  return async function writeWindowReport(rawInput: unknown): Promise<{ path: string; sha256: string }> {
    return putWindowReport(deps.evidence, WindowReportSchema.parse(rawInput));
  };
}
