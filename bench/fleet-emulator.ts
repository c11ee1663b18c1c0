// Fleet-emulator benchmark: full run-command lifecycles per second (submit → poll → collect from the append blobs →
// delete) through the real clients, for 1,000 devices, with latency, throttling and transient errors off. Prints
// figures only.
//
//   npm run bench:fleet            BENCH_DEVICES (1000), BENCH_CONCURRENCY (64), BENCH_OUTPUT_KIB (8)
import os from "node:os";
import { createArmClients } from "../lib/azure/armClients";
import type { DeviceRef } from "../lib/azure/deviceRef";
import { listDevices } from "../lib/azure/inventory";
import { createRunCommands, type RunCommandHandle } from "../lib/azure/runCommands";
import { createStorageClients, ensureStorage } from "../lib/azure/storageClients";
import { parseConfig } from "../lib/config/config";
import { startAzurite } from "../local/azurite";
import { startFleetEmulator } from "../local/fleet/armServer";
import type { AgentStatus, Fleet, ScriptRequest, ScriptResult, SimulatedDevice } from "../local/fleet/contract";
import { intSetting } from "./settings";

const DEVICES = intSetting("BENCH_DEVICES", 1000);
const CONCURRENCY = intSetting("BENCH_CONCURRENCY", 64);
const OUTPUT = "x".repeat(intSetting("BENCH_OUTPUT_KIB", 8) * 1024);
const SUBSCRIPTION = "00000000-0000-0000-0000-00000000be9c";

/** A device that is always connected and answers every script in 20 simulated seconds. */
function benchDevice(index: number): SimulatedDevice {
  const name = `bench-${String(index).padStart(5, "0")}`;
  return {
    name,
    kind: "arc",
    os: index % 2 === 0 ? "windows" : "linux",
    placement: {
      subscriptionId: SUBSCRIPTION,
      resourceGroup: `rg-${index % 10}`,
      location: "westeurope",
      arc: { machineName: name },
    },
    tags: { "patchpilot:tenant": "bench" },
    armProperties: { osName: "bench", osVersion: "1", agentVersion: "1.45", computerName: name },
    agentStatus: (): AgentStatus => "Connected",
    nextConnectedAt: (from: Date) => from,
    execute: (_request: ScriptRequest): ScriptResult => ({
      kind: "completed",
      durationMs: 20_000,
      exitCode: 0,
      stdout: OUTPUT,
      stderr: "",
    }),
    cancel: () => undefined,
  };
}

async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i] as T);
      }
    }),
  );
  return results;
}

async function main(): Promise<void> {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  process.stdout.write(`fleet emulator bench: node ${process.version}, ${cpu}, ${os.cpus().length} cores\n`);
  process.stdout.write(
    `devices ${DEVICES}, client concurrency ${CONCURRENCY}, stdout ${OUTPUT.length / 1024} KiB per command\n\n`,
  );
  const azurite = await startAzurite({ inMemory: true });
  let virtual = new Date("2025-06-01T02:00:00Z");
  const clock = { now: () => new Date(virtual) };
  const fleet: Fleet = {
    devices: Array.from({ length: DEVICES }, (_, i) => benchDevice(i)),
    scaleSets: [],
    preexistingRunCommands: [],
    arm: {
      throttling: { writes: { capacity: 1e9, refillPerSecond: 1e9 }, reads: { capacity: 1e9, refillPerSecond: 1e9 } },
      latencyMs: 0,
      transientErrorRate: 0,
      pageSize: 100,
    },
  };
  const emulator = await startFleetEmulator({ fleet, clock });
  try {
    const config = parseConfig({
      AzureWebJobsStorage: azurite.connectionString,
      PATCHPILOT_EVIDENCE_CONNECTION_STRING: azurite.connectionString,
      PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
    });
    const storage = createStorageClients(config);
    await ensureStorage(storage);
    const arm = createArmClients({
      endpoint: emulator.endpoint,
      credential: emulator.credential,
      ca: emulator.ca,
      maxRetries: 3,
    });
    const runCommands = createRunCommands({ arm, storage });

    let t = performance.now();
    const { devices } = await listDevices(arm, { subscriptionIds: [SUBSCRIPTION] });
    const inventoryMs = performance.now() - t;

    t = performance.now();
    const handles = await inBatches(devices, (device: DeviceRef) =>
      runCommands.submit(device, {
        script: "# patchpilot-script: baseline@1.0.0",
        parameters: [],
        outputBlob: `bench/${device.name}/1`,
        timeoutInSeconds: 600,
      }),
    );
    const submitMs = performance.now() - t;
    virtual = new Date(virtual.getTime() + 60_000); // virtual time: every command has finished

    t = performance.now();
    const results = await inBatches(handles, (handle: RunCommandHandle) => runCommands.collect(handle));
    const collectMs = performance.now() - t;

    t = performance.now();
    await inBatches(handles, (handle: RunCommandHandle) => runCommands.delete(handle));
    const deleteMs = performance.now() - t;

    const ok = results.filter((r) => r.executionState === "Succeeded" && r.stdout.length === OUTPUT.length).length;
    const totalMs = submitMs + collectMs + deleteMs;
    const line = (label: string, ms: number, n: number): string =>
      `${label.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${((n / ms) * 1000).toFixed(0).padStart(7)} /s\n`;
    process.stdout.write(line(`inventory (${Math.ceil(DEVICES / 100)} pages)`, inventoryMs, devices.length));
    process.stdout.write(line("submit (GET 404 + SAS x2 + PUT)", submitMs, handles.length));
    process.stdout.write(line("collect (GET instanceView + 2 blob reads)", collectMs, results.length));
    process.stdout.write(line("delete", deleteMs, handles.length));
    process.stdout.write(line("full run commands (submit+collect+delete)", totalMs, ok));
    process.stdout.write(`\n${ok}/${DEVICES} succeeded with complete output\n`);
  } finally {
    await emulator.close();
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
