import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { LoadBalancerAction, LoadBalancerPoolsBefore } from "../../../lib/schemas/artifacts/loadBalancer";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import type { DeviceRunState } from "../../../lib/schemas/deviceRun";
import type { FleetNetwork } from "../../../local/fleet/arm/network";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { makeAdvanceDeviceRun } from "../../../functions/activities/advanceDeviceRun";
import { makeFinishDeviceRun } from "../../../functions/activities/finishDeviceRun";
import { makeStartDeviceRun } from "../../../functions/activities/startDeviceRun";
import { restoreLoadBalancerAfterGivingUp } from "../../../lib/deviceRun/loadBalancer/restoreAfterGivingUp";
import { runPrefix } from "../../../lib/evidence/keys";
import {
  depsFor,
  driveRun,
  evidenceFor,
  runInputFor,
  startRunEnv,
  type DrivenRun,
  type RunEnv,
} from "./deviceRunHarness";

// Issue 20: drain an Azure VM from its Azure Load Balancer backend pools before the install and put it back after.
// Two demo servers become Azure VMs behind `fab-lb` (pools `web` and `api`). WIN-SERVER01 drains from every pool it is
// in and installs; FAB-SQL01 drains from `web` only and its install then fails (210). The proof is the emulator's own
// membership log (when each ip-configuration left and rejoined each pool, on the fleet clock), compared with when the
// install's run command was submitted and collected; every advance is retried once (same answer, no new blob).

const DRAIN_SECONDS = 120;

let env: RunEnv;
let fleet: SimulatedFleet;
let network: FleetNetwork;
let poolId: (pool: string) => string;

beforeAll(async () => {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  for (const name of ["WIN-SERVER01", "FAB-SQL01", "FAB-APP01"]) {
    const device = scenario.devices.find((d) => d.name === name);
    if (device === undefined) throw new Error(`no ${name} in the demo`);
    device.kind = "vm";
  }
  scenario.loadBalancers = [
    {
      name: "fab-lb",
      pools: [
        { name: "web", members: ["WIN-SERVER01", "FAB-SQL01", "FAB-APP01"] },
        { name: "api", members: ["WIN-SERVER01", "FAB-SQL01", "FAB-APP01"] },
      ],
    },
  ];
  const sql = scenario.devices.find((d) => d.name === "FAB-SQL01");
  const first = scenario.updateSets["ws2022-2026-01"]?.updates[0] as { kb?: string } | undefined;
  if (sql === undefined || first?.kb === undefined) throw new Error("no FAB-SQL01 or first update");
  sql.outcomes = { ...sql.outcomes, [first.kb]: { result: "fails", hresult: 0x80070643 | 0 } };
  fleet = buildFleet(scenario, clock);
  if (fleet.network === undefined) throw new Error("the fleet has no network");
  network = fleet.network;
  const lb = network.loadBalancers[0];
  if (lb === undefined) throw new Error("no load balancer");
  poolId = (pool) => network.poolId(lb, pool);
  for (const [device, hook] of [
    ["WIN-SERVER01", { type: "loadBalancerDrain", drainSeconds: DRAIN_SECONDS }],
    ["FAB-SQL01", { type: "loadBalancerDrain", drainSeconds: DRAIN_SECONDS, pools: [poolId("web")] }],
    ["ADT-DC01", { type: "loadBalancerDrain", drainSeconds: DRAIN_SECONDS }],
  ] as const) {
    const layer = scenario.policies.find((l) => l.scope.level === "device" && l.scope.device === device);
    if (layer === undefined) throw new Error(`no ${device} device layer in the demo`);
    Object.assign(layer, { hooks: { preInstall: [hook] } });
  }
  scenario.policies.push({
    schemaVersion: 1,
    scope: { level: "device", tenant: "contoso-msp", client: "fabrikam", device: "FAB-APP01" },
    hooks: { preInstall: [{ type: "loadBalancerDrain", drainSeconds: DRAIN_SECONDS }] },
  });
  env = await startRunEnv(
    fleet,
    clock,
    scenario.subscriptions.map((s) => s.id),
  );
  await seedPolicyStore(env.policies, scenario);
});
afterAll(async () => {
  await env?.close();
});

