import type { DeviceRunState } from "../../schemas/deviceRun";
import type { HooksPolicy } from "../../schemas/hooksPolicy";
import type { LoadBalancerDrainHook } from "../../schemas/loadBalancerHook";
import { PHASES } from "../artifacts";

// The planner's part of the load-balancer drain (issue 20), called from lib/domain/run/planDeviceRun.ts's planNext.
// Pure. The drain and the restore are ARM-side actions of the advance activity (lib/deviceRun/loadBalancer), asked
// for by plan records; the planner only decides when:
//   - drain: when the run is about to enter the install for the first time. The install's steps are kept in the
//     state's `queued` (not submitted) until `drainSeconds` after the drain, the run's next durable timer: the advance
//     that wakes then finds them queued and submits them as any queued step (lib/deviceRun/advanceRun.ts's look).
//   - restore: when the run enters the post stage (before the post snapshot, with the `always` point) or ends without
//     one (an agent that never came back: the pool membership is ARM's, so it can still be put back).
// The events `loadBalancer.drain` and `loadBalancer.restore` in the run's state mark that each was asked for once.

/** What the advance activity must carry out (an ARM-side action whose evidence it seals). */
export interface LoadBalancerPlanRecord {
  kind: "loadBalancer";
  action: "drain" | "restore";
  reason: string;
}

export const DRAIN_EVENT = "loadBalancer.drain";
export const RESTORE_EVENT = "loadBalancer.restore";

/** The policy's drain hook (at most one, at preInstall: lib/schemas/hooksPolicy.ts refuses others). */
export function drainHookOf(hooks: HooksPolicy | undefined): LoadBalancerDrainHook | undefined {
  return hooks?.preInstall?.find((h): h is LoadBalancerDrainHook => h.type === "loadBalancerDrain");
}

const asked = (state: DeviceRunState, type: string): boolean => state.events.some((e) => e.type === type);

/**
 * Adds the drain or the restore to a plan, per the run's policy flag. `prior` is the state the plan was made from:
 * the drain is asked for only on the way into the install from another stage (a reconnect's second attempt finds it
 * asked already), the restore only once the drain was asked for.
 */
export function withLoadBalancer<P extends { state: DeviceRunState; submit: string[]; record: unknown[] }>(
  prior: DeviceRunState,
  plan: P,
  now: Date,
): P {
  const seconds = plan.state.policy.loadBalancerDrainSeconds;
  if (seconds === undefined) return plan;
  const { state } = plan;
  if (state.stage === "install" && prior.stage !== "install" && !asked(state, DRAIN_EVENT)) {
    const installAt = new Date(now.getTime() + seconds * 1000).toISOString();
    const record: LoadBalancerPlanRecord = {
      kind: "loadBalancer",
      action: "drain",
      reason: `preInstall loadBalancerDrain: install after ${seconds} s of connection drain`,
    };
    return {
      ...plan,
      state: {
        ...state,
        // Held back until the drain time has passed: the next advance submits them as queued steps.
        queued: [...plan.submit],
        stageFacts: [],
        nextCheckAt: installAt,
        events: [
          ...state.events,
          {
            at: now.toISOString(),
            type: DRAIN_EVENT,
            phase: PHASES.install,
            data: { drainSeconds: seconds, installAt },
          },
        ],
      },
      submit: [],
      record: [...plan.record, record],
    };
  }
  if ((state.stage === "post" || state.stage === "done") && asked(state, DRAIN_EVENT) && !asked(state, RESTORE_EVENT)) {
    const record: LoadBalancerPlanRecord = {
      kind: "loadBalancer",
      action: "restore",
      reason: state.stage === "post" ? "always: before the post phases" : "always: the run ends without post phases",
    };
    return {
      ...plan,
      state: {
        ...state,
        events: [...state.events, { at: now.toISOString(), type: RESTORE_EVENT, phase: PHASES.postSnapshot }],
      },
      record: [...plan.record, record],
    };
  }
  return plan;
}
