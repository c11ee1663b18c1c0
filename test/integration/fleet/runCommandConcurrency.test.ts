import { RunCommandConflictError, RunCommandNotFoundError } from "../../../lib/azure/armErrors";
import type { DeviceRef } from "../../../lib/azure/deviceRef";
import { listDevices } from "../../../lib/azure/inventory";
import { createRunCommands, type RunCommands } from "../../../lib/azure/runCommands";
import { testStorage, uniqueRunId } from "../../harness/storage";
import { arcDevice, fleetOf, ManualClock, SUB_A, startEmulator, vmssDevice, type EmulatorUnderTest } from "./testFleet";

// The agents run one command at a time per machine. Azure answers an overlapping command with 409 Conflict and an
// ARM error body (`{"error":{"code":"Conflict","message":"Run command extension execution is in progress..."}}`, as
// reported publicly for VM run commands, e.g. Azure/azure-cli#32305); the emulator does the same and counts it.

const clock = new ManualClock(new Date("2025-06-01T02:00:00Z"));
const script = "# patchpilot-script: baseline@1.0.0\nWrite-Output 'hi'";

const busy = arcDevice("arc-busy", {});
const rmm = arcDevice("arc-rmm", {});
const vm = vmssDevice("vmss-one-0", "vmss-one", "0");

let env: EmulatorUnderTest;
let runCommands: RunCommands;
let devices: Map<string, DeviceRef>;

beforeAll(async () => {
  env = await startEmulator({
    fleet: {
      ...fleetOf(
        [busy, rmm, vm],
        [
          {
            name: "vmss-one",
            subscriptionId: SUB_A,
            resourceGroup: "rg-fabrikam",
            location: "northeurope",
            tags: {},
            os: "linux",
            instances: ["vmss-one-0"],
          },
        ],
      ),
      // An RMM's command, running for 10 minutes from now: foreign to PatchPilot.
      preexistingRunCommands: [
        {
          device: "arc-rmm",
          runCommandName: "rmm-inventory",
          script: "# rmm inventory\n",
          startedAt: clock.now(),
          durationMs: 10 * 60_000,
        },
      ],
    },
    clock,
  });
  runCommands = createRunCommands({ arm: env.arm, storage: await testStorage() });
  const inventory = await listDevices(env.arm, { subscriptionIds: [SUB_A] });
  devices = new Map(inventory.devices.map((d) => [d.name, d]));
});

afterAll(async () => {
  await env.emulator.close();
});

function submit(name: string) {
  const device = devices.get(name);
  if (device === undefined) throw new Error(`no device ${name}`);
  return runCommands.submit(device, {
    script,
    parameters: [],
    outputBlob: `t1/c1/${name}/${uniqueRunId()}/02-baseline/1`,
    timeoutInSeconds: 600,
  });
}

describe("one run command at a time per machine (fleet emulator)", () => {
  it("refuses a second command while one is in flight with 409 and an ARM error body, on Arc and VMSS, and accepts it once the first ended", async () => {
    for (const name of ["arc-busy", "vmss-one-0"]) {
      const first = await submit(name);
      const before = env.emulator.engine.concurrency.overlaps;
      const refused = await submit(name).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RunCommandConflictError);
      expect(refused).toMatchObject({
        code: "Conflict",
        armMessage: expect.stringContaining("Run command extension execution is in progress") as unknown,
      });
      expect(env.emulator.engine.concurrency.overlaps).toBe(before + 1);
      clock.advance(60_000);
      expect((await runCommands.poll(first)).terminal).toBe(true);
      const second = await submit(name);
      clock.advance(60_000);
      expect((await runCommands.poll(second)).executionState).toBe("Succeeded");
    }
    expect(env.emulator.engine.concurrency.maxInFlight).toBe(1);
  });

  it("refuses PatchPilot's command while a seeded foreign command runs, counted apart from PatchPilot's own overlaps", async () => {
    const overlaps = env.emulator.engine.concurrency.overlaps;
    await expect(submit("arc-rmm")).rejects.toBeInstanceOf(RunCommandConflictError);
    expect(env.emulator.engine.concurrency.foreignConflicts).toBe(1);
    expect(env.emulator.engine.concurrency.overlaps).toBe(overlaps);
    clock.advance(10 * 60_000);
    const accepted = await submit("arc-rmm");
    clock.advance(60_000);
    expect((await runCommands.poll(accepted)).executionState).toBe("Succeeded");
  });

  it("updates a step's slot in place: the next execution reuses the name, and the earlier handle never reads its output as fresh", async () => {
    const device = devices.get("arc-busy");
    if (device === undefined) throw new Error("no arc-busy");
    const run = (n: number) =>
      runCommands.submit(device, {
        script,
        parameters: [],
        outputBlob: `t1/c1/arc-busy/${uniqueRunId()}/02-baseline/baseline-${n}`,
        timeoutInSeconds: 600,
        slot: "patchpilot/baseline",
      });
    const first = await run(1);
    clock.advance(60_000);
    expect((await runCommands.poll(first)).executionState).toBe("Succeeded");
    const second = await run(2);
    expect(second.runCommandName).toBe(first.runCommandName);
    expect(second.outputBlobName).not.toBe(first.outputBlobName);
    // The slot now holds the second execution: the first handle answers as a command that no longer exists.
    await expect(runCommands.poll(first)).rejects.toBeInstanceOf(RunCommandNotFoundError);
    await expect(runCommands.collect(first)).rejects.toBeInstanceOf(RunCommandNotFoundError);
    clock.advance(60_000);
    expect((await runCommands.collect(second)).executionState).toBe("Succeeded");
  });
});
