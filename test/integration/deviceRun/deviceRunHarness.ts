import path from "node:path";
import { TableClient } from "@azure/data-tables";
import { createArmClients, type ArmClients } from "../../../lib/azure/armClients";
import { listDevices } from "../../../lib/azure/inventory";
import { createRunCommands, type RunCommands } from "../../../lib/azure/runCommands";
import type { StorageClients } from "../../../lib/azure/storageClients";
import { RunCommandNotFoundError } from "../../../lib/azure/armErrors";
import { EvidenceStore } from "../../../lib/evidence/blobStore";
import { runPrefix } from "../../../lib/evidence/keys";
import type { EvidenceDeps } from "../../../lib/evidence/runEvidence";
import { EvidenceIndex } from "../../../lib/evidence/tableIndex";
import { DeviceLocks } from "../../../lib/locks/deviceLock";
import { QuarantineStore } from "../../../lib/quarantine/quarantineStore";
import { PolicyStore } from "../../../lib/policy/policyStore";
import type { DeviceRef } from "../../../lib/schemas/target";
import type { DeviceRunInput, DeviceRunState, FinishedRun } from "../../../lib/schemas/deviceRun";
import { startFleetEmulator, type FleetEmulator } from "../../../local/fleet/armServer";
import type { Fleet } from "../../../local/fleet/contract";
import { LocalFleetCredential } from "../../../local/fleet/localCredential";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import type { Scenario } from "../../../local/fleet/scenario/scenarioSchema";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { makeAdvanceDeviceRun } from "../../../functions/activities/advanceDeviceRun";
import type { DeviceRunDeps } from "../../../lib/deviceRun/deps";
import { makeFinishDeviceRun } from "../../../functions/activities/finishDeviceRun";
import { makeStartDeviceRun } from "../../../functions/activities/startDeviceRun";
import { testConfig, testStorage, uniqueRunId } from "../../harness/storage";
import { ManualClock } from "../fleet/testFleet";

/** The run the demo scenario says holds ADT-PRINT01's lock (its `runningCommand.runId`). */
export const PRINT01_HOLDER = "run-20260120-adt-print01-0001";

/** What driving device runs needs: a manual clock, real clients on the emulator and Azurite, per-test policies and locks. */
export interface RunEnv {
  clock: ManualClock;
  emulator: FleetEmulator;
  arm: ArmClients;
  storage: StorageClients;
  runCommands: RunCommands;
  policies: PolicyStore;
  locks: DeviceLocks;
  quarantine: QuarantineStore;
  devices: Map<string, DeviceRef>;
  subscriptionIds: string[];
  close(): Promise<void>;
}

/** The demo fleet on the emulator, with its scenario and simulated servers (tests inspect their state). */
export interface DemoEnv extends RunEnv {
  scenario: Scenario;
  fleet: SimulatedFleet;
}

let tableCounter = 0;

/** Starts an emulator over `fleet` with real clients, an empty per-test policy container and Locks table. */
export async function startRunEnv(fleet: Fleet, clock: ManualClock, subscriptionIds: string[]): Promise<RunEnv> {
  const emulator = await startFleetEmulator({ fleet, clock, arm: { latencyMs: 0, transientErrorRate: 0 } });
  const arm = createArmClients({
    endpoint: emulator.endpoint,
    credential: new LocalFleetCredential(),
    ca: emulator.ca,
    maxRetries: 3,
  });
  const storage = await testStorage(testConfig());
  const unique = uniqueRunId("t")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
  const policyContainer = storage.blobService.getContainerClient(`pol${unique}`.slice(0, 63));
  await policyContainer.createIfNotExists();
  tableCounter += 1;
  const connectionString = process.env.PATCHPILOT_TEST_AZURITE_CONNECTION_STRING ?? "";
  const lockTable = TableClient.fromConnectionString(connectionString, `Locks${unique}${tableCounter}`.slice(0, 63), {
    allowInsecureConnection: true,
  });
  await lockTable.createTable();
  const quarantineTable = TableClient.fromConnectionString(
    connectionString,
    `Quarantine${unique}${tableCounter}`.slice(0, 63),
    { allowInsecureConnection: true },
  );
  await quarantineTable.createTable();
  const inventory = await listDevices(arm, { subscriptionIds });
  return {
    clock,
    emulator,
    arm,
    storage,
    runCommands: createRunCommands({ arm, storage }),
    policies: new PolicyStore(policyContainer),
    locks: new DeviceLocks(lockTable),
    quarantine: new QuarantineStore(quarantineTable),
    devices: new Map(inventory.devices.map((d) => [d.name, d])),
    subscriptionIds,
    close: () => emulator.close(),
  };
}

