import type { DeviceRunState } from "../../schemas/deviceRun";
import { PHASES } from "../artifacts";

// The planner's part of the hooks (issue 20), called from lib/domain/run/planDeviceRun.ts: device-side hooks are
// composed into the adjacent stage's bundle, so a run gains no run command, ARM request or history episode for them:
// the pre-install point runs in the install's command before the install and the post-install point after it (each
// attempt: stopping a stopped service is a no-op), the post-reboot, on-failure and `always` points at the start of
// the post stage, before the post snapshot and validation, whether the install succeeded, failed, hung or was given
// up. A run that never reaches the post stage (its agent gone, an activity given up) runs on-failure and `always` on
// the orchestrator's failure path (lib/domain/hooks/failureHooks.ts); a run stopped before the install stopped
// nothing.

export const PRE_INSTALL_HOOKS_STEP = "preInstallHooks";
export const POST_INSTALL_HOOKS_STEP = "postInstallHooks";
export const POST_REBOOT_HOOKS_STEP = "postRebootHooks";
export const ON_FAILURE_HOOKS_STEP = "onFailureHooks";
export const ALWAYS_HOOKS_STEP = "alwaysHooks";

/**
 * True when the run failed after its install began: the install failed or was given up (`phase.failed` in 05), an
 * update failed, or the pre-install point failed (the install then installed nothing). The on-failure point's rule.
 */
export function runFailedAfterInstall(state: DeviceRunState): boolean {
  if (state.installAttempt === 0) return false;
  if (state.counts.failed > 0) return true;
  return state.events.some(
    (e) => (e.type === "phase.failed" || e.type === "hooks.failed") && e.phase === PHASES.install,
  );
}

/** Adds the hook steps to the stage a plan enters, per the run's policy flags. */
export function withHookSteps<P extends { state: DeviceRunState; submit: string[] }>(plan: P): P {
  const { policy, stage } = plan.state;
  if (stage === "install" && plan.submit[0] === "install") {
    const submit = [
      ...(policy.preInstallHooks === true ? [PRE_INSTALL_HOOKS_STEP] : []),
      ...plan.submit,
      ...(policy.postInstallHooks === true ? [POST_INSTALL_HOOKS_STEP] : []),
    ];
    return submit.length === plan.submit.length ? plan : { ...plan, submit };
  }
  if (stage === "post" && plan.submit[0] === "snapshot") {
    const installed = plan.state.installAttempt > 0;
    const submit = [
      ...(policy.postRebootHooks === true && installed ? [POST_REBOOT_HOOKS_STEP] : []),
      ...(policy.onFailureHooks === true && runFailedAfterInstall(plan.state) ? [ON_FAILURE_HOOKS_STEP] : []),
      ...(policy.alwaysHooks === true ? [ALWAYS_HOOKS_STEP] : []),
      ...plan.submit,
    ];
    return submit.length === plan.submit.length ? plan : { ...plan, submit };
  }
  return plan;
}
