import type { DeviceRunState } from "../../schemas/deviceRun";

// The planner's part of the pre-patch gates (issue 20), called from lib/domain/run/planDeviceRun.ts: the gates step
// joins the read-only first stage (one bundled run command: baseline, pre-validation, gates) only when the effective
// policy has gates, so a run without gates sends exactly what it sent before.

/** The gates step's id in the step table (lib/domain/run/steps.ts). */
export const GATES_STEP = "gates";

/** Adds the gates step to the first stage's submissions when the run's policy has gates. */
export function withGateStep<P extends { state: DeviceRunState; submit: string[] }>(plan: P): P {
  if (plan.state.policy.gates !== true || plan.submit.includes(GATES_STEP)) return plan;
  return { ...plan, submit: [...plan.submit, GATES_STEP] };
}

/**
 * Why the run must stop before the catalog because of its gates, as the `run.stopped` event's data; undefined when it
 * may go on. A gates step that reported nothing is "could not look", which never passes.
 */
export function gateStop(
  state: DeviceRunState,
  gates: { passed: boolean; failed: string[] } | undefined,
): Record<string, unknown> | undefined {
  if (state.policy.gates !== true) return undefined;
  if (gates === undefined)
    return { reason: "pre-patch gates could not be judged (no gates report): nothing was installed", gatesFailed: [] };
  if (gates.passed) return undefined;
  return {
    reason: `pre-patch gate(s) not passed: nothing was installed (${gates.failed.join("; ")})`,
    gatesFailed: gates.failed,
  };
}
