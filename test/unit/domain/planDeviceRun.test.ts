import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { newDeviceRunState } from "../../../lib/domain/run/newDeviceRunState";
import {
  MAX_INSTALL_ATTEMPTS,
  planNext,
  planStart,
  type Plan,
  type StageOutcome,
} from "../../../lib/domain/run/planDeviceRun";
import { DeviceRunStateSchema, type DeviceRunState } from "../../../lib/schemas/deviceRun";
import type { RebootPolicy } from "../../../lib/schemas/policies";

const T0 = Date.parse("2026-01-20T02:00:00Z");
const at = (min: number): Date => new Date(T0 + min * 60_000);

function start(rebootPolicy: RebootPolicy = "IfRequired", maxReboots = 2): DeviceRunState {
  const { policy } = resolveEffectivePolicy([
    DEFAULT_GLOBAL_POLICY,
    { schemaVersion: 1, scope: { level: "tenant", tenant: "t" }, update: { rebootPolicy, maxReboots } },
  ]);
  return planStart(newDeviceRunState(policy, at(0)), at(0)).state;
}

/** Feeds outcomes in order, checking every intermediate state against its schema. */
function walk(
  state: DeviceRunState,
  steps: [StageOutcome, number][],
  ctx: { windowEnd?: Date; dryRun?: boolean; scanOnly?: boolean } = {},
): Plan[] {
  const plans: Plan[] = [];
  let s = state;
  for (const [outcome, minute] of steps) {
    const p = planNext(s, outcome, {
      now: at(minute),
      dryRun: ctx.dryRun ?? false,
      windowEnd: ctx.windowEnd,
      ...(ctx.scanOnly === undefined ? {} : { scanOnly: ctx.scanOnly }),
    });
    expect(DeviceRunStateSchema.safeParse(p.state).success).toBe(true);
    plans.push(p);
    s = p.state;
  }
  return plans;
}

const pre: StageOutcome = { stage: "pre", baselineOk: true, preValidationOk: true };
const catalog = (approved: number): StageOutcome => ({ stage: "catalog", ok: true, approved });
const installed = (rebootRequired: boolean): StageOutcome => ({
  stage: "install",
  documentProduced: true,
  installed: 2,
  failed: 0,
  rebootRequired,
});
const rebootScheduled: StageOutcome = {
  stage: "reboot",
  scheduled: true,
  scheduledAt: at(20).toISOString(),
  delaySeconds: 60,
  bootTimeBefore: at(-1440).toISOString(),
};

