import type { LocalStack } from "./localStack";
import type { DeviceSummary } from "./runWindows";

/**
 * Issues one demo API key per tenant (Operator + Auditor) and returns ready-to-paste requests against the local HTTP
 * front: the audit proof for an update the demo really installed, a run started from an RMM tool, the OpenAPI
 * document. Keys are printed because this is a throwaway local stack; in Azure a key is shown once to its owner.
 */
export async function apiExamples(stack: LocalStack, devices: readonly DeviceSummary[]): Promise<string[]> {
  const base = stack.host.httpBaseUrl;
  if (base === undefined) return [];
  const lines = [`  OpenAPI:                ${base}/api/v1/openapi.json`];
  const tenants = [...new Set(devices.map((d) => d.tenant))].sort();
  for (const tenant of tenants) {
    const { key } = await stack.deps.apiKeys.issue(
      tenant,
      { name: "demo", roles: ["Operator", "Auditor"] },
      stack.host.now(),
    );
    lines.push(`  API key for ${tenant} (Operator+Auditor): ${key}`);
    const done = devices.filter((d) => d.tenant === tenant && d.exitCode === 0);
    for (const device of done) {
      const installed = (await stack.deps.evidence.index.readInstalls(tenant, device.device)).find(
        (row) => row.installed && row.kb !== undefined,
      );
      if (installed === undefined) continue;
      const day = installed.finishedAt.slice(0, 10);
      lines.push(
        `    prove ${installed.kb} on ${device.device}: curl -s -H 'x-api-key: ${key}' '${base}/api/v1/tenants/${tenant}/devices/${device.device}/installs?kb=${installed.kb}&on=${day}'`,
      );
      lines.push(
        `    patch ${device.device} now:  curl -s -X POST -H 'x-api-key: ${key}' -H 'content-type: application/json' -d '{"client":"${device.client}","device":"${device.device}"}' '${base}/api/v1/tenants/${tenant}/runs'`,
      );
      break;
    }
  }
  return lines;
}
