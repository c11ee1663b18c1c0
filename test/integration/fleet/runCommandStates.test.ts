import { createRunCommands, type RunCommands } from "../../../lib/azure/runCommands";
import { RunCommandResourceSchema } from "../../../lib/azure/schemas/runCommand";
import { listDevices } from "../../../lib/azure/inventory";
import { outputBlobSasUrl, sasWindowFor } from "../../../lib/azure/outputBlobSas";
import type { DeviceRef } from "../../../lib/azure/deviceRef";
import { testStorage, uniqueRunId } from "../../harness/storage";
import { arcDevice, fleetOf, ManualClock, SUB_A, startEmulator, vmssDevice, type EmulatorUnderTest } from "./testFleet";

const clock = new ManualClock();
const script = "# patchpilot-script: baseline@1.0.0\nWrite-Output 'hi'";
const disconnectAt = new Date("2025-06-01T01:00:00Z");

const ok = arcDevice("arc-ok", { "patchpilot:tenant": "t1" });
const failing = arcDevice(
  "arc-fail",
  {},
  { answer: () => ({ kind: "completed", durationMs: 5_000, exitCode: 3, stdout: "", stderr: "boom" }) },
);
const broken = arcDevice(
  "arc-broken",
  {},
  { answer: () => ({ kind: "failed", durationMs: 1_000, message: "Extension failed to start" }) },
);
const hung = arcDevice("arc-hang", {}, { answer: () => ({ kind: "hang", stdout: "installing...", stderr: "" }) });
const offline = arcDevice("arc-offline", {}, { disconnectedFrom: disconnectAt });
const vm = vmssDevice("vmss-web-0", "vmss-web", "0");

let env: EmulatorUnderTest;
let runCommands: RunCommands;
let devices: Map<string, DeviceRef>;

beforeAll(async () => {
  env = await startEmulator({
    fleet: fleetOf(
      [ok, failing, broken, hung, offline, vm],
      [
        {
          name: "vmss-web",
          subscriptionId: SUB_A,
          resourceGroup: "rg-fabrikam",
          location: "northeurope",
          tags: { "patchpilot:tenant": "t1" },
          os: "linux",
          instances: ["vmss-web-0"],
        },
      ],
    ),
    clock,
  });
  runCommands = createRunCommands({ arm: env.arm, storage: await testStorage() });
  const inventory = await listDevices(env.arm, { subscriptionIds: [SUB_A] });
  devices = new Map(inventory.devices.map((d) => [d.name, d]));
});

afterAll(async () => {
  await env.emulator.close();
});

function device(name: string): DeviceRef {
  const found = devices.get(name);
  if (found === undefined) throw new Error(`no device ${name}`);
  return found;
}

async function submit(name: string, timeoutInSeconds = 600) {
  return runCommands.submit(device(name), {
    script,
    parameters: [{ name: "Simulate", value: "false" }],
    outputBlob: `t1/c1/${name}/${uniqueRunId()}/02-baseline/1`,
    timeoutInSeconds,
  });
}

