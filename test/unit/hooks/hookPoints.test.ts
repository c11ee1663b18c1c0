// Issue 20: where each hook point runs (the planner folds them into the commands a run sends anyway), the window
// cut-off, and the 170.hook-failed rule over verified evidence.
import { failureHookSteps, runGivenUp } from "../../../lib/domain/hooks/failureHooks";
import { withHookSteps } from "../../../lib/domain/hooks/planHooks";
import { decideExitCode, type ExitCodeEvidence, type Reading } from "../../../lib/domain/exitCode/decideExitCode";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { newDeviceRunState } from "../../../lib/domain/run/newDeviceRunState";
import { planNext } from "../../../lib/domain/run/planDeviceRun";
import { STAGES } from "../../../lib/domain/run/steps";
import type { HookReport } from "../../../lib/schemas/artifacts/hooks";
import type { InstallOutcome } from "../../../lib/schemas/artifacts/catalog";
import type { DeviceRunState } from "../../../lib/schemas/deviceRun";
import type { RunRef } from "../../../lib/schemas/common";
import { buildSampleArtifacts } from "../../../local/demo/sampleRun";

const T = new Date("2026-01-20T02:00:00Z");
const svc = { type: "stopServices" as const, services: [{ name: "W3SVC" }] };
const page = {
  type: "script" as const,
  name: "page",
  script: { windows: { sha256: "a".repeat(64), text: "x", timeoutSeconds: 30 } },
};
const { policy } = resolveEffectivePolicy([
  DEFAULT_GLOBAL_POLICY,
  {
    schemaVersion: 1,
    scope: { level: "tenant", tenant: "t" },
    hooks: { preInstall: [svc], postInstall: [page], postReboot: [page], onFailure: [page] },
  },
]);
const fresh = newDeviceRunState(policy, T);
const post = (state: Partial<DeviceRunState>) =>
  withHookSteps({ state: { ...fresh, ...state, stage: "post" }, submit: [...STAGES.post.steps] }).submit;

describe("hook points in the planner", () => {
  it("the run's flags say which points the policy has", () => {
    expect(fresh.policy).toMatchObject({
      preInstallHooks: true,
      postInstallHooks: true,
      postRebootHooks: true,
      onFailureHooks: true,
      // Restarting what pre-install stopped is the always point's job, with or without an always list.
      alwaysHooks: true,
    });
  });

  it("pre- and post-install run in the install's own command, around the install", () => {
    const plan = withHookSteps({ state: { ...fresh, stage: "install", installAttempt: 1 }, submit: ["install"] });
    expect(plan.submit).toEqual(["preInstallHooks", "install", "postInstallHooks"]);
  });

  it("post-reboot, on-failure and always start the post stage's command; on-failure only when the run failed", () => {
    const steps = STAGES.post.steps;
    expect(post({ installAttempt: 1 })).toEqual(["postRebootHooks", "alwaysHooks", ...steps]);
    expect(post({ installAttempt: 1, counts: { ...fresh.counts, failed: 2 } })).toEqual([
      "postRebootHooks",
      "onFailureHooks",
      "alwaysHooks",
      ...steps,
    ]);
    const givenUp = { at: T.toISOString(), type: "phase.failed", phase: "05-install" };
    expect(post({ installAttempt: 2, events: [...fresh.events, givenUp] })).toContain("onFailureHooks");
    // No install was sent (nothing approved, a dry run): nothing was stopped or rebooted, nothing failed.
    expect(post({ installAttempt: 0 })).toEqual(["alwaysHooks", ...steps]);
  });

  it("a run cut off by the window still runs always: in its post stage, or on the failure path with the agent gone", () => {
    const waiting: DeviceRunState = {
      ...fresh,
      stage: "installReconnect",
      installAttempt: 1,
      waitingSince: T.toISOString(),
    };
    const ctx = { now: T, windowEnd: new Date(T.getTime() + 5 * 60_000), dryRun: false, scanOnly: false };
    // The agent is back, but the window has no install budget left: given up, then the post stage with the hooks.
    const back = planNext(waiting, { stage: "installReconnect", agentStatus: "Connected" }, ctx);
    expect(back.state.stage).toBe("post");
    expect(back.submit.slice(0, 3)).toEqual(["postRebootHooks", "onFailureHooks", "alwaysHooks"]);
    // Still away at the cut-off: the run stops; the orchestrator's failure path owes on-failure and always.
    const away = planNext(waiting, { stage: "installReconnect", agentStatus: "Disconnected" }, ctx);
    expect(away.state.stage).toBe("done");
    expect(runGivenUp(away.state, undefined)).toBe(true);
    expect(failureHookSteps(away.state, runGivenUp(away.state, undefined))).toEqual(["onFailureHooks", "alwaysHooks"]);
  });
});

