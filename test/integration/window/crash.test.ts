import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createAppDeps, type AppDeps } from "../../../functions/definitions";
import { ensureStorage } from "../../../lib/azure/storageClients";
import { parseConfig } from "../../../lib/config/config";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { DeviceOutcome } from "../../../lib/schemas/window";
import { startAzurite, type AzuriteInstance } from "../../../local/azurite";
import { TaskHubStore } from "../../../local/durable/taskHubStore";
import { startFleetEmulator, type FleetEmulator } from "../../../local/fleet/armServer";
import { LocalFleetCredential } from "../../../local/fleet/localCredential";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { seedLocks } from "../../../local/run/seedLocks";
import type { WindowRunResult } from "../../../orchestrators/maintenanceWindow";
import { ORCHESTRATORS } from "../../../orchestrators/activityNames";
import { DEMO_EXIT_CODES } from "./demoExitCodes";
import { onServerRequest, portOf } from "./emulatorTraffic";
import { StampedFleetClock } from "./stampedFleetClock";
import type { HostChildArgs } from "../../fixtures/window/hostChildArgs";
import { installCounts, repeatedInstalls } from "./installRecords";
import { spawnHostChild } from "./spawnHostChild";
import { activityFailuresNaming, latestRecordedTime, loadTaskHub, type RecordedInstance } from "./taskHubScan";
import { readWindowOutcomes } from "./windowEvidence";

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const T0 = new Date("2026-01-20T01:00:00.000Z");
/** The host is killed once this many devices have installed something: the others are mid-install or before it. */
const INSTALLED_DEVICES_AT_KILL = 4;

/** Resolves once `count` simulated devices hold install records (checked after each emulator response). */
function devicesHaveInstalled(
  fleet: SimulatedFleet,
  port: number,
  count: number,
): { reached: Promise<void>; close(): void } {
  let close = (): void => undefined;
  const reached = new Promise<void>((resolve) => {
    close = onServerRequest(port, "finish", () => {
      if (fleet.devices.filter((d) => d.state.installRecords.length > 0).length >= count) resolve();
    });
  });
  return { reached, close: () => close() };
}