/** When the install's run command was submitted, and when the advance that collected it ran. */
function installWindow(states: readonly DeviceRunState[]): { submittedAt: Date; collectedBy: Date } {
  const index = states.findIndex((s) =>
    s.commands.some((c) => c.step === "install" || c.sections?.some((x) => x.step === "install")),
  );
  const command = states[index]?.commands[0];
  const after = states.slice(index).find((s) => s.stage !== "install");
  if (command === undefined || after === undefined) throw new Error("no install command in the run");
  const collected = after.events.find((e) => e.type === "phase.completed" && e.phase === "05-install");
  return { submittedAt: new Date(command.submittedAt), collectedBy: new Date(collected?.at ?? after.nextCheckAt) };
}

async function drive(name: string): Promise<{ driven: DrivenRun; read: <T>(p: string) => Promise<T | undefined> }> {
  const ref = env.devices.get(name);
  if (ref === undefined) throw new Error(`no ${name}`);
  expect(ref.kind).toBe("vm");
  const driven = await driveRun(env, ref, { retryEveryCall: true });
  const store = evidenceFor(env).store;
  const read = async <T>(p: string): Promise<T | undefined> => {
    const bytes = await store.get(driven.input.run, p);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
  };
  return { driven, read };
}

const nicConfig = (vm: string): string =>
  network.nics.find((n) => n.name === `${vm}-nic`)?.id + "/ipConfigurations/ipconfig1";

