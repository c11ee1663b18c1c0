import { readFileSync } from "node:fs";
import path from "node:path";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { runWindows, type WindowsSummary } from "../../../local/run/runWindows";
import { ComplianceReportSchema } from "../../../lib/compliance/complianceSchemas";

// The daily compliance timer on the local stack (the same timer definition Azure registers, fired by the local
// host as the Functions host fires it), after a scan of the demo fleet: one sealed report per client, the scanned
// devices assessed, and none more when the same tick fires again.

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const TIMER = "generateScheduledComplianceReports";
// Midday: the timer's next occurrence ("daily at 06:00 UTC") is the next morning, 2026-02-11T06:00Z, so its period
// is the 30 whole UTC days before that day: 2026-01-12 .. 2026-02-10 (worked out by hand, not by the code).
const START = new Date("2026-02-10T12:00:00Z");
const PERIOD = { from: "2026-01-12", to: "2026-02-10" };

let stack: LocalStack;
let summary: WindowsSummary;
// The clients and their devices as the scenario file (outside the code under test) defines them.
const scenario = JSON.parse(readFileSync(DEMO, "utf8")) as {
  clients: { tenant: string; client: string }[];
  devices: { name: string; tenant?: string; client?: string }[];
};

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", httpPort: 0, startTime: START });
  // Assess the fleet inside the period: every demo window as a scan window, run once now (2026-02-10).
  for (const window of await stack.deps.policies.listWindows()) {
    await stack.deps.policies.putWindow({ ...window, mode: "scan" });
  }
  summary = await runWindows(stack);
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

/** The report folders sealed for a client (`{tenant}/_compliance/{client}/{reportId}/…`), by report id. */
async function reportIds(tenant: string, client: string): Promise<string[]> {
  const names = await stack.deps.evidence.store.listBlobNames(`${tenant}/_compliance/${client}/`);
  return [...new Set(names.map((n) => n.split("/")[3] ?? ""))].sort();
}

describe("scheduled compliance reports", () => {
  const sealed = new Map<string, string[]>();

  it("seals one report per client for the last 30 UTC days: scanned devices assessed, the others unknown", async () => {
    // The scans ended inside the period (the report's last day), before the tick.
    expect(stack.host.now().getTime()).toBeLessThan(Date.parse("2026-02-11T00:00:00Z"));
    await stack.host.fireTimer(TIMER);
    let assessed = 0;
    for (const { tenant, client } of scenario.clients) {
      const ids = await reportIds(tenant, client);
      expect({ client, reports: ids.length }).toEqual({ client, reports: 1 });
      sealed.set(`${tenant}/${client}`, ids);
      const id = ids[0] ?? "";
      expect(id).toMatch(/^cr-20260210-[0-9a-f-]{36}$/);
      // Served through the management API's report route, which verifies it against its indexed SHA-256.
      const key = (await stack.deps.apiKeys.issue(tenant, { name: "aud", roles: ["Auditor"] }, stack.host.now())).key;
      const response = await fetch(
        `${stack.host.httpBaseUrl}/api/v1/tenants/${tenant}/clients/${client}/compliance-reports/${id}/report.json`,
        { headers: { "x-api-key": key } },
      );
      expect(response.status).toBe(200);
      const report = ComplianceReportSchema.parse(await response.json());
      expect({ tenant: report.tenant, client: report.client, from: report.from, to: report.to }).toEqual({
        tenant,
        client,
        ...PERIOD,
      });
      const devices = scenario.devices.filter((d) => d.tenant === tenant && d.client === client).map((d) => d.name);
      expect(devices.length).toBeGreaterThan(0);
      const listed = new Set(report.devices.map((d) => d.device));
      for (const name of devices)
        expect({ client, device: name, listed: listed.has(name) }).toMatchObject({ listed: true });
      // A device whose scan sealed a complete catalog is assessed; one with no run at all is unknown, never compliant.
      const runs = summary.devices.filter((d) => d.tenant === tenant && d.client === client);
      const scanned = new Set(runs.filter((d) => d.status === "completed" && d.exitCode === 0).map((d) => d.device));
      const ran = new Set(runs.map((d) => d.device));
      for (const d of report.devices) {
        if (scanned.has(d.device))
          expect({ device: d.device, status: d.status }).not.toMatchObject({ status: "unknown" });
        if (!ran.has(d.device))
          expect({ device: d.device, status: d.status }).toEqual({ device: d.device, status: "unknown" });
      }
      assessed += report.devices.filter((d) => d.status !== "unknown").length;
    }
    expect(assessed).toBeGreaterThan(5);
  });

  it("fired again for the same tick (a retry or a re-fire), seals no second report and changes nothing", async () => {
    const before = new Map<string, string[]>();
    for (const { tenant, client } of scenario.clients)
      before.set(
        `${tenant}/${client}`,
        (await stack.deps.evidence.store.listBlobNames(`${tenant}/_compliance/${client}/`)).sort(),
      );
    await stack.host.fireTimer(TIMER);
    for (const { tenant, client } of scenario.clients) {
      expect(await reportIds(tenant, client)).toEqual(sealed.get(`${tenant}/${client}`));
      expect((await stack.deps.evidence.store.listBlobNames(`${tenant}/_compliance/${client}/`)).sort()).toEqual(
        before.get(`${tenant}/${client}`),
      );
    }
  });
});
