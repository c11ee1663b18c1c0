import { ARTIFACTS } from "../domain/artifacts";
import { DeploymentReportSchema, type DeploymentReport } from "../schemas/deployment";
import type { RunRef } from "../schemas/common";
import { canonicalJsonBytes } from "./canonicalJson";
import { openEvidenceSession, type EvidenceDeps } from "./evidenceSession";

/** File name of an emergency deployment's report. */
export const DEPLOYMENT_REPORT_FILE = "deployment-report.json";

/** The evidence folder's last level for a deployment (a run id in the run-scoped store's terms). */
export function deploymentFolder(deploymentId: string): string {
  return `deployment-${deploymentId}`;
}

// As window reports do (windowEvidence.ts): a deployment maps onto the run-scoped store's four levels under the
// client `_deployments`, which no client slug can be, so it gets the same write-once create and create-once index.
function deploymentScope(report: Pick<DeploymentReport, "tenant" | "deploymentId">): RunRef {
  return {
    tenant: report.tenant,
    client: "_deployments",
    device: report.deploymentId,
    runId: deploymentFolder(report.deploymentId),
  };
}

/**
 * Stores a deployment report as canonical JSON, write-once (a retry with identical bytes succeeds), indexed in the
 * Artifacts table under the deployment's folder; the path is `{tenant}/_deployments/{id}/deployment-{id}/…`.
 */
export async function putDeploymentReport(
  deps: EvidenceDeps,
  report: DeploymentReport,
): Promise<{ path: string; sha256: string }> {
  const parsed = DeploymentReportSchema.parse(report);
  const session = openEvidenceSession(deps, deploymentScope(parsed));
  const stored = await session.putBytes(DEPLOYMENT_REPORT_FILE, canonicalJsonBytes(parsed), ARTIFACTS.run.contentType);
  await session.index([{ ...stored, merkleLeaf: false }]);
  return { path: stored.blobName, sha256: stored.sha256 };
}
