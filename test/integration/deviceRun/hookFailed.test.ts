import { createHash } from "node:crypto";
import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { HookReport } from "../../../lib/schemas/artifacts/hooks";
import type { InstallOutcome } from "../../../lib/schemas/artifacts/catalog";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// Issue 20: a failed pre-install hook stops the install in the same run command. WIN-SERVER01's device layer stops WAS
// before W3SVC (the wrong order: W3SVC depends on WAS and runs, so Windows refuses), then W3SVC. The install section of
// the same command finds the hooks' fence and installs nothing; the post stage runs the on-failure hook and `always`
// (starting W3SVC and WAS again), and the run ends 170 `170.hook-failed`. The emulator's install records and service
// state are the proof.

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
const mspScript = (text: string) => ({ windows: { sha256: sha256(text), text, timeoutSeconds: 60 } });

let env: RunEnv;
let fleet: SimulatedFleet;

beforeAll(async () => {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  const device = scenario.devices.find((d) => d.name === "WIN-SERVER01");
  if (device === undefined) throw new Error("no WIN-SERVER01 in the demo");
  device.services = [
    { name: "WAS", state: "Running", startType: "Automatic" },
    { name: "W3SVC", state: "Running", startType: "Automatic", dependsOn: ["WAS"] },
  ];
  const layer = scenario.policies.find((l) => l.scope.level === "device" && l.scope.device === "WIN-SERVER01");
  if (layer === undefined) throw new Error("no WIN-SERVER01 device layer in the demo");
  Object.assign(layer, {
    hooks: {
      preInstall: [{ type: "stopServices", services: [{ name: "WAS" }, { name: "W3SVC" }] }],
      postInstall: [{ type: "script", name: "warm-cache", script: mspScript("Invoke-WarmUp\n") }],
      onFailure: [{ type: "script", name: "page-on-call", script: mspScript("Send-Page -Team web\n") }],
    },
  });
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

it("a failed pre-install hook: nothing installed in that command, on-failure and always run, exit 170.hook-failed", async () => {
  const ref = env.devices.get("WIN-SERVER01");
  const simulated = fleet.devices.find((d) => d.name === "WIN-SERVER01");
  if (ref === undefined || simulated === undefined) throw new Error("no WIN-SERVER01");
  const driven = await driveRun(env, ref);
  const { run } = driven.input;
  const store = evidenceFor(env).store;
  const read = async <T>(p: string): Promise<T | undefined> => {
    const bytes = await store.get(run, p);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
  };

  // The emulator installed nothing on the device.
  expect(simulated.state.installRecords).toEqual([]);
  const pre = await read<HookReport>(ARTIFACTS.hooksPreInstall.path);
  expect(pre?.actions.map((a) => [a.kind, a.target, a.ok])).toEqual([
    ["stop", "WAS", false],
    ["stop", "W3SVC", true],
  ]);
  const summary = (await store.get(run, ARTIFACTS.installSummary.path))?.toString("utf8") ?? "";
  const outcomes = summary
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as InstallOutcome);
  expect(outcomes.length).toBeGreaterThan(0);
  expect(outcomes.every((o) => o.result === "NotAttempted" && !o.installed)).toBe(true);
  // The install's own transcript says why (the same command: its section follows the hooks' section).
  const transcripts = await store.listBlobNames(`${run.tenant}/${run.client}/${run.device}/${run.runId}/05-install/`);
  expect(transcripts.some((t) => /preInstallHooks\.stdout\.txt$/.test(t))).toBe(true);
  const installOut = transcripts.find((t) => /-install\.stdout\.txt$/.test(t));
  expect(installOut).toBeDefined();
  // Post-install ran in the same command (after the install), as its point says.
  expect((await read<HookReport>(ARTIFACTS.hooksPostInstall.path))?.actions.map((a) => a.target)).toEqual([
    "warm-cache",
  ]);

  // The post stage ran on-failure, then always (W3SVC started again; WAS was never stopped and stays running).
  const onFailure = await read<HookReport>(ARTIFACTS.hooksOnFailure.path);
  expect(onFailure?.actions.map((a) => [a.target, a.ok])).toEqual([["page-on-call", true]]);
  const always = await read<HookReport>(ARTIFACTS.hooksAlways.path);
  expect(always?.actions.map((a) => [a.kind, a.target, a.ok])).toEqual([
    ["start", "W3SVC", true],
    ["start", "WAS", true],
  ]);
  const states = Object.fromEntries(simulated.state.services(env.clock.now().getTime()).map((s) => [s.name, s.state]));
  expect(states).toMatchObject({ WAS: "Running", W3SVC: "Running" });
  expect(simulated.state.serviceControl.log.map((r) => `${r.state} ${r.name}`)).toEqual([
    "Stopped W3SVC",
    "Running W3SVC",
    "Running WAS",
  ]);

  const decision = await read<ExitCodeRecord>(ARTIFACTS.exitCode.path);
  expect(decision?.exitCode).toBe(170);
  expect(decision?.rule).toBe("170.hook-failed");
  expect(decision?.reasons[0]).toMatch(/pre-install hook failed, nothing was installed .*stop WAS/);
  expect((await verifyRun(evidenceFor(env), run)).ok).toBe(true);
});
