import path from "node:path";
import { listDevices } from "../../../lib/azure/inventory";
import { createRunCommands } from "../../../lib/azure/runCommands";
import { buildFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { testStorage, uniqueRunId } from "../../harness/storage";
import { ManualClock, startEmulator, type EmulatorUnderTest } from "./testFleet";

const clock = new ManualClock();
let env: EmulatorUnderTest;
let subscriptionIds: string[];

beforeAll(async () => {
  const fleet = buildFleet(readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json")), clock);
  subscriptionIds = [...new Set(fleet.devices.map((d) => d.placement.subscriptionId))];
  env = await startEmulator({ fleet, clock, arm: { latencyMs: 0, transientErrorRate: 0 } });
});
afterAll(async () => {
  await env.emulator.close();
});

describe("the demo scenario served by the emulator", () => {
  it("inventories every scenario device, Arc and VMSS, with the scenario's OS", async () => {
    const { devices, skipped } = await listDevices(env.arm, { subscriptionIds });
    expect(skipped).toEqual([]);
    expect(devices.length).toBeGreaterThanOrEqual(20);
    expect(new Set(devices.map((d) => d.kind))).toEqual(new Set(["arc", "vmss"]));
    expect(new Set(devices.map((d) => d.os))).toEqual(new Set(["windows", "linux"]));
  });

  it("runs a baseline script on a connected device through the scenario's simulated device", async () => {
    const { devices } = await listDevices(env.arm, { subscriptionIds });
    const device = devices.find((d) => d.status === "Connected");
    if (device === undefined) throw new Error("no connected device in the demo scenario");
    const runCommands = createRunCommands({ arm: env.arm, storage: await testStorage() });
    const handle = await runCommands.submit(device, {
      script: `${device.os === "linux" ? "#!/bin/bash\n" : ""}# patchpilot-script: baseline@1.0.0\n`,
      parameters: [],
      outputBlob: `demo/${device.name}/${uniqueRunId()}/02-baseline/1`,
      timeoutInSeconds: 3600,
    });
    clock.advance(3_600_000);
    const result = await runCommands.collect(handle);
    expect(result.terminal).toBe(true);
    expect(result.executionState).toBe("Succeeded");
    expect(result.stdout.length).toBeGreaterThan(0);
    await runCommands.delete(handle);
  });
});
