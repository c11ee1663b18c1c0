import { listDevices } from "../../../lib/azure/inventory";
import { createRunCommands } from "../../../lib/azure/runCommands";
import { testStorage, uniqueRunId } from "../../harness/storage";
import { arcDevice, fleetOf, ManualClock, SUB_A, startEmulator, type EmulatorUnderTest } from "./testFleet";

const clock = new ManualClock();
// 20 000 lines ≈ 290 KB of stdout with a multi-byte character in it; the instance view keeps the last 4 KB only.
const stdout = Array.from({ length: 20_000 }, (_, i) => `line ${String(i).padStart(5, "0")} ✓ KB5040437`).join("\n");
const stderr = "warning: ".repeat(1_000);
const chatty = arcDevice(
  "arc-chatty",
  {},
  { answer: () => ({ kind: "completed", durationMs: 1_000, exitCode: 0, stdout, stderr }) },
);

let env: EmulatorUnderTest;
beforeAll(async () => {
  env = await startEmulator({ fleet: fleetOf([chatty]), clock });
});
afterAll(async () => {
  await env.emulator.close();
});

it("reads output over 4 KB complete from the append blob while the instance view holds only the tail", async () => {
  const storage = await testStorage();
  const runCommands = createRunCommands({ arm: env.arm, storage });
  const [device] = (await listDevices(env.arm, { subscriptionIds: [SUB_A] })).devices;
  if (device === undefined) throw new Error("no device");
  const handle = await runCommands.submit(device, {
    script: "# patchpilot-script: baseline@1.0.0",
    parameters: [],
    outputBlob: `t/c/arc-chatty/${uniqueRunId()}/02-baseline/1`,
    timeoutInSeconds: 600,
  });
  clock.advance(5_000);
  const result = await runCommands.collect(handle);
  expect(result.executionState).toBe("Succeeded");
  expect(result.stdout).toBe(stdout);
  expect(result.stderr).toBe(stderr);
  expect(Buffer.byteLength(result.outputTail, "utf8")).toBeLessThanOrEqual(4096);
  expect(Buffer.byteLength(result.outputTail, "utf8")).toBeGreaterThan(4000);
  expect(stdout.endsWith(result.outputTail)).toBe(true);
  expect(stderr.endsWith(result.errorTail)).toBe(true);
  expect(result.errorTail.length).toBeLessThan(stderr.length);
  const properties = await storage.staging.getBlobClient(handle.outputBlobName).getProperties();
  expect(properties.blobType).toBe("AppendBlob");
  await runCommands.delete(handle);
});