/** Starts the demo scenario on the fleet emulator with a manual clock, and seeds policies and ADT-PRINT01's lock. */
export async function startDemo(): Promise<DemoEnv> {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  const fleet = buildFleet(scenario, clock);
  const env = await startRunEnv(
    fleet,
    clock,
    scenario.subscriptions.map((s) => s.id),
  );
  await seedPolicyStore(env.policies, scenario);
  await env.locks.acquire(
    { tenant: "contoso-msp", client: "adatum", device: "ADT-PRINT01", runId: PRINT01_HOLDER },
    clock.now(),
    24 * 60,
  );
  return { ...env, scenario, fleet };
}

/** Fresh store and index for one device run, so their stats count that run's storage operations only. */
export function evidenceFor(env: RunEnv): EvidenceDeps & { store: EvidenceStore; index: EvidenceIndex } {
  return { store: new EvidenceStore(env.storage.evidence), index: new EvidenceIndex(env.storage.tables) };
}

/** The activities' dependencies over the demo environment. */
export function depsFor(env: RunEnv, evidence: EvidenceDeps): DeviceRunDeps {
  return {
    evidence,
    runCommands: env.runCommands,
    arm: env.arm,
    policies: env.policies,
    locks: env.locks,
    quarantine: env.quarantine,
    staging: env.storage.staging,
  };
}

/** The device run input of a demo device, in a 4-hour window opening now. */
export function runInputFor(env: RunEnv, device: DeviceRef): DeviceRunInput {
  const now = env.clock.now().getTime();
  return {
    run: {
      tenant: device.tags["patchpilot:tenant"] ?? "",
      client: device.tags["patchpilot:client"] ?? "",
      device: device.name,
      runId: uniqueRunId("r"),
    },
    device,
    trigger: { kind: "demo" },
    window: { end: new Date(now + 240 * 60_000).toISOString(), cutoff: new Date(now + 210 * 60_000).toISOString() },
    dryRun: false,
  };
}

/** What driving one device run observed. */
export interface DrivenRun {
  input: DeviceRunInput;
  result: FinishedRun;
  states: DeviceRunState[];
  /** Activity calls (start + advances, + finish when the last of them could not seal): two history events each. */
  activityCalls: number;
  /** Durable timers the orchestrator would have created (an advance whose nextCheckAt was in the future). */
  timers: number;
  storage: { blobWrites: number; blobReads: number; tableTransactions: number; tableQueries: number };
  /** Collects that found their run command deleted and rebuilt the result from evidence (retries only). */
  rebuiltFromEvidence: number;
  /** Advance calls re-run with the same input (the at-least-once retry), when asked for. */
  retried: number;
}

/** Options of {@link driveRun}. */
export interface DriveOptions {
  /**
   * Re-run every activity call with the same input at the same virtual time (the world unchanged, but run commands
   * the first call deleted are gone) and require the same answer and no new blob: an at-least-once retry.
   */
  retryEveryCall?: boolean;
  /**
   * Before each advance retry, delete the run commands the first call collected (as a batch clean-up off the
   * critical path may): the retry finds them gone and rebuilds from the status records.
   */
  deleteCollectedBeforeRetry?: boolean;
  /** The step and stage tables the engine runs with (a test adds a test-only step); the production ones if absent. */
  tables?: Pick<DeviceRunDeps, "steps" | "stages" | "bundleSteps">;
}

const MAX_ADVANCES = 200;

/**
 * Drives one device run as the orchestrator would, without a Durable host: start, then (move the manual clock to
 * nextCheckAt, advance) until the stage is done, then finish.
 */
