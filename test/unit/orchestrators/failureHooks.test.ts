// Issue 20: `always` on the orchestrator's failure path. A run whose advance loop gave up (retries exhausted) after
// its install's command was sent still runs its owed on-failure and `always` hooks through runFailureHooks, on
// durable timers, before finish; a run that reached its post stage, or never sent its install, does not. Replayed
// from hand-built history through durable-functions' own replay code.
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { FAILURE_HOOKS_BUDGET_MINUTES, failureHookSteps } from "../../../lib/domain/hooks/failureHooks";
import type { DeviceRunState } from "../../../lib/schemas/deviceRun";
import type { RunFailureHooksResult } from "../../../lib/schemas/failureHooks";
import { devicePatchRun } from "../../../orchestrators/devicePatchRun";
import { at, deviceRunInput, deviceRunResult, freshState, T0 } from "./deviceRunFixture";
import { driveOrchestration, type Answer, type Call } from "./driveOrchestration";

const input = deviceRunInput("r20260120-0020", { end: at(240), cutoff: at(210) });
const result = deviceRunResult(input, 210, "InstallFailure");
const hooked = { ...freshState.policy, alwaysHooks: true, onFailureHooks: true, preInstallHooks: true };
const installing: DeviceRunState = {
  ...freshState,
  policy: hooked,
  stage: "install",
  installAttempt: 1,
  nextCheckAt: at(5),
};
const ref = (path: string) => ({ path, blobName: `b/${path}`, sha256: "a".repeat(64), size: 1 });
const names = (calls: Call[]) => calls.map((c) => (c.kind === "timer" ? `timer@${String(c.input)}` : c.name));

function respond(advance: (n: number) => Answer, hooks: (n: number, call: Call) => Answer) {
  let advances = 0;
  let looks = 0;
  return (call: Call): Answer => {
    if (call.name === "startDeviceRun") return { ok: installing };
    if (call.name === "advanceDeviceRun") return advance(advances++);
    if (call.name === "runFailureHooks") return hooks(looks++, call);
    if (call.name === "finishDeviceRun") return { ok: result };
    return { ok: { published: [] } };
  };
}

describe("the failure path runs the hooks a given-up run owes", () => {
  it("an advance that kept failing: runFailureHooks on durable timers until done, then finish with its state", async () => {
    let nextLook = "";
    const waiting = (now: string): RunFailureHooksResult => {
      nextLook = new Date(Date.parse(now) + 60_000).toISOString();
      return { state: { ...installing, nextCheckAt: nextLook }, done: false, outcome: "waiting" };
    };
    const ran: RunFailureHooksResult = {
      state: { ...installing, stored: [ref(ARTIFACTS.hooksAlways.path)] },
      done: true,
      outcome: "ran",
    };
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      respond(
        () => ({ error: "ServiceUnavailable: storage down" }),
        (n, call) => ({ ok: n === 0 ? waiting((call.input as { now: string }).now) : ran }),
      ),
      T0,
    );
    expect(drive.outcome).toMatchObject({ status: "completed", output: result });
    const called = names(drive.calls);
    // Six advance attempts (the retry policy), then the failure path: a look, a timer to its next check, a look.
    expect(called.filter((n) => n === "advanceDeviceRun")).toHaveLength(6);
    const tail = called.slice(called.indexOf("runFailureHooks"));
    expect(tail).toEqual([
      "runFailureHooks",
      `timer@${nextLook}`,
      "runFailureHooks",
      "finishDeviceRun",
      "publishRunEvents",
    ]);
    const looks = drive.calls.filter((c) => c.name === "runFailureHooks");
    const first = looks[0]?.input as { deadline: string; attempt: number; failure: string; now: string };
    // The deadline comes from the orchestration clock when the failure path started, the budget after it.
    expect(Date.parse(first.deadline) - Date.parse(first.now)).toBe(FAILURE_HOOKS_BUDGET_MINUTES * 60_000);
    expect(first.failure).toContain("storage down");
    expect((looks[1]?.input as { attempt: number }).attempt).toBe(1);
    // Finish seals the state the failure path returned (with the hooks' report) and still names the give-up.
    const finish = drive.calls.find((c) => c.name === "finishDeviceRun")?.input as {
      state: DeviceRunState;
      failure: string;
    };
    expect(finish.state.stored.map((s) => s.path)).toEqual([ARTIFACTS.hooksAlways.path]);
    expect(finish.failure).toContain("storage down");
  });

  it("a failure path activity that fails too is named in finish's failure, never silent", async () => {
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      respond(
        () => ({ error: "ServiceUnavailable: storage down" }),
        () => ({ error: "ServiceUnavailable: still down" }),
      ),
      T0,
    );
    expect(drive.outcome.status).toBe("completed");
    const finish = drive.calls.find((c) => c.name === "finishDeviceRun")?.input as { failure: string };
    expect(finish.failure).toMatch(/storage down; could not run the always hooks: .*still down/);
  });

  it("a run that ended through its post stage, or never sent its install, calls no failure hook", async () => {
    const done: DeviceRunState = { ...installing, stage: "done", stored: [ref(ARTIFACTS.hooksAlways.path)] };
    const drive = await driveOrchestration(
      devicePatchRun,
      input,
      respond(
        () => ({ ok: done }),
        () => {
          throw new Error("no failure path expected");
        },
      ),
      T0,
    );
    expect(names(drive.calls)).not.toContain("runFailureHooks");
    // Pure rule: given up before the install (a failed advance in the pre stage) owes nothing.
    expect(failureHookSteps({ ...installing, installAttempt: 0 }, true)).toEqual([]);
    // Given up mid-install: on-failure then always; only what is not stored yet.
    expect(failureHookSteps(installing, true)).toEqual(["onFailureHooks", "alwaysHooks"]);
    expect(failureHookSteps({ ...installing, stored: [ref(ARTIFACTS.hooksOnFailure.path)] }, true)).toEqual([
      "alwaysHooks",
    ]);
    // Not given up (the loop ended normally, no run.stopped): nothing, even without the always report.
    expect(failureHookSteps(installing, false)).toEqual([]);
  });
});