describe("load-balancer drain and restore, on the local stack", () => {
  it("drains an Azure VM from every pool before the install and puts it back after, verified and sealed", async () => {
    const { driven, read } = await drive("WIN-SERVER01");
    expect(driven.retried).toBeGreaterThan(0);
    const ipConfig = nicConfig("WIN-SERVER01");
    const { submittedAt, collectedBy } = installWindow(driven.states);

    // The emulator's log: out of both pools before the install was sent (by at least the drain time), back after.
    const changes = network.history.filter((c) => c.ipConfigurationId.toLowerCase() === ipConfig.toLowerCase());
    const left = changes.filter((c) => !c.member && c.at !== changes[0]?.at);
    const back = changes.filter((c) => c.member && Date.parse(c.at) > Date.parse(changes[0]?.at ?? ""));
    expect(left.map((c) => c.poolId).sort()).toEqual([poolId("api"), poolId("web")].sort());
    expect(back.map((c) => c.poolId).sort()).toEqual([poolId("api"), poolId("web")].sort());
    for (const c of left) expect(Date.parse(c.at) + DRAIN_SECONDS * 1000).toBeLessThanOrEqual(submittedAt.getTime());
    for (const c of back) expect(Date.parse(c.at)).toBeGreaterThanOrEqual(collectedBy.getTime());
    for (const pool of ["web", "api"]) {
      expect(network.memberAt(ipConfig, poolId(pool), submittedAt)).toBe(false);
      expect(network.memberAt(ipConfig, poolId(pool), collectedBy)).toBe(false);
      expect(network.members(poolId(pool)).map((m) => m.toLowerCase())).toContain(ipConfig.toLowerCase());
    }
    // Removed once and put back once, though every advance ran twice.
    expect(left).toHaveLength(2);
    expect(back).toHaveLength(2);

    // Evidence: the membership before (sealed first), the drain and the restore, each verified through the pools.
    const before = await read<LoadBalancerPoolsBefore>(ARTIFACTS.lbPoolsBefore.path);
    expect(before?.memberships.map((m) => [m.ipConfigurationId.toLowerCase(), m.pools.length])).toEqual([
      [ipConfig.toLowerCase(), 2],
    ]);
    const drain = await read<LoadBalancerAction>(ARTIFACTS.lbDrain.path);
    expect(drain).toMatchObject({ action: "drain", outcome: "drained", drainSeconds: DRAIN_SECONDS });
    expect(drain?.verification.map((v) => [v.member, v.ok])).toEqual([
      [false, true],
      [false, true],
    ]);
    expect(drain?.setBy).toBe("device:contoso-msp/fabrikam/WIN-SERVER01");
    const restore = await read<LoadBalancerAction>(ARTIFACTS.lbRestore.path);
    expect(restore).toMatchObject({ action: "restore", outcome: "restored" });
    expect(restore?.verification.map((v) => [v.member, v.ok])).toEqual([
      [true, true],
      [true, true],
    ]);
    const verified = await verifyRun(evidenceFor(env), driven.input.run);
    expect(verified.ok).toBe(true);
    for (const p of [ARTIFACTS.lbPoolsBefore.path, ARTIFACTS.lbDrain.path, ARTIFACTS.lbRestore.path])
      expect(JSON.stringify(verified)).toContain(p);
    expect(driven.result.exitCode).toBe(0);
  });

  it("restores a named pool after an install that failed (210), and never touches the pool it was not told to drain", async () => {
    const { driven, read } = await drive("FAB-SQL01");
    const decision = await read<ExitCodeRecord>(ARTIFACTS.exitCode.path);
    expect(decision?.exitCode).toBe(210);
    const ipConfig = nicConfig("FAB-SQL01");
    const { submittedAt } = installWindow(driven.states);
    expect(network.memberAt(ipConfig, poolId("web"), submittedAt)).toBe(false);
    // `api` was never named: it stayed a member the whole run (no change logged after the start).
    const start = network.history[0]?.at;
    expect(
      network.history.filter((c) => c.ipConfigurationId === ipConfig && c.poolId === poolId("api") && c.at !== start),
    ).toEqual([]);
    for (const pool of ["web", "api"])
      expect(network.members(poolId(pool)).map((m) => m.toLowerCase())).toContain(ipConfig.toLowerCase());
    const restore = await read<LoadBalancerAction>(ARTIFACTS.lbRestore.path);
    expect(restore?.outcome).toBe("restored");
    expect(restore?.changes.map((c) => c.pools)).toEqual([[poolId("web")]]);
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
  });

  it("a run that gives up after the drain restores the membership before it is sealed (the failure path's always)", async () => {
    const ref = env.devices.get("FAB-APP01");
    if (ref === undefined) throw new Error("no FAB-APP01");
    const evidence = evidenceFor(env);
    const deps = depsFor(env, evidence);
    const input = runInputFor(env, ref);
    const now = (): string => env.clock.now().toISOString();
    let state = await makeStartDeviceRun(deps)({ input, now: now() });
    const advance = makeAdvanceDeviceRun(deps);
    // Up to the drain: the install is held back in queued, the device out of its pools.
    for (let i = 0; i < 20 && !state.events.some((e) => e.type === "loadBalancer.drain"); i += 1) {
      env.clock.advance(Math.max(0, Date.parse(state.nextCheckAt) - env.clock.now().getTime()));
      state = await advance({ input, state, now: now() });
    }
    const ipConfig = nicConfig("FAB-APP01");
    expect(state.stage).toBe("install");
    expect(network.members(poolId("web")).map((m) => m.toLowerCase())).not.toContain(ipConfig.toLowerCase());

    // The advance loop gives up here (its retries ran out): finishDeviceRun, given the state as it stood, restores
    // the membership and then seals the run with the restore's evidence.
    await makeFinishDeviceRun(deps)({ input, state, now: now(), failure: "advanceDeviceRun failed" });
    for (const pool of ["web", "api"])
      expect(network.members(poolId(pool)).map((m) => m.toLowerCase())).toContain(ipConfig.toLowerCase());
    const bytes = await evidence.store.get(input.run, ARTIFACTS.lbRestore.path);
    expect((JSON.parse(bytes?.toString("utf8") ?? "{}") as LoadBalancerAction).outcome).toBe("restored");
    expect((await verifyRun(evidence, input.run)).ok).toBe(true);
    // A retried restore (the activity run again) changes nothing and writes nothing new.
    const blobs = await evidence.store.listBlobNames(runPrefix(input.run));
    const again = await restoreLoadBalancerAfterGivingUp(deps, input, state, env.clock.now());
    expect(again.events.filter((e) => e.type.startsWith("loadBalancer.restore")).length).toBe(1);
    expect(await evidence.store.listBlobNames(runPrefix(input.run))).toEqual(blobs);
  });

  it("an Arc machine cannot be drained through ARM: recorded as not possible, the run goes on, nothing to restore", async () => {
    const ref = env.devices.get("ADT-DC01");
    expect(ref?.kind).toBe("arc");
    const driven = await driveRun(env, ref!);
    const store = evidenceFor(env).store;
    const drain = JSON.parse(
      (await store.get(driven.input.run, ARTIFACTS.lbDrain.path))?.toString("utf8") ?? "{}",
    ) as LoadBalancerAction;
    expect(drain).toMatchObject({ outcome: "not-possible", changes: [], verification: [] });
    expect(drain.reason).toMatch(/script hook/);
    expect(await store.get(driven.input.run, ARTIFACTS.lbPoolsBefore.path)).toBeUndefined();
    expect(await store.get(driven.input.run, ARTIFACTS.lbRestore.path)).toBeUndefined();
    expect(driven.result.counts.installed).toBeGreaterThan(0);
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
  });
});