describe("170.hook-failed", () => {
  const RUN: RunRef = { tenant: "t", client: "c", device: "WIN-SERVER01", runId: "unit-run-0020" };
  const ok = <T>(value: T): Reading<T> => ({ status: "verified", value });
  const { artifacts: a } = buildSampleArtifacts(RUN, { failedKb: "KB5012346" });
  const r = (k: keyof typeof a): Reading<never> => (a[k] === undefined ? { status: "missing" } : ok(a[k] as never));
  const base: ExitCodeEvidence = {
    run: r("run"),
    lockContention: r("lockContention"),
    baseline: r("baseline"),
    preValidation: r("preValidation"),
    gates: { status: "missing" },
    catalog: r("catalog"),
    installSummary: r("installSummary"),
    installFailure: { status: "missing" },
    reboot: r("reboot"),
    snapshot: r("snapshot"),
    baselineDiff: r("baselineDiff"),
    postValidation: r("postValidation"),
    regressions: r("regressions"),
    diagnostics: r("diagnostics"),
    diagnosticsFailure: { status: "missing" },
    events: ok([]),
    artifactIndex: ok({}),
    manifest: ok({}),
    otherFailures: {},
    otherIntegrityProblems: [],
  };
  const report = (okAction: boolean): HookReport => ({
    schemaVersion: 1,
    point: "preInstall",
    recordedAt: T.toISOString(),
    ok: okAction,
    reported: true,
    actions: [
      {
        kind: "stop",
        target: "WAS",
        ok: okAction,
        state: "Running",
        exitCode: null,
        durationMs: 2000,
        detail: "StopService returned 3",
      },
    ],
    refused: [],
  });
  const summary = (base.installSummary as { value: InstallOutcome[] }).value;
  const notAttempted = summary.map((o) => ({ ...o, installed: false, result: "NotAttempted" as const }));

  it("a failed pre-install action and every update NotAttempted: 170, naming the action; 210 is a reason too", () => {
    const d = decideExitCode({ ...base, hooksPreInstall: ok(report(false)), installSummary: ok(notAttempted) });
    expect([d.exitCode, d.rule]).toEqual([170, "170.hook-failed"]);
    expect(d.reasons[0]).toMatch(/pre-install hook failed, nothing was installed .*stop WAS: StopService returned 3/);
    expect(d.reasons.some((x) => x.includes("not installed"))).toBe(true);
  });

  it("not when the install went ahead (an update failed on its own) or the hooks succeeded", () => {
    expect(decideExitCode({ ...base, hooksPreInstall: ok(report(false)) }).exitCode).toBe(210);
    expect(
      decideExitCode({ ...base, hooksPreInstall: ok(report(true)), installSummary: ok(notAttempted) }).exitCode,
    ).toBe(210);
    // An unverifiable hooks report cannot fire the rule.
    const tampered = { status: "hash-mismatch", problem: "bytes changed" } as const;
    expect(decideExitCode({ ...base, hooksPreInstall: tampered, installSummary: ok(notAttempted) }).rule).not.toBe(
      "170.hook-failed",
    );
  });
});
