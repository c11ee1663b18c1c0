import { ArmThrottledError } from "../../../lib/azure/armErrors";
import { createArmClients } from "../../../lib/azure/armClients";
import type { DeviceRef } from "../../../lib/azure/deviceRef";
import { listDevices } from "../../../lib/azure/inventory";
import { createRunCommands } from "../../../lib/azure/runCommands";
import { testStorage, uniqueRunId } from "../../harness/storage";
import {
  arcDevice,
  fleetOf,
  ManualClock,
  NO_THROTTLING,
  SUB_A,
  startEmulator,
  type EmulatorUnderTest,
} from "./testFleet";

const clock = new ManualClock();
const devices = Array.from({ length: 12 }, (_, i) => arcDevice(`storm-${i}`, {}));

describe("ARM throttling and transient errors", () => {
  let env: EmulatorUnderTest;
  afterEach(async () => {
    await env.emulator.close();
  });

  it("rides out a 429 storm by honouring Retry-After (small write bucket, 1 s Retry-After)", async () => {
    // 4 writes at once, then 4 a second: 12 concurrent submits must wait for ARM twice, as told by Retry-After.
    env = await startEmulator(
      {
        fleet: fleetOf(devices, [], { throttling: { ...NO_THROTTLING, writes: { capacity: 4, refillPerSecond: 4 } } }),
        clock,
      },
      6,
    );
    const runCommands = createRunCommands({ arm: env.arm, storage: await testStorage() });
    const refs = (await listDevices(env.arm, { subscriptionIds: [SUB_A] })).devices;
    const started = performance.now();
    const handles = await Promise.all(
      refs.map((device) =>
        runCommands.submit(device, {
          script: "# patchpilot-script: baseline@1.0.0",
          parameters: [],
          outputBlob: `t/c/${device.name}/${uniqueRunId()}/02/1`,
          timeoutInSeconds: 600,
        }),
      ),
    );
    const elapsed = performance.now() - started;
    expect(handles).toHaveLength(12);
    // Not all at once: the later ones waited at least one Retry-After.
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    clock.advance(60_000);
    for (const handle of handles) expect((await runCommands.poll(handle)).executionState).toBe("Succeeded");
    expect(devices.every((d) => d.executed.length === 1)).toBe(true);
  });

  it("hands a persistent 429 to the caller as ArmThrottledError with the Retry-After it was given", async () => {
    env = await startEmulator(
      {
        fleet: fleetOf(devices.slice(0, 2), [], {
          throttling: { ...NO_THROTTLING, writes: { capacity: 1, refillPerSecond: 0.5 } },
        }),
        clock,
      },
      0,
    );
    const runCommands = createRunCommands({ arm: env.arm, storage: await testStorage() });
    const refs: DeviceRef[] = (await listDevices(env.arm, { subscriptionIds: [SUB_A] })).devices;
    const request = (device: DeviceRef) => ({
      script: "# patchpilot-script: baseline@1.0.0",
      parameters: [],
      outputBlob: `t/c/${device.name}/${uniqueRunId()}/02/1`,
      timeoutInSeconds: 600,
    });
    await runCommands.submit(refs[0] as DeviceRef, request(refs[0] as DeviceRef));
    const error: unknown = await runCommands
      .submit(refs[1] as DeviceRef, request(refs[1] as DeviceRef))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArmThrottledError);
    expect(error).toMatchObject({ statusCode: 429, retryAfterMs: 2_000 });
  });

  it("retries transient 500s inside the pipeline", async () => {
    let calls = 0;
    // Every other request fails with a 500: each call succeeds on its retry.
    env = await startEmulator({
      fleet: fleetOf(devices.slice(0, 3), [], { transientErrorRate: 0.5 }),
      clock,
      random: () => (calls++ % 2 === 0 ? 0 : 0.9),
    });
    const { devices: found } = await listDevices(env.arm, { subscriptionIds: [SUB_A] });
    expect(found).toHaveLength(3);
    // The one Resource Graph query failed once and succeeded on the pipeline's retry.
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it("fails without retrying when the credential is missing a CA for the emulator (no process-wide TLS bypass)", async () => {
    env = await startEmulator({ fleet: fleetOf(devices.slice(0, 1)), clock });
    const untrusting = createArmClients({
      endpoint: env.emulator.endpoint,
      credential: env.emulator.credential,
      maxRetries: 0,
    });
    await expect(listDevices(untrusting, { subscriptionIds: [SUB_A] })).rejects.toThrow(/certificate/i);
  });
});
