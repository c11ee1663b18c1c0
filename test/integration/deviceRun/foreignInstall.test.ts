import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import type { SystemSnapshot } from "../../../lib/schemas/artifacts/snapshot";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// Issue 21: a device where Windows Update is already installing. The emulator's baseline answer reports it the way
// baseline.ps1 does (IUpdateInstaller.IsBusy); the run must stop before the catalog and end in 170 naming it, with
// nothing installed, instead of racing the other installer.
let env: RunEnv;
let fleet: SimulatedFleet;
beforeAll(async () => {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  const device = scenario.devices.find((d) => d.name === "WIN-SERVER01");
  if (device === undefined) throw new Error("no WIN-SERVER01 in the demo");
  device.foreignInstall = { by: "Windows Update", detail: "IUpdateInstaller.IsBusy: an installation is in progress" };
  fleet = buildFleet(scenario, clock);
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

describe("a foreign install already running on the device", () => {
  it("ends the run with 170 naming it, before the catalog, with nothing installed", async () => {
    const ref = env.devices.get("WIN-SERVER01");
    if (ref === undefined) throw new Error("no WIN-SERVER01");
    const driven = await driveRun(env, ref);
    const { run } = driven.input;
    expect(driven.result.exitCode).toBe(170);
    const store = evidenceFor(env).store;
    const read = async <T>(p: string): Promise<T | undefined> => {
      const bytes = await store.get(run, p);
      return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
    };
    const decision = await read<ExitCodeRecord>(ARTIFACTS.exitCode.path);
    expect(decision?.rule).toBe("170.foreign-install");
    expect(decision?.reasons[0]).toContain("Windows Update");
    expect((await read<SystemSnapshot>(ARTIFACTS.baseline.path))?.installInProgress).toMatchObject({ busy: true });
    expect(await read(ARTIFACTS.catalog.path)).toBeUndefined();
    const simulated = fleet.devices.find((d) => d.name === "WIN-SERVER01");
    expect(simulated?.state.installRecords).toEqual([]);
    // The lock is released: the next window may try again once the other installer is done.
    expect(await env.locks.read(run.tenant, run.device)).toBeUndefined();
    expect((await verifyRun(evidenceFor(env), run)).ok).toBe(true);
  });
});
