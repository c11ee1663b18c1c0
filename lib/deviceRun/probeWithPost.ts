import type { StageOutcome } from "../domain/run/planDeviceRun";
import { stageOutcomeOf } from "../domain/run/stageOutcome";
import type { StageTable, StepFacts } from "../domain/run/steps";
import type { DeviceRunState } from "../schemas/deviceRun";
import type { CollectedCommand } from "./collectCommand";

// Issue 22: the boot probe after a reboot and the post stage go as one run command (one history iteration, eight
// events, and the probe's 30 s wait less). The probe runs first; its section is recorded and decided on first, exactly
// as a probe of its own. Only when that decision is "post" are the post sections recorded (the same artifacts, under
// the same phase folders, as a post command of its own); when it is anything else (the boot did not move yet, still
// pending: reboot again) they are not recorded and the post stage is sent again later as before. Their transcripts and
// status records (collected with the bundle) stay in the run as what ran on the device.
//
// The stability check rides in the same command (issue 22: two history iterations less): after the post steps the
// device waits until it has been up POST_REBOOT_SETTLE_SECONDS (the bundle's settle wait) and the `stableProbe` step
// reads the boot time again. It is decided with the post outcome (lib/domain/run/planDeviceRun.ts `afterPost`); a
// section that produced nothing (the device went down during the wait, taking the command with it) makes the planner
// fall back to a separate stability probe, so a reboot loop stays visible.

const PROBE = "bootProbe";
/** The stability probe's step, last in the folded command. */
export const STABLE_PROBE = "stableProbe";

/**
 * The steps to submit: the planner's, plus the post stage's after a boot probe that proves a reboot (not the stability
 * probe after clean POST phases, not during a remediation, not when the post stage starts with hooks that act on the
 * device, and only when steps are bundled).
 */
export function withPostAfterProbe(
  state: DeviceRunState,
  submit: readonly string[],
  stages: StageTable,
  bundleSteps: boolean | undefined,
): string[] {
  const fold =
    bundleSteps !== false &&
    state.stage === "bootProbe" &&
    submit.length === 1 &&
    submit[0] === PROBE &&
    state.reboot.stableCheckAt === undefined &&
    state.remediation === undefined &&
    state.policy.alwaysHooks !== true &&
    state.policy.postRebootHooks !== true &&
    state.policy.onFailureHooks !== true;
  return fold ? [...submit, ...stages.post.steps, STABLE_PROBE] : [...submit];
}

/** Splits a collected bundle into what is recorded now and the post sections that wait for the probe's decision. */
export function splitProbeBundle(
  stage: DeviceRunState["stage"],
  collected: readonly CollectedCommand[],
): { now: CollectedCommand[]; deferred: CollectedCommand[] } {
  const [head, ...rest] = collected;
  if (stage !== "bootProbe" || head?.command.step !== PROBE || rest.length === 0)
    return { now: [...collected], deferred: [] };
  return { now: [head], deferred: rest };
}

/** True when the plan enters exactly the post stage whose sections already ran (in this order) after the probe. */
export function postAlreadyRan(
  plan: { state: DeviceRunState; submit: readonly string[] },
  deferred: readonly CollectedCommand[],
): boolean {
  const ran = postSteps(deferred).map((c) => c.command.step);
  return (
    plan.state.stage === "post" &&
    ran.length > 0 &&
    plan.submit.length === ran.length &&
    plan.submit.every((step, i) => step === ran[i])
  );
}

/** The deferred sections without the trailing stability probe. */
function postSteps(deferred: readonly CollectedCommand[]): readonly CollectedCommand[] {
  return deferred.at(-1)?.command.step === STABLE_PROBE ? deferred.slice(0, -1) : deferred;
}

/**
 * The post outcome of the deferred sections' facts (recorded in order): with `stableProbe` when the stability probe
 * was in the command (its boot time absent when its section produced nothing usable).
 */
export function postOutcomeOf(deferred: readonly CollectedCommand[], facts: readonly StepFacts[]): StageOutcome {
  const outcome = stageOutcomeOf("post", facts);
  if (outcome.stage !== "post" || deferred.at(-1)?.command.step !== STABLE_PROBE) return outcome;
  const stable = facts.at(-1)?.stableBootTime;
  return { ...outcome, stableProbe: stable === undefined ? {} : { lastBootTime: stable } };
}
