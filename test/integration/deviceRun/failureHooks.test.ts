import { createHash } from "node:crypto";
import path from "node:path";
import { makeAdvanceDeviceRun } from "../../../functions/activities/advanceDeviceRun";
import { makeFinishDeviceRun } from "../../../functions/activities/finishDeviceRun";
import { makeRunFailureHooks } from "../../../functions/activities/runFailureHooks";
import { makeStartDeviceRun } from "../../../functions/activities/startDeviceRun";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { HookReport } from "../../../lib/schemas/artifacts/hooks";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import type { DeviceRunInput, DeviceRunState } from "../../../lib/schemas/deviceRun";
import { devicePatchRun } from "../../../orchestrators/devicePatchRun";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveOrchestration, type Answer, type Call } from "../../unit/orchestrators/driveOrchestration";
import { depsFor, evidenceFor, runInputFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// Issue 20, "Done when": services stopped pre-install, then the run fails mid-install through the orchestrator's
// failure path. WIN-SERVER01's device layer stops W3SVC and then WAS before the install; its agent vanishes 30 s into
// the install, and while the install is in flight every advanceDeviceRun fails (storage down: Durable's six attempts
// are exhausted), so the advance loop gives up. The real orchestrator (durable-functions' replay code) then runs the
// failure path with the real runFailureHooks activity on the fleet emulator: it waits for the machine (the agent back,
// the install ended), runs the on-failure and always hooks in one command, and records them. The emulator's own service
// state and control log are the proof; an agent gone for good gets a report saying the hooks could not run.

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
const mspScript = (text: string) => ({ windows: { sha256: sha256(text), text, timeoutSeconds: 60 } });

interface Setup {
  env: RunEnv;
  fleet: SimulatedFleet;
}

async function setUp(agentBackAfterMinutes: number | undefined, vanishes = true): Promise<Setup> {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  const device = scenario.devices.find((d) => d.name === "WIN-SERVER01");
  if (device === undefined) throw new Error("no WIN-SERVER01 in the demo");
  device.services = [
    { name: "WAS", state: "Running", startType: "Automatic" },
    { name: "W3SVC", state: "Running", startType: "Automatic", dependsOn: ["WAS"] },
    { name: "EventLog", state: "Running", startType: "Automatic" },
  ];
  if (vanishes)
    device.agent = {
      ...device.agent,
      disconnectDuring: [
        {
          script: "install",
          occurrence: 1,
          afterSeconds: 30,
          ...(agentBackAfterMinutes === undefined ? {} : { forMinutes: agentBackAfterMinutes }),
        },
      ],
    };
  const layer = scenario.policies.find((l) => l.scope.level === "device" && l.scope.device === "WIN-SERVER01");
  if (layer === undefined) throw new Error("no WIN-SERVER01 device layer in the demo");
  Object.assign(layer, {
    hooks: {
      preInstall: [
        {
          type: "stopServices",
          services: [
            { name: "W3SVC", timeoutSeconds: 60 },
            { name: "WAS", timeoutSeconds: 60 },
          ],
        },
      ],
      onFailure: [{ type: "script", name: "page-on-call", script: mspScript("Send-Page -Team web\n") }],
      always: [{ type: "script", name: "maintenance-off", script: mspScript("Set-Maintenance -Off\n") }],
    },
  });
  const fleet = buildFleet(scenario, clock);
  const env = await startRunEnv(
    fleet,
    clock,
    scenario.subscriptions.map((s) => s.id),
  );
  await seedPolicyStore(env.policies, scenario);
  return { env, fleet };
}

/**
 * Drives devicePatchRun with the real activities; every advance fails while the install's command is in flight (or,
 * `failAfterPost`, every advance in the post stage fails after it ran: its writes happened, its state is lost).
 */
async function driveThroughFailure(
  env: RunEnv,
  failAfterPost = false,
): Promise<{ input: DeviceRunInput; calls: Call[] }> {
  const ref = env.devices.get("WIN-SERVER01");
  if (ref === undefined) throw new Error("no WIN-SERVER01");
  const deps = depsFor(env, evidenceFor(env));
  const activities: Record<string, (input: unknown) => Promise<unknown>> = {
    startDeviceRun: makeStartDeviceRun(deps),
    advanceDeviceRun: makeAdvanceDeviceRun(deps),
    runFailureHooks: makeRunFailureHooks(deps),
    finishDeviceRun: makeFinishDeviceRun(deps),
    publishRunEvents: () => Promise.resolve({ published: [] }),
  };
  const input = runInputFor(env, ref);
  const respond = async (call: Call): Promise<Answer> => {
    // The emulator's clock follows the orchestration's.
    const wait = Date.parse(call.at) - env.clock.now().getTime();
    if (wait > 0) env.clock.advance(wait);
    const request = call.input as { state?: DeviceRunState };
    const failing = failAfterPost ? "post" : "install";
    if (call.name === "advanceDeviceRun" && request.state?.stage === failing) {
      if (failAfterPost) await activities.advanceDeviceRun?.(call.input);
      return { error: "ServiceUnavailable: the storage account did not answer (injected)" };
    }
    const activity = activities[call.name];
    if (activity === undefined) throw new Error(`no activity ${call.name}`);
    return { ok: await activity(call.input) };
  };
  const drive = await driveOrchestration(devicePatchRun, input, respond, env.clock.now().toISOString(), 400);
  expect(drive.outcome.status).toBe("completed");
  return { input, calls: drive.calls };
}

async function readJson<T>(env: RunEnv, input: DeviceRunInput, p: string): Promise<T | undefined> {
  const bytes = await evidenceFor(env).store.get(input.run, p);
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
}

describe("always hooks on the orchestrator's failure path (local stack)", () => {
  let setup: Setup;
  afterEach(async () => {
    await setup?.env.close();
  });

  it("the agent vanishes mid-install and the advance loop gives up: the always hook restores the services", async () => {
    setup = await setUp(12);
    const { env, fleet } = setup;
    const simulated = fleet.devices.find((d) => d.name === "WIN-SERVER01");
    if (simulated === undefined) throw new Error("no simulated WIN-SERVER01");
    const { input, calls } = await driveThroughFailure(env);

    // The loop gave up through the failure path: six failed advances, then the failure hooks, then finish.
    const names = calls.filter((c) => c.kind === "activity").map((c) => c.name);
    expect(names.filter((n) => n === "advanceDeviceRun").length).toBeGreaterThanOrEqual(6);
    expect(names.indexOf("runFailureHooks")).toBeGreaterThan(names.lastIndexOf("advanceDeviceRun"));
    expect(names.indexOf("finishDeviceRun")).toBeGreaterThan(names.lastIndexOf("runFailureHooks"));

    // The emulator's control log: stopped dependents first, then started again in the reverse order.
    const log = simulated.state.serviceControl.log.map((r) => `${r.state} ${r.name}`);
    expect(log).toEqual(["Stopped W3SVC", "Stopped WAS", "Running WAS", "Running W3SVC"]);
    const states = Object.fromEntries(
      simulated.state.services(env.clock.now().getTime()).map((s) => [s.name, s.state]),
    );
    expect(states).toMatchObject({ WAS: "Running", W3SVC: "Running" });

    // Both owed points are evidence under 07-post-snapshot, with their transcripts, and the run verifies.
    const onFailure = await readJson<HookReport>(env, input, ARTIFACTS.hooksOnFailure.path);
    expect(onFailure?.actions.map((a) => [a.kind, a.target, a.ok])).toEqual([["script", "page-on-call", true]]);
    const always = await readJson<HookReport>(env, input, ARTIFACTS.hooksAlways.path);
    expect(always?.ok).toBe(true);
    expect(always?.actions.map((a) => [a.kind, a.target, a.ok, a.state])).toEqual([
      ["start", "WAS", true, "Running"],
      ["start", "W3SVC", true, "Running"],
      ["script", "maintenance-off", true, null],
    ]);
    expect(always?.source?.transcript).toMatch(/^07-post-snapshot\/transcripts\/.*alwaysHooks\.stdout\.txt$/);
    const verified = await verifyRun(evidenceFor(env), input.run);
    expect(verified.ok).toBe(true);
    expect(JSON.stringify(verified)).toContain(always?.source?.transcript ?? "missing");
    // Not a success: the install's evidence is missing and the give-up is recorded.
    const decision = await readJson<ExitCodeRecord>(env, input, ARTIFACTS.exitCode.path);
    expect(decision?.exitCode).not.toBe(0);
  });

  it("an advance that ended and sealed the run, then failed: the seal is final, no hook runs twice or after it", async () => {
    setup = await setUp(undefined, false);
    const { env, fleet } = setup;
    const simulated = fleet.devices.find((d) => d.name === "WIN-SERVER01");
    if (simulated === undefined) throw new Error("no simulated WIN-SERVER01");
    const { input, calls } = await driveThroughFailure(env, true);
    // The failure path looked once, found the run sealed (issue 22: the ending advance seals), and ran nothing.
    const looks = calls.filter((c) => c.name === "runFailureHooks");
    expect(looks.length).toBe(1);
    // Stopped once, started once (by the post stage's always point); nothing ran on the failure path.
    expect(simulated.state.serviceControl.log.map((r) => `${r.state} ${r.name}`)).toEqual([
      "Stopped W3SVC",
      "Stopped WAS",
      "Running WAS",
      "Running W3SVC",
    ]);
    const always = await readJson<HookReport>(env, input, ARTIFACTS.hooksAlways.path);
    expect(always?.ok).toBe(true);
    expect(always?.failurePath).toBeUndefined();
    // The run succeeded on the device: its on-failure point (paging on-call) must not fire for a lost answer.
    expect(await readJson<HookReport>(env, input, ARTIFACTS.hooksOnFailure.path)).toBeUndefined();
    // Everything the run wrote is sealed once and verifies; finish returned the sealed decision, not a second one.
    const verified = await verifyRun(evidenceFor(env), input.run);
    expect(verified.ok).toBe(true);
    expect(verified.unindexed).toEqual([]);
    const decision = await readJson<ExitCodeRecord>(env, input, ARTIFACTS.exitCode.path);
    const finish = calls.find((c) => c.name === "finishDeviceRun");
    expect(finish).toBeDefined();
    expect(decision?.exitCode).toBe(0);
  });

  it("an agent gone for good: the always report says the hooks could not run and what stays stopped", async () => {
    setup = await setUp(undefined);
    const { env, fleet } = setup;
    const simulated = fleet.devices.find((d) => d.name === "WIN-SERVER01");
    if (simulated === undefined) throw new Error("no simulated WIN-SERVER01");
    const { input, calls } = await driveThroughFailure(env);
    const looks = calls.filter((c) => c.name === "runFailureHooks");
    expect(looks.length).toBeGreaterThan(1);
    // Bounded: the last look is at most the budget after the first.
    const first = looks[0]?.input as { now: string; deadline: string };
    const last = looks[looks.length - 1]?.input as { now: string };
    expect(Date.parse(last.now)).toBeLessThanOrEqual(Date.parse(first.deadline));

    const always = await readJson<HookReport>(env, input, ARTIFACTS.hooksAlways.path);
    expect(always).toMatchObject({ ok: false, reported: false, actions: [] });
    expect(always?.failurePath?.failure).toContain("storage account did not answer");
    expect(always?.failurePath?.notRun).toMatch(/could not run the onFailure and always hooks/);
    expect(always?.failurePath?.notRun).toContain("may still be stopped: WAS, W3SVC");
    // Honest: the emulator still has them stopped, as the report says.
    const states = Object.fromEntries(
      simulated.state.services(env.clock.now().getTime()).map((s) => [s.name, s.state]),
    );
    expect(states).toMatchObject({ WAS: "Stopped", W3SVC: "Stopped" });
    expect((await verifyRun(evidenceFor(env), input.run)).ok).toBe(true);
  });
});
