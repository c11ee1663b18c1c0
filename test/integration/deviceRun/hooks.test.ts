import { createHash } from "node:crypto";
import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { HookReport } from "../../../lib/schemas/artifacts/hooks";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import { buildFleet, type SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// Issue 20: hooks that act. WIN-SERVER01's device layer stops W3SVC and then WAS (W3SVC depends on WAS, so it goes
// first) and turns maintenance mode on before the install; the install then hangs (an update that never returns) and
// is given up. The always point must still start WAS and then W3SVC again and turn maintenance mode off, before the
// post validation; the emulator's own service state and control log are the proof.

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
    { name: "EventLog", state: "Running", startType: "Automatic" },
  ];
  const set = scenario.updateSets["ws2022-2026-01"];
  const first = set?.updates[0] as { kb?: string } | undefined;
  if (first?.kb === undefined) throw new Error("no first update in ws2022-2026-01");
  device.outcomes = { ...device.outcomes, [first.kb]: { result: "hangs" } };
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
        { type: "script", name: "maintenance-on", script: mspScript("Set-Maintenance -On\n") },
      ],
      always: [{ type: "script", name: "maintenance-off", script: mspScript("Set-Maintenance -Off\n") }],
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

describe("hooks that act, on the local stack", () => {
  it("services stopped pre-install are restored by the always point after the install hung and was given up", async () => {
    const ref = env.devices.get("WIN-SERVER01");
    if (ref === undefined) throw new Error("no WIN-SERVER01");
    const simulated = fleet.devices.find((d) => d.name === "WIN-SERVER01");
    if (simulated === undefined) throw new Error("no simulated WIN-SERVER01");
    const driven = await driveRun(env, ref);
    const { run } = driven.input;
    const store = evidenceFor(env).store;
    const read = async <T>(p: string): Promise<T | undefined> => {
      const bytes = await store.get(run, p);
      return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
    };

    // The install failed (it never returned): the run is a 210, not a silent success.
    const decision = await read<ExitCodeRecord>(ARTIFACTS.exitCode.path);
    expect(decision?.exitCode).toBe(210);
    expect(decision?.rule).toBe("210.install-phase-failed");

    // The emulator's control log: stopped dependents first, then (after the failed install) started in reverse order.
    const log = simulated.state.serviceControl.log.map((r) => `${r.state} ${r.name}`);
    expect(log.slice(0, 2)).toEqual(["Stopped W3SVC", "Stopped WAS"]);
    expect(log.slice(-2)).toEqual(["Running WAS", "Running W3SVC"]);
    const now = env.clock.now().getTime();
    const states = Object.fromEntries(simulated.state.services(now).map((s) => [s.name, s.state]));
    expect(states).toMatchObject({ WAS: "Running", W3SVC: "Running" });

    // Both points are evidence, sealed with their transcripts under their phases, and the run verifies.
    const pre = await read<HookReport>(ARTIFACTS.hooksPreInstall.path);
    expect(pre?.actions.map((a) => [a.kind, a.target, a.ok])).toEqual([
      ["stop", "W3SVC", true],
      ["stop", "WAS", true],
      ["script", "maintenance-on", true],
    ]);
    const always = await read<HookReport>(ARTIFACTS.hooksAlways.path);
    expect(always?.ok).toBe(true);
    expect(always?.setBy).toBe("device:contoso-msp/fabrikam/WIN-SERVER01");
    expect(always?.actions.map((a) => [a.kind, a.target, a.ok, a.state])).toEqual([
      ["start", "WAS", true, "Running"],
      ["start", "W3SVC", true, "Running"],
      ["script", "maintenance-off", true, null],
    ]);
    expect(always?.source?.transcript).toMatch(/^07-post-snapshot\/transcripts\/.*alwaysHooks\.stdout\.txt$/);
    const verified = await verifyRun(evidenceFor(env), run);
    expect(verified.ok).toBe(true);
    expect(JSON.stringify(verified)).toContain(always?.source?.transcript ?? "missing");
    // Restored before the post validation: the iis check (W3SVC) is no regression.
    expect(driven.result.counts.regressions).toBe(0);
  });
});
