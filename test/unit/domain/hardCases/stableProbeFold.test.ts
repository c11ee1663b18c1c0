import {
  estimatedUptimeSeconds,
  POST_REBOOT_SETTLE_SECONDS,
  STAGES,
  STEP_PLANS,
} from "../../../../lib/domain/run/steps";
import type { Plan } from "../../../../lib/domain/run/planDeviceRun";
import { postAlreadyRan, postOutcomeOf, withPostAfterProbe } from "../../../../lib/deviceRun/probeWithPost";
import type { CollectedCommand } from "../../../../lib/deviceRun/collectCommand";
import type { DeviceRunState } from "../../../../lib/schemas/deviceRun";
import { at, catalog, installed, pre, rebootScheduled, start, walk } from "./planWalk";

// Issue 22: the stability check rides at the end of the boot probe + post command (the device waits on itself until
// it has been up the settle time), so a typical rebooting run saves the agent check and the second probe (two
// history iterations, sixteen events). The planner must decide it exactly as the separate probe did: the same boot
// time is stable, a later one is RebootLoopGuard, and a probe that read nothing (the command died with the device)
// falls back to a separate look, so a reboot loop is never called stable.

/** A run whose reboot was requested at minute 20; the boot probe (with the post steps and the stable probe) is due. */
function atBootProbe(): DeviceRunState {
  const plans = walk(start(), [
    [pre, 1],
    [catalog(1), 3],
    [installed(true), 20],
    [rebootScheduled(20), 20],
    [{ stage: "rebootWait", agentStatus: "Connected" }, 24],
  ]);
  return plans[4]!.state;
}

/** The probe proves the boot at minute 22 (decided at minute 30, when the folded command was collected). */
function proven(): Plan {
  return walk(atBootProbe(), [
    [{ stage: "bootProbe", lastBootTime: at(22).toISOString(), pendingReboot: false }, 30],
  ])[0]!;
}

const section = (step: string): CollectedCommand => ({ command: { step } }) as unknown as CollectedCommand;

