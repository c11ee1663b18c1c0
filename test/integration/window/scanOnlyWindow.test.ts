import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { runWindows, type WindowsSummary } from "../../../local/run/runWindows";
import { CatalogSchema } from "../../../lib/schemas/artifacts/catalog";
import { RunRecordSchema } from "../../../lib/schemas/artifacts/run";

// A scan-only window (mode "scan") over the demo fleet: every device is assessed (baseline, catalog) and its
// missing updates sealed, and the fleet emulator sees no install and no reboot script, and records no install.

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");

let stack: LocalStack;
let summary: WindowsSummary;
const scripts = new Map<string, string[]>();

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", httpPort: 0 });
  // Every window of the demo becomes a scan window, saved as the management API saves it.
  for (const window of await stack.deps.policies.listWindows()) {
    await stack.deps.policies.putWindow({ ...window, mode: "scan" });
  }
  // What each simulated server is asked to run, by the header every PatchPilot script starts with.
  for (const device of stack.fleet.devices) {
    const execute = device.execute.bind(device);
    device.execute = (request) => {
      const id = /# patchpilot-script: ([A-Za-z]+)@/.exec(request.script)?.[1] ?? "?";
      scripts.set(device.name, [...(scripts.get(device.name) ?? []), id]);
      return execute(request);
    };
  }
  summary = await runWindows(stack);
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

describe("scan-only window over the demo fleet", () => {
  it("installs nothing and reboots nothing: the emulator never ran an install or reboot script", () => {
    expect(summary.devices.length).toBeGreaterThan(10);
    for (const device of stack.fleet.devices) {
      expect({ device: device.name, installs: device.state.installRecords.length }).toEqual({
        device: device.name,
        installs: 0,
      });
      const ran = scripts.get(device.name) ?? [];
      expect({ device: device.name, ran: ran.filter((s) => s === "install" || s === "reboot") }).toEqual({
        device: device.name,
        ran: [],
      });
    }
    expect(summary.devices.every((d) => d.installed === 0)).toBe(true);
  });

  it("seals each reachable device's missing updates (catalog) in a verified run that ends 0", async () => {
    const sealed = summary.devices.filter((d) => d.status === "completed" && d.exitCode === 0);
    expect(sealed.length).toBeGreaterThan(5);
    expect(sealed.every((d) => d.verified === true)).toBe(true);
    let withMissing = 0;
    for (const d of sealed) {
      const ref = { tenant: d.tenant, client: d.client, device: d.device, runId: d.runId };
      const read = async (p: string): Promise<unknown> =>
        JSON.parse((await stack.deps.evidence.store.get(ref, p))?.toString("utf8") ?? "null");
      const run = RunRecordSchema.parse(await read("01-init/run.json"));
      expect(run.scanOnly).toBe(true);
      expect(scripts.get(d.device)).toEqual(expect.arrayContaining(["baseline", "catalog"]));
      const catalog = CatalogSchema.parse(await read("03-catalog/catalog.json"));
      if (catalog.updates.length > 0) withMissing += 1;
      // Nothing after the catalog exists: the scan stopped there by design.
      expect(await stack.deps.evidence.store.get(ref, "05-install/install-summary.jsonl")).toBeUndefined();
      expect(await stack.deps.evidence.store.get(ref, "06-reboot/reboot.json")).toBeUndefined();
    }
    expect(withMissing).toBeGreaterThan(0);
  });
});

describe("compliance report after the scan", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = any;
  const DAY = 86_400_000;
  const releaseDates = new Map<string, string>();

  beforeAll(() => {
    // Release dates as the scenario file (outside the code under test) gives them to the simulated devices.
    const scenario = JSON.parse(readFileSync(DEMO, "utf8")) as {
      updateSets: Record<string, { updates: { updateId: string; releaseDate?: string }[] }>;
    };
    for (const set of Object.values(scenario.updateSets))
      for (const u of set.updates) if (u.releaseDate !== undefined) releaseDates.set(u.updateId, u.releaseDate);
  });

  it("shows SLA breaches with their ages and the devices that could not be assessed as unknown; sealed CSV + HTML", async () => {
    const key = (await stack.deps.apiKeys.issue("contoso-msp", { name: "aud", roles: ["Auditor"] }, stack.host.now()))
      .key;
    const today = stack.host.now().toISOString().slice(0, 10);
    const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
    const response = await fetch(
      `${stack.host.httpBaseUrl}/api/v1/tenants/contoso-msp/clients/adatum/compliance-reports`,
      {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ from: yesterday, to: today, sla: { Critical: 3, Important: 30 } }),
      },
    );
    expect(response.status).toBe(201);
    const body = (await response.json()) as Json;
    const report = body.report;
    const adatum = summary.devices.filter((d) => d.tenant === "contoso-msp" && d.client === "adatum");
    expect(report.summary.devices).toBeGreaterThanOrEqual(adatum.length);
    const periodEnd = Date.parse(`${today}T00:00:00Z`) + DAY - 1;
    let breaches = 0;
    for (const device of report.devices) {
      for (const m of device.missing) {
        const released = releaseDates.get(m.updateId);
        if (released === undefined) continue;
        expect(m.ageDays).toBe(Math.floor((periodEnd - Date.parse(released)) / DAY));
        expect(m.breached).toBe(m.ageDays > m.slaDays);
        if (m.breached) breaches += 1;
      }
      if (device.missing.some((m: Json) => m.breached)) expect(device.status).toBe("noncompliant");
    }
    expect(breaches).toBeGreaterThan(0);
    expect(report.summary.breachesBySeverity.Critical).toBeGreaterThan(0);
    // A device the scan could not assess is unknown, and unknown is never compliant: ADT-PRINT01's scan found its
    // lock held by another run (170: nothing ran on it), so it has no catalog in the period.
    const print = adatum.find((d) => d.device === "ADT-PRINT01");
    expect(print?.exitCode).toBe(170);
    expect(report.devices.find((d: Json) => d.device === "ADT-PRINT01")).toMatchObject({
      status: "unknown",
      missing: [],
    });
    expect(report.summary.unknown).toBeGreaterThanOrEqual(1);
    // Before the scan (yesterday) nothing was assessed: every device is unknown that day, 0% compliant, not "no data".
    expect(report.trend[0]).toMatchObject({
      day: yesterday,
      unknown: report.summary.devices,
      compliant: 0,
      percent: 0,
    });
    expect(report.summary.compliant + report.summary.noncompliant + report.summary.unknown).toBe(
      report.summary.devices,
    );
    expect(report.summary.percent).toBe(Math.floor((1000 * report.summary.compliant) / report.summary.devices) / 10);

    // Sealed: each file is served back only if it hashes to what the report answered.
    for (const file of body.files as { path: string; sha256: string; href: string }[]) {
      const got = await fetch(`${stack.host.httpBaseUrl}${file.href}`, { headers: { "x-api-key": key } });
      expect(got.status).toBe(200);
      const bytes = Buffer.from(await got.arrayBuffer());
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(file.sha256);
      if (file.path === "report.csv") {
        const lines = bytes.toString("utf8").trimEnd().split("\r\n");
        expect(lines[0]).toBe(
          "tenant,client,device,status,lastAssessedAt,runId,updateId,kb,title,severity,since,ageDays,slaDays,breached,decision",
        );
        expect(lines.some((l) => l.includes(",noncompliant,") && l.endsWith(",true,approved"))).toBe(true);
      }
      if (file.path === "report.html") expect(bytes.toString("utf8")).toContain("never counted as compliant");
    }
  });
});