describe("a maintenance window survives a crash of the Durable host", () => {
  let azurite: AzuriteInstance;
  let emulator: FleetEmulator;
  let clock: StampedFleetClock;
  let fleet: SimulatedFleet;
  let deps: AppDeps;
  let tmp: string;
  let atKill: { instances: RecordedInstance[]; installs: Map<string, number> };
  let afterRestart: {
    windows: { instanceId: string; runtimeStatus: string; output: unknown }[];
    instances: RecordedInstance[];
  };

  beforeAll(async () => {
    // Azurite and the simulated devices live in this process; only the host and the app run in children, so the
    // devices keep their state (and their running installs) across the crash, as real servers would.
    azurite = await startAzurite({ inMemory: true });
    const scenario = readScenarioFile(DEMO);
    clock = new StampedFleetClock(T0);
    fleet = buildFleet(scenario, clock);
    emulator = await startFleetEmulator({ fleet, clock });
    clock.follow(portOf(emulator.endpoint));
    tmp = mkdtempSync(path.join(os.tmpdir(), "pp-window-crash-"));
    const caFile = path.join(tmp, "fleet-ca.pem");
    writeFileSync(caFile, emulator.ca);
    const subscriptionIds = scenario.subscriptions.map((s) => s.id);
    deps = createAppDeps(
      parseConfig({
        AzureWebJobsStorage: azurite.connectionString,
        PATCHPILOT_EVIDENCE_CONNECTION_STRING: azurite.connectionString,
        PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
        PATCHPILOT_ARM_ENDPOINT: emulator.endpoint,
        PATCHPILOT_ARM_CA_FILE: caFile,
        PATCHPILOT_SUBSCRIPTION_IDS: subscriptionIds.join(","),
      }),
      { armCredential: new LocalFleetCredential() },
    );
    await ensureStorage(deps.storage);
    await seedPolicyStore(deps.policies, scenario);
    await seedLocks(deps.locks, scenario, T0);

    const base: Omit<HostChildArgs, "mode" | "startTime"> = {
      connectionString: azurite.connectionString,
      taskHub: "WindowCrash",
      armEndpoint: emulator.endpoint,
      armCaFile: caFile,
      subscriptionIds,
    };
    const store = new TaskHubStore({ connectionString: azurite.connectionString, taskHub: base.taskHub });

    const installing = devicesHaveInstalled(fleet, portOf(emulator.endpoint), INSTALLED_DEVICES_AT_KILL);
    const first = spawnHostChild({ ...base, mode: "start", startTime: T0.toISOString() });
    const windowInstanceIds = JSON.parse(await first.waitForLine("started ")) as string[];
    await Promise.race([installing.reached, first.exited]);
    installing.close();
    first.kill();
    await first.exited;
    atKill = { instances: await loadTaskHub(store), installs: installCounts(fleet) };

    // The restarted host resumes where anything observed time last: the devices' clock or the task hub's records.
    clock.observe(latestRecordedTime(atKill.instances));
    const second = spawnHostChild({ ...base, mode: "resume", startTime: clock.now().toISOString(), windowInstanceIds });
    const windows = JSON.parse(await second.waitForLine("done ")) as {
      instanceId: string;
      runtimeStatus: string;
      output: unknown;
    }[];
    expect(await second.exited).toBe(0);
    afterRestart = { windows, instances: await loadTaskHub(store) };
  }, 120_000);

  afterAll(async () => {
    clock?.close();
    await emulator?.close();
    await azurite?.stop();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  it("was killed in the middle of the installs", () => {
    const runs = atKill.instances.filter((i) => i.record.name === ORCHESTRATORS.devicePatchRun);
    expect(runs.some((i) => i.record.status === "Running")).toBe(true);
    const installedBefore = [...atKill.installs.values()].filter((n) => n > 0).length;
    expect(installedBefore).toBeGreaterThanOrEqual(INSTALLED_DEVICES_AT_KILL);
    // Some devices installed only after the restart: the crash cut through the install stage, not after it.
    const installedAfter = fleet.devices.filter(
      (d) => d.state.installRecords.length > (atKill.installs.get(d.name) ?? 0),
    );
    expect(installedAfter.length).toBeGreaterThan(0);
  });

  it("finishes every window and every orchestration after the restart", () => {
    expect(afterRestart.windows.length).toBeGreaterThan(0);
    expect(afterRestart.windows.map((w) => [w.instanceId, w.runtimeStatus])).toEqual(
      afterRestart.windows.map((w) => [w.instanceId, "Completed"]),
    );
    const notCompleted = afterRestart.instances
      .filter((i) => i.record.status !== "Completed")
      .map((i) => `${i.record.instanceId}: ${i.record.status}`);
    expect(notCompleted).toEqual([]);
  });

  it("ends every device in the demo's exit code, with evidence that verifies", async () => {
    const outcomes: DeviceOutcome[] = [];
    for (const w of afterRestart.windows)
      outcomes.push(...(await readWindowOutcomes(deps.evidence, (w.output as WindowRunResult).reportPath)));
    expect(Object.fromEntries(outcomes.map((o) => [o.device, `${o.status} ${String(o.result?.exitCode)}`]))).toEqual(
      Object.fromEntries(Object.entries(DEMO_EXIT_CODES).map(([device, code]) => [device, `completed ${code}`])),
    );
    for (const o of outcomes) {
      if (o.result === undefined) throw new Error(`${o.device} has no result`);
      const report = await verifyRun(deps.evidence, o.result.run);
      expect({ device: o.device, ok: report.ok, problems: report.seal.problems }).toEqual({
        device: o.device,
        ok: true,
        problems: [],
      });
    }
  });

  it("never wrote an evidence blob twice with different bytes (no activity failed with EvidenceConflictError)", () => {
    expect(afterRestart.instances.length).toBeGreaterThan(Object.keys(DEMO_EXIT_CODES).length);
    expect(activityFailuresNaming(afterRestart.instances, "EvidenceConflictError")).toEqual([]);
  });

  it("installed no update twice on any simulated device", () => {
    expect(repeatedInstalls(fleet)).toEqual({});
  });
});