describe("run command state machine through the real clients", () => {
  it("moves Unknown → Pending → Running → Succeeded on virtual time, then delete removes it", async () => {
    const handle = await submit("arc-ok");
    expect(handle.runCommandName).toMatch(/^pp-[0-9a-f]{32}$/);
    expect((await runCommands.poll(handle)).executionState).toBe("Unknown");
    expect(ok.executed).toHaveLength(0);
    clock.advance(1_000);
    // The agent picked it up: it starts at once (connected), so it is Running for its simulated 30 s.
    expect((await runCommands.poll(handle)).executionState).toBe("Running");
    expect(ok.executed).toHaveLength(1);
    clock.advance(29_999);
    expect((await runCommands.poll(handle)).executionState).toBe("Running");
    clock.advance(1);
    const done = await runCommands.collect(handle);
    expect(done).toMatchObject({
      executionState: "Succeeded",
      terminal: true,
      exitCode: 0,
      stdout: "ok",
      stderr: "",
      outputTail: "ok",
    });
    expect(ok.executed).toHaveLength(1);
    expect(ok.executed[0]?.parameters).toEqual([{ name: "Simulate", value: "false" }]);
    await runCommands.delete(handle);
    await expect(runCommands.poll(handle)).rejects.toThrow(/not found/);
  });

  it("a retried submit finds the existing command and does not run it again", async () => {
    const first = await submit("arc-ok");
    const again = await runCommands.submit(device("arc-ok"), {
      script,
      parameters: [{ name: "Simulate", value: "false" }],
      outputBlob: first.outputBlobName.replace(/\/stdout\.txt$/, ""),
      timeoutInSeconds: 600,
    });
    expect(again).toEqual(first);
    clock.advance(60_000);
    expect((await runCommands.poll(first)).executionState).toBe("Succeeded");
    expect(ok.executed.filter((r) => r.runCommandName === first.runCommandName)).toHaveLength(1);
    await runCommands.delete(first);
  });

  it("reports a non-zero exit as Failed with its exit code and stderr", async () => {
    const handle = await submit("arc-fail");
    clock.advance(10_000);
    expect(await runCommands.collect(handle)).toMatchObject({
      executionState: "Failed",
      exitCode: 3,
      stderr: "boom",
      errorTail: "boom",
    });
    await runCommands.delete(handle);
  });

  it("reports an agent that cannot run the script as Failed with its message", async () => {
    const handle = await submit("arc-broken");
    clock.advance(5_000);
    expect(await runCommands.poll(handle)).toMatchObject({
      executionState: "Failed",
      exitCode: null,
      executionMessage: "Extension failed to start",
    });
    await runCommands.delete(handle);
  });

  it("times out a hung script after timeoutInSeconds, keeping its partial output", async () => {
    const handle = await submit("arc-hang", 120);
    clock.advance(60_000);
    expect((await runCommands.poll(handle)).executionState).toBe("Running");
    clock.advance(61_000);
    const result = await runCommands.collect(handle);
    expect(result).toMatchObject({ executionState: "TimedOut", stdout: "installing..." });
    expect(Date.parse(result.endTime ?? "") - Date.parse(result.startTime ?? "")).toBe(120_000);
    // The agent kills the script at the timeout: the device is told once, at the timeout instant.
    expect(hung.canceled.filter((c) => c.runCommandName === handle.runCommandName)).toEqual([
      { runCommandName: handle.runCommandName, at: new Date(result.endTime ?? "") },
    ]);
    await runCommands.delete(handle);
  });

  it("leaves a command on a disconnected machine Pending until it times out, never starting it", async () => {
    expect(device("arc-offline").status).toBe("Disconnected");
    const handle = await submit("arc-offline", 300);
    clock.advance(2_000);
    expect((await runCommands.poll(handle)).executionState).toBe("Pending");
    clock.advance(300_000);
    const result = await runCommands.collect(handle);
    expect(result).toMatchObject({ executionState: "TimedOut", startTime: null, stdout: "", stderr: "" });
    expect(offline.executed).toHaveLength(0);
    await runCommands.delete(handle);
  });

  it("cancels a running command on DELETE: Canceled while ARM deletes it, then gone", async () => {
    const handle = await submit("arc-hang", 3600);
    clock.advance(5_000);
    expect((await runCommands.poll(handle)).executionState).toBe("Running");
    await runCommands.delete(handle);
    expect(hung.canceled.map((c) => c.runCommandName)).toContain(handle.runCommandName);
    const status = await runCommands.poll(handle);
    expect(status).toMatchObject({ executionState: "Canceled", terminal: true });
    clock.advance(2_000);
    await expect(runCommands.poll(handle)).rejects.toThrow(/not found/);
  });

  it("runs a VMSS instance's command through arm-compute with the same states", async () => {
    const handle = await submit("vmss-web-0");
    expect(handle.device.kind).toBe("vmss");
    expect((await runCommands.poll(handle)).executionState).toBe("Unknown");
    clock.advance(1_000);
    expect((await runCommands.poll(handle)).executionState).toBe("Running");
    clock.advance(30_000);
    expect(await runCommands.collect(handle)).toMatchObject({ executionState: "Succeeded", stdout: "ok" });
    expect(vm.executed[0]?.script).toBe(script);
    await runCommands.delete(handle);
    await expect(runCommands.poll(handle)).rejects.toThrow(/not found/);
  });

  it("lists run commands and reads async-operation status with our Arc client (responses parse with the clients' schemas)", async () => {
    const handle = await submit("arc-fail");
    const machine = { subscriptionId: SUB_A, resourceGroup: "rg-contoso", machineName: "arc-fail" };
    const listed = [];
    for await (const command of env.arm.arcRunCommands.list(machine)) listed.push(command);
    expect(listed.map((c) => c.name)).toContain(handle.runCommandName);
    // One command at a time per machine: the first one ends before the next is created (else 409 Conflict).
    clock.advance(10_000);
    const storage = await testStorage();
    const window = sasWindowFor(60);
    const out = `manual/${uniqueRunId()}/stdout.txt`;
    const outputBlobUri = await outputBlobSasUrl(storage.blobService, storage.staging, out, window);
    const errorBlobUri = await outputBlobSasUrl(storage.blobService, storage.staging, `${out}.err`, window);
    const created = await env.arm.arcRunCommands.createOrUpdate(machine, "pp-manual-create", {
      location: "westeurope",
      script,
      parameters: [],
      timeoutInSeconds: 60,
      outputBlobUri,
      errorBlobUri,
    });
    expect(created.resource.properties.provisioningState).toBe("Creating");
    expect(created.asyncOperationUrl).toContain("/operationStatus/");
    expect((await env.arm.arcRunCommands.asyncOperation(created.asyncOperationUrl ?? "")).status).toBe("InProgress");
    clock.advance(10_000);
    expect((await env.arm.arcRunCommands.asyncOperation(created.asyncOperationUrl ?? "")).status).toBe("Failed");
    const plain = await env.arm.arcRunCommands.get(machine, "pp-manual-create");
    // Arc returns the instance view on every GET (HybridCompute 2025-01-13 has no $expand; its RunCommands_Get
    // example carries it).
    expect(RunCommandResourceSchema.parse(plain).properties.instanceView?.executionState).toBeDefined();
    // The SAS is a credential: the emulator, like ARM, does not echo it.
    expect(plain.properties.outputBlobUri).toBe(outputBlobUri.split("?")[0]);
    expect(outputBlobUri).toContain("sp=racw");
    expect(await env.arm.arcRunCommands.delete(machine, "pp-manual-create")).toBe("deleted");
    expect(await env.arm.arcRunCommands.delete(machine, "pp-manual-create")).toBe("deleted");
    await runCommands.delete(handle);
  });
});
