import type { DeviceRunState } from "../../schemas/deviceRun";

// The planner's part of the hooks (issue 20), called from lib/domain/run/planDeviceRun.ts: device-side hooks are
// composed into the adjacent stage's bundle, so a run gains no run command, ARM request or history episode for them:
// the pre-install point runs in the install's command before the install (each attempt: stopping a stopped service is
// a no-op), the `always` point at the start of the post stage, before the post snapshot and validation, whether the
// install succeeded, failed, hung or was given up. A run that never reaches the post stage with its agent gone cannot
// restore anything on the device; a run stopped before the install stopped nothing.

export const PRE_INSTALL_HOOKS_STEP = "preInstallHooks";
export const ALWAYS_HOOKS_STEP = "alwaysHooks";

/** Adds the hook steps to the stage a plan enters, per the run's policy flags. */
export function withHookSteps<P extends { state: DeviceRunState; submit: string[] }>(plan: P): P {
  const { policy, stage } = plan.state;
  if (stage === "install" && policy.preInstallHooks === true && plan.submit[0] === "install")
    return { ...plan, submit: [PRE_INSTALL_HOOKS_STEP, ...plan.submit] };
  if (stage === "post" && policy.alwaysHooks === true && plan.submit[0] === "snapshot")
    return { ...plan, submit: [ALWAYS_HOOKS_STEP, ...plan.submit] };
  return plan;
}
