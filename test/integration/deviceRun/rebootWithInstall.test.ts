import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { RebootRecord } from "../../../lib/schemas/artifacts/catalog";
import { RebootOutputSchema } from "../../../lib/schemas/device/reboot";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import type { SimulatedServer } from "../../../local/fleet/device/simulatedServer";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// Issue 22: the reboot folded into the install's run command, driven activity by activity against the fleet
// emulator (every advance retried with the same input: the same answer, not one blob more). The demo's WIN-SERVER01
// (IfRequired; its cumulative update needs a restart): one command installs and restarts, the next call finds the
// agent back and sends the boot probe; the device's own timeline (the emulator's) shows exactly one requested restart,
// at the time the run recorded. The same device with updates that never ask for a restart: the reboot section finds
// no marker and schedules nothing, the device never restarts, and no reboot command is sent.

const T0 = new Date("2026-01-20T01:00:00Z");

async function envWith(noRestart: boolean): Promise<{ env: RunEnv; fleet: SimulatedFleet }> {
  const clock = new ManualClock(T0);
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  if (noRestart)
    for (const u of scenario.updateSets["ws2022-2026-01"]?.updates ?? []) u.rebootBehavior = "NeverReboots";
  const fleet = buildFleet(scenario, clock);
  const env = await startRunEnv(
    fleet,
    clock,
    scenario.subscriptions.map((s) => s.id),
  );
  await seedPolicyStore(env.policies, scenario);
  return { env, fleet };
}

const envs: RunEnv[] = [];
afterAll(async () => {
  for (const env of envs) await env.close();
});

async function drive(noRestart: boolean) {
  const { env, fleet } = await envWith(noRestart);
  envs.push(env);
  const ref = env.devices.get("WIN-SERVER01");
  if (ref === undefined) throw new Error("no WIN-SERVER01");
  const driven = await driveRun(env, ref, { retryEveryCall: true });
  const store = evidenceFor(env).store;
  const read = async (p: string): Promise<string | undefined> =>
    (await store.get(driven.input.run, p))?.toString("utf8");
  const names = await store.listBlobNames(`${driven.input.run.tenant}/${driven.input.run.client}/`);
  const blobs = names.filter((n) => n.includes(`/${driven.input.run.runId}/`));
  const device = fleet.devices.find((d) => d.name === "WIN-SERVER01") as SimulatedServer;
  // The restarts PatchPilot asked for on the emulated device since the run started (its timeline, not our records).
  const restarts = device.state.timeline
    .bootsBetween(T0.getTime(), env.clock.now().getTime())
    .filter((b) => b.requested);
  return { env, driven, read, blobs, restarts };
}

const stepsOf = (c: { step: string; sections?: { step: string }[] }): string[] =>
  (c.sections ?? [{ step: c.step }]).map((s) => s.step);

describe("the reboot in the install's run command (issue 22)", () => {
  it("installs and restarts in one command; the agent's return and the boot probe in the next call; one restart", async () => {
    const { env, driven, read, blobs, restarts } = await drive(false);
    expect(driven.result.exitCode).toBe(0); // the demo's (demoFleet.test.ts)
    const commands = driven.states.flatMap((s) => s.commands.map(stepsOf));
    expect(commands).toContainEqual(["install", "rebootAfterInstall"]);
    // No reboot command of its own, and the run never stood in the reboot stage between two calls.
    expect(commands.filter((c) => c.includes("reboot"))).toEqual([]);
    expect(driven.states.some((s) => s.stage === "reboot")).toBe(false);
    // The call that collected the install also found the device back and sent the boot probe.
    const installAt = driven.states.findIndex((s) => s.commands.some((c) => stepsOf(c).includes("install")));
    expect(driven.states[installAt + 1]?.stage).toBe("bootProbe");
    expect(driven.timers).toBe(3);

    // The reboot section's transcript under 06-reboot, named for its step, is the reboot's answer.
    const stdout = blobs.find((n) => /06-reboot\/transcripts\/.*-rebootAfterInstall\.stdout\.txt$/.test(n));
    expect(stdout).toBeDefined();
    const prefix = `${driven.input.run.tenant}/${driven.input.run.client}/${driven.input.run.device}/${driven.input.run.runId}/`;
    const answer = RebootOutputSchema.parse(JSON.parse((await read(stdout!.slice(prefix.length))) ?? ""));
    expect(answer.data).toMatchObject({ scheduled: true, requested: true });

    // The emulated device restarted exactly once, at the time the run recorded (the section's request + its delay).
    expect(restarts).toHaveLength(1);
    const reboot = JSON.parse((await read(ARTIFACTS.reboot.path)) ?? "null") as RebootRecord;
    expect(reboot).toMatchObject({ outcome: "Completed", decidedBy: "boot-probe", rebootCount: 1 });
    expect(reboot.requestedAt).toBe(answer.data.scheduledAt);
    expect(restarts[0]?.shutdownAt).toBe(Date.parse(answer.data.scheduledAt) + answer.data.delaySeconds * 1000);
    expect(Date.parse(reboot.bootTimeAfter ?? "")).toBe(restarts[0]?.at);
    // The restart came no earlier than the install's estimate after the command was sent (the section's wait), so the
    // first look found the agent back: one look, no agent-status check of its own.
    const install = driven.states.flatMap((s) => s.commands).find((c) => stepsOf(c).includes("install"));
    expect(Date.parse(answer.data.scheduledAt)).toBeGreaterThanOrEqual(
      Date.parse(install!.submittedAt) + (install!.expectedSeconds - 60 - 180 - 5) * 1000,
    );
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
  }, 120_000);

  it("an install that needs no restart: the section finds no marker, nothing restarts, no reboot command", async () => {
    const { env, driven, read, blobs, restarts } = await drive(true);
    expect(driven.result.exitCode).toBe(0);
    const commands = driven.states.flatMap((s) => s.commands.map(stepsOf));
    expect(commands).toContainEqual(["install", "rebootAfterInstall"]);
    expect(commands.filter((c) => c.includes("reboot") || c.includes("bootProbe"))).toEqual([]);
    expect(restarts).toEqual([]);
    const stdout = blobs.find((n) => /06-reboot\/transcripts\/.*-rebootAfterInstall\.stdout\.txt$/.test(n));
    const prefix = `${driven.input.run.tenant}/${driven.input.run.client}/${driven.input.run.device}/${driven.input.run.runId}/`;
    const answer = RebootOutputSchema.parse(JSON.parse((await read(stdout!.slice(prefix.length))) ?? ""));
    expect(answer.data).toMatchObject({ scheduled: false, requested: false });
    expect(answer.errors).toEqual([]);
    const reboot = JSON.parse((await read(ARTIFACTS.reboot.path)) ?? "null") as RebootRecord;
    expect(reboot).toMatchObject({ outcome: "NotRequired", rebootCount: 0 });
    // start, pre (with the catalog), install (with the reboot section), post: three device waits.
    expect(driven.timers).toBe(3);
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
  }, 120_000);
});
