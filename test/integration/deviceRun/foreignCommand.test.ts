import path from "node:path";
import { ARTIFACTS, failurePath } from "../../../lib/domain/artifacts";
import type { PhaseFailure } from "../../../lib/schemas/artifacts/run";
import { buildFleet } from "../../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { ManualClock } from "../fleet/testFleet";
import { driveRun, evidenceFor, startRunEnv, type RunEnv } from "./deviceRunHarness";

// A command of someone else (an RMM's inventory script) is running on the machine when PatchPilot comes: the agent
// answers PatchPilot's run command with 409 Conflict until it ends. The run waits and submits again within the step's
// deadline, and its events record every 409 and the wait.

let env: RunEnv;

beforeAll(async () => {
  const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
  const scenario = readScenarioFile(path.resolve(__dirname, "../../../local/scenarios/demo.json"));
  const foreign = (name: string, durationMinutes: number) => ({
    // No runId: not a PatchPilot run, so no device lock is held; only the agent is busy.
    runningCommand: { name, script: "install" as const, startedMinutesAgo: 0, durationMinutes },
  });
  const devices = scenario.devices.map((d) =>
    d.name === "WIN-SERVER01"
      ? { ...d, ...foreign("rmm-inventory", 3) }
      : d.name === "fab-lnx01"
        ? { ...d, ...foreign("rmm-stuck", 24 * 60) }
        : d,
  );
  const patched = { ...scenario, devices };
  env = await startRunEnv(
    buildFleet(patched, clock),
    clock,
    scenario.subscriptions.map((s) => s.id),
  );
  await seedPolicyStore(env.policies, patched);
});
afterAll(async () => {
  await env?.close();
});

function device(name: string) {
  const found = env.devices.get(name);
  if (found === undefined) throw new Error(`no ${name}`);
  return found;
}

describe("a foreign run command on the machine (409 Conflict from the agent)", () => {
  it("is waited out within the step's deadline and recorded; the run ends as it would without it", async () => {
    const before = { ...env.emulator.engine.concurrency };
    const driven = await driveRun(env, device("WIN-SERVER01"));
    expect(driven.result.exitCode).toBe(0); // as in the demo (test/harness/demoExpectations.ts)
    const events = driven.states.at(-1)?.events ?? [];
    const conflicts = events.filter((e) => e.type === "runCommand.conflict");
    expect(conflicts.length).toBeGreaterThanOrEqual(3); // 3 minutes of a foreign command, retried each minute
    expect(conflicts[0]?.data).toMatchObject({ step: "baseline", status: 409, code: "Conflict" });
    const cleared = events.find((e) => e.type === "runCommand.conflictCleared");
    expect(cleared?.data).toMatchObject({ step: "baseline", conflicts: conflicts.length });
    expect(Number(cleared?.data?.waitedSeconds)).toBeGreaterThanOrEqual(180 - 60);
    const after = env.emulator.engine.concurrency;
    expect(after.foreignConflicts - before.foreignConflicts).toBe(conflicts.length);
    expect(after.overlaps).toBe(before.overlaps); // PatchPilot never overlapped itself
    // Never two commands of the run in flight at once.
    expect(driven.states.every((s) => s.commands.length <= 1)).toBe(true);
  });

  it("gives up past the step's deadline: nothing runs, the phase records why (DeviceBusy), exit 170 (busy, not unreachable)", async () => {
    const driven = await driveRun(env, device("fab-lnx01"));
    expect(driven.result.exitCode).toBe(170);
    const decision = JSON.parse(
      String(await evidenceFor(env).store.get(driven.input.run, ARTIFACTS.exitCode.path)),
    ) as { rule: string };
    expect(decision.rule).toBe("170.device-busy");
    const failure = JSON.parse(
      String(await evidenceFor(env).store.get(driven.input.run, failurePath("baseline"))),
    ) as PhaseFailure;
    expect(failure.kind).toBe("DeviceBusy");
    expect(failure.message).toMatch(/409 Conflict/);
    const events = driven.states.at(-1)?.events ?? [];
    expect(events.some((e) => e.type === "runCommand.conflictGaveUp")).toBe(true);
    expect(driven.states.every((s) => s.commands.length === 0)).toBe(true);
  });
});
