import { apiPath } from "./apiRoute";

/** Host-relative links of a run's resources (RMM scripts and the status body use the same ones). */
export function runLinks(tenant: string, runId: string): { self: string; verify: string; evidence: string } {
  const self = apiPath(`tenants/${tenant}/runs/${runId}`);
  return { self, verify: `${self}/verify`, evidence: `${self}/artifacts/` };
}

/** Host-relative link of one artifact of a run. */
export function artifactLink(tenant: string, runId: string, path: string): string {
  return `${runLinks(tenant, runId).evidence}${path}`;
}
