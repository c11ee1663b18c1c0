import { isWindowError } from "../../domain/window/rateControl";
import type { DeploymentReport } from "../../schemas/deployment";
import { eventSource } from "./buildEvents";
import type { PatchCloudEvent } from "./eventData";

/** CloudEvents types of an emergency deployment. */
export const DEPLOYMENT_EVENT_TYPES = {
  /** Every deployment, once it has ended (its report written). */
  completed: "io.patchpilot.deployment.completed",
  /** It stopped starting devices on its own (maxErrors, cutoff): some targets were not patched. */
  halted: "io.patchpilot.deployment.halted",
  /** An operator cancelled it: the devices not started are listed as cancelled. */
  cancelled: "io.patchpilot.deployment.cancelled",
} as const;

/** `dataschema` of deployment events. */
export const DEPLOYMENT_EVENT_DATASCHEMA = "urn:patchpilot:events:deployment:v1";

/** Subject of a deployment's events. */
export function deploymentSubject(report: Pick<DeploymentReport, "tenant" | "deploymentId">): string {
  return `/tenants/${report.tenant}/deployments/${report.deploymentId}`;
}

/**
 * deployment.completed, plus deployment.halted or deployment.cancelled when it stopped early. Ids derive from the
 * deployment and the type (a retried publish sends the same ids); the time is the report's.
 */
export function buildDeploymentEvents(
  report: DeploymentReport,
  stored: { path: string; sha256: string },
): PatchCloudEvent[] {
  const types: string[] = [DEPLOYMENT_EVENT_TYPES.completed];
  if (report.stop?.kind === "cancelled") types.push(DEPLOYMENT_EVENT_TYPES.cancelled);
  else if (report.stop !== undefined) types.push(DEPLOYMENT_EVENT_TYPES.halted);
  const failed = report.outcomes.filter(
    (o) =>
      o.status === "orchestration-failed" ||
      (o.status === "completed" && o.result !== undefined && isWindowError(o.result.exitCode)),
  ).length;
  const data = {
    schemaVersion: 1,
    tenant: report.tenant,
    deploymentId: report.deploymentId,
    requestedBy: report.deployment.requestedBy,
    kbs: report.deployment.kbs,
    packages: report.deployment.packages,
    finishedAt: report.finishedAt,
    ...(report.stop === undefined ? {} : { stop: report.stop }),
    totals: { ...report.totals, failed },
    control: report.control ?? [],
    report: stored,
  };
  return types.map((type) => ({
    specversion: "1.0",
    id: `${report.tenant}/deployment-${report.deploymentId}/${type.replace(/^io\.patchpilot\./, "")}`,
    source: eventSource(report.tenant),
    type,
    subject: deploymentSubject(report),
    time: report.finishedAt,
    datacontenttype: "application/json",
    dataschema: DEPLOYMENT_EVENT_DATASCHEMA,
    data,
  }));
}
