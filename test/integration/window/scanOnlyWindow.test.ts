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
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual" });
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
