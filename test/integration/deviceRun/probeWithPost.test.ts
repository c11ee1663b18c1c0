import path from "node:path";
import { ARTIFACTS, PHASES } from "../../../lib/domain/artifacts";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { RebootRecord } from "../../../lib/schemas/artifacts/catalog";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import type { SystemSnapshot } from "../../../lib/schemas/artifacts/snapshot";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// Issue 22: after a reboot, the post stage's steps ride in the boot probe's run command. The probe is decided first;
// the post sections are recorded only when that decision is the post stage. WIN-SERVER01 (the demo: reboots once,
// exit 0) and the same device with a pending-reboot flag that survives every reboot (a stuck servicing operation:
// the run reboots again up to the policy's limit, then RebootLoopGuard), where the post sections that ran after a probe
// that did not let the run on are not recorded, and the post stage is recorded once, from the last command.
async function envWith(pendingAfterReboot: boolean): Promise<{ env: RunEnv; fleet: SimulatedFleet }> {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  const device = scenario.devices.find((d) => d.name === "WIN-SERVER01");
  if (device === undefined) throw new Error("no WIN-SERVER01 in the demo");
  if (pendingAfterReboot) device.reboot = { ...device.reboot, pendingAfterReboot: true };
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

async function drive(pendingAfterReboot: boolean) {
  const { env, fleet } = await envWith(pendingAfterReboot);
  envs.push(env);
  const ref = env.devices.get("WIN-SERVER01");
  if (ref === undefined) throw new Error("no WIN-SERVER01");
  const driven = await driveRun(env, ref);
  const store = evidenceFor(env).store;
  const read = async <T>(p: string): Promise<T | undefined> => {
    const bytes = await store.get(driven.input.run, p);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
  };
  const names = await store.listBlobNames(`${driven.input.run.tenant}/${driven.input.run.client}/`);
  const mine = names.filter((n) => n.includes(`/${driven.input.run.runId}/`));
  const simulated = fleet.devices.find((d) => d.name === "WIN-SERVER01");
  return { env, driven, read, blobs: mine, simulated };
}

const sectionsOf = (states: { commands: { sections?: { step: string }[] }[] }[]): string[][] =>
  states.flatMap((s) => s.commands.map((c) => (c.sections ?? []).map((x) => x.step)));

describe("the boot probe and the post stage in one run command (issue 22)", () => {
  it("records the probe and then the post stage from the one command, as a post command of its own would", async () => {
    const { env, driven, read } = await drive(false);
    expect(driven.result.exitCode).toBe(0); // the demo's (demoFleet.test.ts)
    const bundles = sectionsOf(driven.states);
    expect(bundles).toContainEqual(["bootProbe", "snapshot", "postValidation", "diagnostics", "stableProbe"]);
    // No post command of its own: the post steps went only in the probe's command, and so did the stability probe
    // (last, after the device's settle wait): no second probe command.
    expect(bundles.filter((b) => b.includes("snapshot"))).toHaveLength(1);
    expect(bundles.filter((b) => b.includes("bootProbe"))).toHaveLength(1);
    expect(driven.states.some((s) => s.stage === "post")).toBe(false);
    const reboot = await read<RebootRecord>(ARTIFACTS.reboot.path);
    expect(reboot).toMatchObject({ outcome: "Completed", decidedBy: "boot-probe" });
    // The post snapshot saw the boot the probe proved.
    expect((await read<SystemSnapshot>(ARTIFACTS.snapshot.path))?.lastBootTime).toBe(reboot?.bootTimeAfter);
    expect(await read(ARTIFACTS.postValidation.path)).toBeDefined();
    expect(await read(ARTIFACTS.diagnostics.path)).toBeDefined();
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
  });

  it("does not record post sections that ran after a probe still seeing a pending reboot; records the last ones", async () => {
    const { env, driven, read, blobs } = await drive(true);
    const decision = await read<ExitCodeRecord>(ARTIFACTS.exitCode.path);
    const reboot = await read<RebootRecord>(ARTIFACTS.reboot.path);
    expect(reboot?.outcome).toBe("RebootLoopGuard");
    expect(decision?.exitCode).toBe(150);
    // Each reboot was followed by one probe command carrying the post steps (the device ran them each time) ...
    const withPost = sectionsOf(driven.states).filter((b) => b.includes("snapshot"));
    expect(withPost.length).toBe(reboot?.rebootCount);
    expect(withPost.length).toBeGreaterThan(1);
    // ... their transcripts are all kept (what ran on the device), but the post stage was recorded once: one
    // snapshot.json, no failure record, and the run verifies (no write-once conflict).
    const snapshotStatuses = blobs.filter(
      (n) => n.includes(`/${PHASES.postSnapshot}/transcripts/`) && n.endsWith("-snapshot.status.json"),
    );
    expect(snapshotStatuses).toHaveLength(withPost.length);
    expect(blobs.filter((n) => n.endsWith(`/${PHASES.postSnapshot}/failure.json`))).toEqual([]);
    const snapshot = await read<SystemSnapshot>(ARTIFACTS.snapshot.path);
    expect(snapshot?.pendingReboot.pending).toBe(true);
    expect((await verifyRun(evidenceFor(env), driven.input.run)).ok).toBe(true);
  });
});
