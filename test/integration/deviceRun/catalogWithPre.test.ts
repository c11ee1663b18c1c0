import path from "node:path";
import { ARTIFACTS, PHASES } from "../../../lib/domain/artifacts";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { Catalog } from "../../../lib/schemas/artifacts/catalog";
import { buildFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// Issue 22: the read-only catalog scan rides at the end of the pre stage's run command. On the demo's WIN-SERVER01
// (exit 0) the first command carries baseline, pre-validation and catalog; the catalog is recorded from it as a
// command of its own would be (03-catalog/catalog.json, verified with the run), decided in the same call, and the
// install is submitted by that call with its first look estimated from the stored catalog's approved updates (a
// minute each plus their size at ~1.5 MB/s: the sizes come from the emulator's update set, not from our code).
let env: RunEnv;
const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
beforeAll(async () => {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const fleet = buildFleet(scenario, clock);
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

describe("the catalog in the pre stage's command (issue 22)", () => {
  it("records the catalog from the first command and submits the install in the same call, its first look from the catalog", async () => {
    const ref = env.devices.get("WIN-SERVER01");
    if (ref === undefined) throw new Error("no WIN-SERVER01");
    const driven = await driveRun(env, ref);
    const { run } = driven.input;
    expect(driven.result.exitCode).toBe(0); // the demo's (demoFleet.test.ts)
    const commands = driven.states.flatMap((s) => s.commands);
    const first = commands[0];
    expect(first?.sections?.map((s) => s.step)).toEqual(["baseline", "preValidation", "catalog"]);
    // No catalog command of its own, and the run never stood in the catalog stage between two calls.
    expect(commands.filter((c) => c.step === "catalog" || c.sections?.some((s) => s.step === "catalog"))).toHaveLength(
      1,
    );
    expect(driven.states.some((s) => s.stage === "catalog")).toBe(false);

    const bytes = await evidenceFor(env).store.get(run, ARTIFACTS.catalog.path);
    const catalog = JSON.parse(bytes?.toString("utf8") ?? "null") as Catalog;
    const approved = catalog.updates.filter((u) => u.decision === "approved");
    expect(approved.length).toBeGreaterThan(0);
    // The sizes the catalog recorded are the emulator's (the demo scenario's update set).
    const device = scenario.devices.find((d) => d.name === "WIN-SERVER01");
    const sets = (device?.updateSets ?? []).map((id) => scenario.updateSets[id]);
    const sizes = new Map(
      sets.flatMap((s) => (s?.updates ?? []).map((u) => ["updateId" in u ? u.updateId : u.name, u.sizeBytes])),
    );
    for (const u of approved) expect([u.updateId, u.sizeBytes]).toEqual([u.updateId, sizes.get(u.updateId)]);
    const install = commands.find((c) => c.step === "install" || c.sections?.some((s) => s.step === "install"));
    const expected = Math.round(60 + approved.reduce((sum, u) => sum + 60 + (u.sizeBytes ?? 0) / 1_500_000, 0));
    // Issue 22: the reboot rides last in the install's command, and a reboot is likely (an approved update may ask for
    // one): its first look waits also for the reboot's 60 s delay and a Windows restart with the agent's return (180 s,
    // docs/patch-run.md), plus the reboot script's own seconds, so the typical run finds the install ended and the
    // device back in one look.
    expect(install?.sections?.map((s) => s.step)).toEqual(["install", "rebootAfterInstall"]);
    expect(approved.some((u) => u.rebootBehavior !== "NeverReboots")).toBe(true);
    expect(install?.expectedSeconds).toBeGreaterThan(expected + 60 + 180);
    expect(install?.expectedSeconds).toBeLessThanOrEqual(expected + 60 + 180 + 30);
    // The catalog's transcript sits under its own phase, named for its step, with its own status record.
    const names = await evidenceFor(env).store.listBlobNames(driven.result.evidencePrefix);
    expect(
      names.filter((n) => n.includes(`/${PHASES.catalog}/transcripts/`) && n.endsWith("-catalog.status.json")),
    ).toHaveLength(1);
    expect((await verifyRun(evidenceFor(env), run)).ok).toBe(true);
  });
});