export async function driveRun(env: RunEnv, device: DeviceRef, options: DriveOptions = {}): Promise<DrivenRun> {
  const evidence = evidenceFor(env);
  let rebuiltFromEvidence = 0;
  const runCommands: RunCommands = {
    ...env.runCommands,
    collect: async (handle) => {
      try {
        return await env.runCommands.collect(handle);
      } catch (error) {
        if (error instanceof RunCommandNotFoundError) rebuiltFromEvidence += 1;
        throw error;
      }
    },
  };
  const deps: DeviceRunDeps = { ...depsFor(env, evidence), runCommands, ...options.tables };
  const start = makeStartDeviceRun(deps);
  const advance = makeAdvanceDeviceRun(deps);
  const finish = makeFinishDeviceRun(deps);
  const input = runInputFor(env, device);
  const now = (): string => env.clock.now().toISOString();

  const prefix = runPrefix(input.run);
  let retried = 0;
  // The same request again, later: the same answer, and not one blob more (every write was an identical re-write).
  async function retry<T>(call: (request: unknown) => Promise<T>, request: unknown, first: T): Promise<void> {
    if (options.retryEveryCall !== true) return;
    const before = await evidence.store.listBlobNames(prefix);
    expect(await call(request)).toEqual(first);
    expect(await evidence.store.listBlobNames(prefix)).toEqual(before);
    retried += 1;
  }

  const startRequest = { input, now: now() };
  let state = await start(startRequest);
  await retry(start, startRequest, state);
  const states = [state];
  let activityCalls = 1;
  let timers = 0;
  for (let i = 0; state.stage !== "done"; i += 1) {
    if (i >= MAX_ADVANCES)
      throw new Error(`${device.name}: still in stage ${state.stage} after ${MAX_ADVANCES} advances`);
    const wait = Date.parse(state.nextCheckAt) - env.clock.now().getTime();
    if (wait > 0) {
      env.clock.advance(wait);
      timers += 1;
    }
    const request = { input, state, now: now() };
    const next = await advance(request);
    if (options.deleteCollectedBeforeRetry === true) {
      const live = new Set(next.commands.map((c) => c.handle.runCommandName));
      for (const command of state.commands)
        if (!live.has(command.handle.runCommandName)) await env.runCommands.delete(command.handle);
    }
    await retry(advance, request, next);
    state = next;
    states.push(state);
    activityCalls += 1;
  }
  // The call that ended the run sealed it too (issue 22); finishDeviceRun only when it could not.
  let result = state.finished;
  if (result === undefined) {
    const finishRequest = { input, state, now: now() };
    result = await finish(finishRequest);
    await retry(finish, finishRequest, result);
    activityCalls += 1;
  }
  return {
    input,
    result,
    states,
    activityCalls,
    timers,
    retried,
    rebuiltFromEvidence,
    storage: {
      blobWrites: evidence.store.stats.blobWrites,
      blobReads: evidence.store.stats.blobReads,
      tableTransactions: evidence.index.stats.transactions,
      tableQueries: evidence.index.stats.queries,
    },
  };
}

/** One line for the test output: exit code, counts, storage operations and activity calls of a run. */
export function describeRun(run: DrivenRun): string {
  const s = run.storage;
  const historyEvents = 2 * run.activityCalls + 2 * run.timers;
  return [
    run.input.device.name.padEnd(15),
    `exit ${run.result.exitCode} ${run.result.exitName}`.padEnd(26),
    `installed ${run.result.counts.installed} failed ${run.result.counts.failed} regressions ${run.result.counts.regressions}`.padEnd(
      36,
    ),
    `activity calls ${run.activityCalls} timers ${run.timers} (~${historyEvents} history events)`.padEnd(50),
    `blob w ${s.blobWrites} r ${s.blobReads}, table tx ${s.tableTransactions} q ${s.tableQueries} (= ${s.blobWrites + s.blobReads + s.tableTransactions + s.tableQueries})`.padEnd(
      52,
    ),
    `largest state ${Math.max(...run.states.map((state) => JSON.stringify(state).length))} B`,
  ].join(" ");
}