describe("planDeviceRun", () => {
  it("runs the happy path: pre → catalog → install → reboot → wait → probe → post → done", () => {
    const plans = walk(start(), [
      [pre, 1],
      [catalog(2), 3],
      [installed(true), 20],
      [rebootScheduled, 20],
      [{ stage: "rebootWait", agentStatus: "Connected" }, 23],
      [{ stage: "bootProbe", lastBootTime: at(22).toISOString(), pendingReboot: false }, 29],
      [{ stage: "post", regressions: 0, lastBootTime: at(22).toISOString() }, 35],
    ]);
    expect(plans.map((p) => [p.state.stage, p.submit])).toEqual([
      ["catalog", ["catalog"]],
      ["install", ["install"]],
      ["reboot", ["reboot"]],
      ["rebootWait", []],
      ["bootProbe", ["bootProbe"]],
      ["post", ["snapshot", "postValidation", "diagnostics"]],
      ["done", []],
    ]);
    // First look after the reboot: scheduled + delay + 90 s.
    expect(plans[3]?.state.nextCheckAt).toBe(new Date(at(20).getTime() + 150_000).toISOString());
    expect(plans[6]?.state.reboot).toMatchObject({
      required: true,
      requested: true,
      count: 1,
      outcome: "Completed",
      bootTimeAfter: at(22).toISOString(),
    });
    expect(plans[6]?.state.counts).toEqual({ approved: 2, installed: 2, failed: 0, regressions: 0 });
  });

  it("calls a device that reboots again by itself after the proven reboot unstable (loop), not Completed", () => {
    const plans = walk(start(), [
      [pre, 1],
      [catalog(1), 3],
      [installed(true), 20],
      [rebootScheduled, 20],
      [{ stage: "rebootWait", agentStatus: "Connected" }, 23],
      [{ stage: "bootProbe", lastBootTime: at(22).toISOString(), pendingReboot: false }, 29],
      [{ stage: "post", regressions: 0, lastBootTime: at(26).toISOString() }, 35],
    ]);
    expect(plans[6]?.state.reboot).toMatchObject({ count: 2, outcome: "RebootLoopGuard" });
    expect(plans[6]?.state.events.map((e) => e.type)).toContain("reboot.unexpected");
  });

  it("does not call a reboot done on a Connected agent with the old boot time, and times out after the policy's wait", () => {
    const [, , , waiting, probe, stillOld, timedOut] = walk(start(), [
      [pre, 1],
      [catalog(1), 3],
      [installed(true), 20],
      [rebootScheduled, 20],
      [{ stage: "rebootWait", agentStatus: "Connected" }, 23],
      [{ stage: "bootProbe", lastBootTime: at(-1440).toISOString(), pendingReboot: true }, 24],
      [{ stage: "rebootWait", agentStatus: "Disconnected" }, 50],
    ]);
    expect(waiting?.state.stage).toBe("rebootWait");
    expect(probe?.submit).toEqual(["bootProbe"]);
    expect(stillOld?.state).toMatchObject({ stage: "rebootWait", nextCheckAt: at(25).toISOString() });
    expect(timedOut?.state.reboot.outcome).toBe("TimedOut");
    // The agent is still away at the timeout: nothing more is sent (issue 21, hardCases/failFast.test.ts).
    expect(timedOut?.submit).toEqual([]);
  });

  it("reboots again while a reboot stays pending, then stops at maxReboots (reboot-loop guard)", () => {
    const probeStillPending = (minute: number): StageOutcome => ({
      stage: "bootProbe",
      lastBootTime: at(minute - 1).toISOString(),
      pendingReboot: true,
    });
    const plans = walk(start("IfRequired", 2), [
      [pre, 1],
      [catalog(1), 3],
      [installed(true), 20],
      [rebootScheduled, 20],
      [{ stage: "rebootWait", agentStatus: "Connected" }, 23],
      [probeStillPending(24), 24],
      [{ stage: "reboot", scheduled: true, scheduledAt: at(25).toISOString(), delaySeconds: 60 }, 25],
      [{ stage: "rebootWait", agentStatus: "Connected" }, 28],
      [probeStillPending(29), 29],
    ]);
    expect(plans[5]?.submit).toEqual(["reboot"]);
    const last = plans[8]?.state;
    expect(last?.reboot).toMatchObject({
      count: 2,
      outcome: "RebootLoopGuard",
      bootTimeBefore: at(-1440).toISOString(),
    });
    expect(last?.stage).toBe("post");
  });

  it("reconciles an install the agent dropped: waits for the agent, re-runs the install once, then gives up with a record", () => {
    const lost: StageOutcome = {
      stage: "install",
      documentProduced: false,
      installed: 0,
      failed: 0,
      rebootRequired: false,
    };
    const plans = walk(start(), [
      [pre, 1],
      [catalog(2), 3],
      [lost, 30],
      [{ stage: "installReconnect", agentStatus: "Disconnected" }, 31],
      [{ stage: "installReconnect", agentStatus: "Connected" }, 36],
      [lost, 60],
    ]);
    expect(plans.slice(2).map((p) => [p.state.stage, p.submit])).toEqual([
      ["installReconnect", []],
      ["installReconnect", []],
      ["install", ["install"]],
      ["post", ["snapshot", "postValidation", "diagnostics"]],
    ]);
    expect(plans[4]?.state.installAttempt).toBe(MAX_INSTALL_ATTEMPTS);
    expect(plans[5]?.record).toEqual([
      { kind: "install-failed", reason: "install produced no result after 2 attempts", failureKind: "Timeout" },
    ]);
  });

  it("gives up on an agent that never comes back after an interrupted install", () => {
    const lost: StageOutcome = {
      stage: "install",
      documentProduced: false,
      installed: 0,
      failed: 0,
      rebootRequired: false,
    };
    const plans = walk(start(), [
      [pre, 1],
      [catalog(2), 3],
      [lost, 30],
      [{ stage: "installReconnect", agentStatus: "Disconnected" }, 60],
    ]);
    expect(plans[3]?.record[0]).toMatchObject({ kind: "install-failed", failureKind: "AgentDisconnected" });
  });

  it("leaves a required reboot pending under a Never policy, and skips the reboot when none is required", () => {
    const never = walk(start("Never"), [
      [pre, 1],
      [catalog(1), 3],
      [installed(true), 20],
    ]);
    expect(never[2]?.state).toMatchObject({
      stage: "post",
      reboot: { required: true, requested: false, outcome: "NotAllowed" },
    });
    const notNeeded = walk(start(), [
      [pre, 1],
      [catalog(1), 3],
      [installed(false), 20],
    ]);
    expect(notNeeded[2]?.state.reboot.outcome).toBe("NotRequired");
  });

  it("refuses to start an install late in the window and records why", () => {
    const plans = walk(
      start(),
      [
        [pre, 1],
        [catalog(3), 3],
      ],
      { windowEnd: at(100) },
    );
    expect(plans[1]?.submit).toEqual(["snapshot", "postValidation", "diagnostics"]);
    expect(plans[1]?.record).toEqual([
      {
        kind: "install-skipped",
        failureKind: "Skipped",
        reason: "only 97 min left in the window, install estimate 120 min: install not started",
      },
    ]);
  });

  it("stops before changing anything when the baseline or the catalog failed", () => {
    expect(walk(start(), [[{ stage: "pre", baselineOk: false, preValidationOk: true }, 1]])[0]?.state.stage).toBe(
      "done",
    );
    expect(
      walk(start(), [
        [pre, 1],
        [{ stage: "catalog", ok: false, approved: 0 }, 3],
      ])[1]?.state.stage,
    ).toBe("done");
  });

  it("installs nothing on a dry run or with nothing approved, and records an empty summary", () => {
    expect(
      walk(
        start(),
        [
          [pre, 1],
          [catalog(4), 3],
        ],
        { dryRun: true },
      )[1]?.record,
    ).toEqual([{ kind: "empty-install-summary", reason: "dry run: nothing installed" }]);
    expect(
      walk(start(), [
        [pre, 1],
        [catalog(0), 3],
      ])[1]?.record,
    ).toEqual([{ kind: "empty-install-summary", reason: "no approved updates" }]);
  });
});

describe("planNext: scan-only assessment", () => {
  it("stops after the catalog: no install, no reboot, no post stage, nothing recorded for the install", () => {
    const plans = walk(
      start(),
      [
        [pre, 1],
        [catalog(4), 3],
      ],
      { dryRun: true, scanOnly: true },
    );
    expect(plans[1]?.state.stage).toBe("done");
    expect(plans[1]?.submit).toEqual([]);
    expect(plans[1]?.record).toEqual([]);
    expect(plans[1]?.state.events.at(-1)).toMatchObject({ type: "run.scanned", data: { approved: 4 } });
  });
});
