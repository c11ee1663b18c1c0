import type { DeviceRunState } from "../../schemas/deviceRun";
import { ARTIFACTS } from "../artifacts";
import { ALWAYS_HOOKS_STEP, ON_FAILURE_HOOKS_STEP } from "./planHooks";

// The orchestrator's failure path for hooks (issue 20). Pure: the orchestrator decides from the run's last state
// whether hooks are owed, and the runFailureHooks activity runs them. A run owes them when its install's command was
// sent (the pre-install point may have stopped services) and its post stage never ran its `always` point: the advance
// loop gave up (an activity failure, retries exhausted) or the run ended with the agent gone. The happy path always
// stores the `always` report in its post stage, so it never gets here: no new history on it.

/** How long the failure path may try (the run's own command still running, the agent away), in minutes. */
export const FAILURE_HOOKS_BUDGET_MINUTES = 30;
/** First wait between looks; each next wait doubles, up to {@link FAILURE_HOOKS_MAX_WAIT_SECONDS}. */
export const FAILURE_HOOKS_FIRST_WAIT_SECONDS = 60;
export const FAILURE_HOOKS_MAX_WAIT_SECONDS = 480;

const stored = (state: DeviceRunState, path: string): boolean => state.stored.some((s) => s.path === path);

/**
 * True when the run did not end through its post stage: the advance loop gave up (`failure`), or the run was stopped
 * with its agent gone (`run.stopped`). A run that reached its post stage decided its hooks there.
 */
export function runGivenUp(state: DeviceRunState, failure: string | undefined): boolean {
  return failure !== undefined || state.events.some((e) => e.type === "run.stopped");
}

/** Why the run was given up: the loop's failure, or the reason of its `run.stopped` event. */
export function givenUpReason(state: DeviceRunState, failure: string | undefined): string {
  if (failure !== undefined) return failure;
  const stopped = [...state.events].reverse().find((e) => e.type === "run.stopped");
  const reason = stopped?.data?.["reason"];
  return typeof reason === "string" ? reason : "the run was stopped";
}

/**
 * The hook steps the failure path sends, in order (on-failure, then always); empty when none is owed: the run was not
 * given up (`failed` false), its install's command was never sent (nothing was stopped), or the reports are stored.
 */
export function failureHookSteps(state: DeviceRunState, failed: boolean): string[] {
  if (!failed || state.installAttempt === 0 || state.lockContended) return [];
  const steps: string[] = [];
  if (state.policy.onFailureHooks === true && !stored(state, ARTIFACTS.hooksOnFailure.path))
    steps.push(ON_FAILURE_HOOKS_STEP);
  if (state.policy.alwaysHooks === true && !stored(state, ARTIFACTS.hooksAlways.path)) steps.push(ALWAYS_HOOKS_STEP);
  return steps;
}

/** The failure path's deadline, from the time it starts (the orchestrator's clock). */
export function failureHooksDeadline(startedAt: Date): string {
  return new Date(startedAt.getTime() + FAILURE_HOOKS_BUDGET_MINUTES * 60_000).toISOString();
}

/** The next look after `attempt` looks (60 s, 120 s, ... 480 s), never past the deadline. */
export function nextFailureHooksLook(now: Date, attempt: number, deadline: string): string {
  const wait = Math.min(FAILURE_HOOKS_MAX_WAIT_SECONDS, FAILURE_HOOKS_FIRST_WAIT_SECONDS * 2 ** Math.max(0, attempt));
  return new Date(Math.min(now.getTime() + wait * 1000, Date.parse(deadline))).toISOString();
}