describe("the stability probe in the boot probe's command (issue 22)", () => {
  it("is sent last in the boot probe's command, after the post steps, with a settle wait of the settle time", () => {
    const state = atBootProbe();
    expect(state.stage).toBe("bootProbe");
    expect(withPostAfterProbe(state, ["bootProbe"], STAGES, undefined)).toEqual([
      "bootProbe",
      ...STAGES.post.steps,
      "stableProbe",
    ]);
    expect(STEP_PLANS.stableProbe).toMatchObject({ phase: "reboot", script: "baseline" });
    expect(STEP_PLANS.stableProbe.settleUptimeSeconds).toBe(POST_REBOOT_SETTLE_SECONDS);
  });

  it("is not folded where the post stage is not: steps unbundled, during a remediation, with hooks that act", () => {
    const state = atBootProbe();
    expect(withPostAfterProbe(state, ["bootProbe"], STAGES, false)).toEqual(["bootProbe"]);
    expect(
      withPostAfterProbe({ ...state, policy: { ...state.policy, alwaysHooks: true } }, ["bootProbe"], STAGES, true),
    ).toEqual(["bootProbe"]);
    const stableCheck = { ...state, reboot: { ...state.reboot, stableCheckAt: at(27).toISOString() } };
    expect(withPostAfterProbe(stableCheck, ["bootProbe"], STAGES, true)).toEqual(["bootProbe"]);
  });

  it("records the post sections and decides them when the probe proved the reboot; the stable probe goes with them", () => {
    const deferred = [...STAGES.post.steps, "stableProbe"].map(section);
    const plan = proven();
    expect(plan.state.stage).toBe("post");
    expect(postAlreadyRan(plan, deferred)).toBe(true);
    const outcome = postOutcomeOf(deferred, [{ lastBootTime: at(22).toISOString() }, {}, {}, { stableBootTime: "x" }]);
    expect(outcome).toMatchObject({ stage: "post", stableProbe: { lastBootTime: "x" } });
    expect(postOutcomeOf(deferred, [{}, {}, {}, {}])).toMatchObject({ stage: "post", stableProbe: {} });
    // Without the stable probe in the command: a post outcome as before.
    expect(postOutcomeOf(deferred.slice(0, -1), [{}, {}, {}])).not.toHaveProperty("stableProbe");
  });

  it("calls the boot stable when the stable probe read the proven boot time: done, no further look", () => {
    const [post] = walk(proven().state, [
      [
        {
          stage: "post",
          regressions: 0,
          lastBootTime: at(22).toISOString(),
          stableProbe: { lastBootTime: at(22).toISOString() },
        },
        30,
      ],
    ]);
    expect(post?.state.stage).toBe("done");
    expect(post?.submit).toEqual([]);
    expect(post?.state.reboot).toMatchObject({ outcome: "Completed", bootTimeAfter: at(22).toISOString() });
    expect(post?.state.reboot.stableCheckAt).toBeUndefined();
    expect(post?.state.events.map((e) => e.type).slice(-2)).toEqual(["phase.completed", "reboot.stable"]);
  });

  it("calls a later boot time a reboot loop (RebootLoopGuard, decided by the boot probe)", () => {
    const [post] = walk(proven().state, [
      [
        {
          stage: "post",
          regressions: 0,
          lastBootTime: at(22).toISOString(),
          stableProbe: { lastBootTime: at(25).toISOString() },
        },
        30,
      ],
    ]);
    expect(post?.state.stage).toBe("done");
    expect(post?.state.reboot).toMatchObject({ outcome: "RebootLoopGuard", decidedBy: "boot-probe", count: 2 });
    expect(post?.state.events.at(-1)).toMatchObject({ type: "reboot.unexpected" });
  });

  it("falls back to a separate probe when the stable probe read nothing (the device went down during the wait)", () => {
    const [post] = walk(proven().state, [
      [{ stage: "post", regressions: 0, lastBootTime: at(22).toISOString(), stableProbe: {} }, 30],
    ]);
    expect(post?.state.stage).toBe("rebootWait");
    // The settle time (boot + 5 min = minute 27) has passed: look at once.
    expect(post?.state.nextCheckAt).toBe(at(30).toISOString());
    expect(post?.state.reboot.stableCheckAt).toBe(at(30).toISOString());
    const [probe, looped] = walk(post!.state, [
      [{ stage: "rebootWait", agentStatus: "Connected" }, 30],
      [{ stage: "bootProbe", lastBootTime: at(26).toISOString(), pendingReboot: false }, 31],
    ]);
    expect(probe?.submit).toEqual(["bootProbe"]);
    expect(looped?.state.reboot).toMatchObject({ outcome: "RebootLoopGuard", decidedBy: "boot-probe" });
  });

  it("lets a regression decide at once: the stable probe is not judged (220 outranks any loop)", () => {
    const [post] = walk(proven().state, [
      [
        {
          stage: "post",
          regressions: 1,
          lastBootTime: at(22).toISOString(),
          stableProbe: { lastBootTime: at(25).toISOString() },
        },
        30,
      ],
    ]);
    expect(post?.state.stage).toBe("done");
    expect(post?.state.reboot.outcome).toBe("Completed");
    expect(post?.state.events.map((e) => e.type)).not.toContain("reboot.unexpected");
  });

  it("still catches a loop the post snapshot saw, before the stable probe", () => {
    const [post] = walk(proven().state, [
      [
        {
          stage: "post",
          regressions: 0,
          lastBootTime: at(24).toISOString(),
          stableProbe: { lastBootTime: at(24).toISOString() },
        },
        30,
      ],
    ]);
    expect(post?.state.stage).toBe("done");
    expect(post?.state.reboot).toMatchObject({ outcome: "RebootLoopGuard", decidedBy: "post-snapshot" });
  });

  it("estimates the device's uptime from the reboot's shutdown and the OS family's typical restart, never below 0", () => {
    const reboot = { requestedAt: at(20).toISOString(), delaySeconds: 60 };
    // Shutdown at minute 21; Windows boots about 150 s later (minute 23.5), Linux about 60 s (minute 22).
    expect(estimatedUptimeSeconds(reboot, at(24), "windows")).toBe(30);
    expect(estimatedUptimeSeconds(reboot, at(24), "linux")).toBe(120);
    expect(estimatedUptimeSeconds(reboot, at(21), "windows")).toBe(0);
    expect(estimatedUptimeSeconds({}, at(24), "windows")).toBe(0);
  });
});
