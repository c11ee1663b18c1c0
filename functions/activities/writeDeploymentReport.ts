import { putDeploymentReport } from "../../lib/evidence/deploymentEvidence";
import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import { DeploymentReportSchema } from "../../lib/schemas/deployment";

/** Builds the activity that stores an emergency deployment's `deployment-report.json` as indexed, write-once evidence. */
export function makeWriteDeploymentReport(deps: { evidence: EvidenceDeps }) {
  return async function writeDeploymentReport(rawInput: unknown): Promise<{ path: string; sha256: string }> {
    return putDeploymentReport(deps.evidence, DeploymentReportSchema.parse(rawInput));
  };
}
