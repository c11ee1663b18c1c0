import { RunCommandConflictError } from "../azure/armErrors";
import { PHASES, failurePath, specForPath } from "../domain/artifacts";
import { estimatedUptimeSeconds, rowOf, STAGES, type StepFacts } from "../domain/run/steps";
import { withCatalogAfterPre } from "./catalogWithPre";
import type { PhaseFailure } from "../schemas/artifacts/run";
import type { DeviceRunInput, DeviceRunState } from "../schemas/deviceRun";
import type { DeviceRunDeps } from "./deps";
import type { RecordStepContext } from "./recordStep";
import { isArmThrottled, waitOutThrottling } from "./throttleWait";
import { firstCheckAt, stepTimeoutSeconds, submitBundle, submitCommands, type SubmitRequest } from "./submitCommands";

/** How long to wait before submitting again after the agent refused with 409 (a command of someone else running). */
export const CONFLICT_RETRY_SECONDS = 60;

/** The stage goes on (a command in flight, or a wait before submitting again), or every step of it has ended. */
export type NextStep =
  | { kind: "state"; state: DeviceRunState }
  /** `state` carries the events and records of the give-up, if any. */
  | { kind: "ended"; facts: StepFacts[]; state: DeviceRunState };

/** The facts the stage's collected steps reported so far (kept in the state between calls). */
export function stageFactsOf(state: DeviceRunState): StepFacts[] {
  return state.stageFacts ?? [];
}

const after = (now: Date, seconds: number): string => new Date(now.getTime() + seconds * 1000).toISOString();

/**
 * One run command at a time per machine: submits the stage's next queued step, once the one before it was collected.
 * When the agent refuses with 409 because another command (an RMM's, say) is in flight, nothing was created: the
 * refusal goes into the run's events, and the step is submitted again after {@link CONFLICT_RETRY_SECONDS}, for as
 * long as its own deadline (its run command's timeout) allows, counted from the first refusal. Past it, the step and
 * the stage's remaining steps are recorded as not submitted (`{phase}/failure.json`, kind SubmitFailed, for steps
 * that fail their phase) and the stage ends with the facts reported so far. The step's own deadline starts when its
 * command is accepted, never while it waits.
 */
export async function submitNextStep(
  deps: DeviceRunDeps,
  ctx: RecordStepContext,
  input: DeviceRunInput,
  state: DeviceRunState,
): Promise<NextStep> {
  const { now, stored, run } = ctx;
  const queued = state.queued ?? [];
  const [step, ...rest] = queued;
  if (step === undefined) return { kind: "ended", facts: stageFactsOf(state), state };
  const request: SubmitRequest = {
    runCommands: deps.runCommands,
    input,
    facts: ctx.facts,
    steps: ctx.steps,
    submit: [step],
    now,
    sequence: stored.list().length,
    // After a reboot: how long the device has likely been up (a settle wait in the command is that much shorter).
    ...(state.stage === "bootProbe"
      ? { uptimeSeconds: estimatedUptimeSeconds(state.reboot, now, input.device.os) }
      : {}),
  };
  const earlier = state.conflict?.step === step ? state.conflict : undefined;
  const at = now.toISOString();
  const phase = PHASES[rowOf(ctx.steps, step).phase];
  // Steps that run back to back go as one bundle (one run command, one ARM write; evidence still per step).
  const bundled = queued.length > 1 && deps.bundleSteps !== false;
  // Issue 22: the read-only catalog scan rides at the end of the pre stage's command (lib/deviceRun/catalogWithPre.ts).
  if (bundled) request.submit = withCatalogAfterPre(state.stage, queued, deps.stages ?? STAGES, deps.bundleSteps);
  try {
    const commands = bundled ? [await submitBundle(request)] : await submitCommands(request);
    const cleared =
      earlier === undefined
        ? []
        : [
            {
              at,
              type: "runCommand.conflictCleared",
              phase,
              data: {
                step,
                conflicts: earlier.count,
                waitedSeconds: Math.round((now.getTime() - Date.parse(earlier.since)) / 1000),
              },
            },
          ];
    return {
      kind: "state",
      state: {
        ...state,
        stored: stored.list(),
        commands,
        queued: bundled ? [] : rest,
        conflict: undefined,
        pollAttempt: 0,
        events: [...state.events, ...cleared],
        nextCheckAt: firstCheckAt(commands, now),
      },
    };
  } catch (error) {
    // Throttled (ARM's 429 or the pacer's hold): nothing was created; the same steps go again after the wait.
    if (isArmThrottled(error))
      return {
        kind: "state",
        state: waitOutThrottling({ ...state, stored: stored.list(), commands: [] }, error, run.runId, now),
      };
    if (!(error instanceof RunCommandConflictError)) throw error;
    const since = earlier?.since ?? at;
    const count = (earlier?.count ?? 0) + 1;
    const seen = {
      at,
      type: "runCommand.conflict",
      phase,
      data: { step, attempt: count, status: 409, code: error.code, message: error.armMessage.slice(0, 500) },
    };
    let timeoutSeconds = 0;
    for (const id of request.submit) timeoutSeconds += await stepTimeoutSeconds(request, id);
    const deadline = Date.parse(since) + timeoutSeconds * 1000;
    const retryAt = now.getTime() + CONFLICT_RETRY_SECONDS * 1000;
    if (retryAt <= deadline) {
      return {
        kind: "state",
        state: {
          ...state,
          stored: stored.list(),
          commands: [],
          conflict: { step, since, count },
          events: [...state.events, seen],
          nextCheckAt: after(now, CONFLICT_RETRY_SECONDS),
        },
      };
    }
    const waitedSeconds = Math.round((now.getTime() - Date.parse(since)) / 1000);
    for (const id of queued) {
      const row = rowOf(ctx.steps, id);
      if (!row.failsPhase) continue;
      const failure: PhaseFailure = {
        schemaVersion: 1,
        phase: PHASES[row.phase],
        kind: "DeviceBusy",
        message:
          `${id} was not submitted: the agent answered 409 ${error.code} ${count} time(s) over ${waitedSeconds} s ` +
          `(another run command in flight on the machine), past the step's deadline`,
        at,
        transcripts: [],
      };
      await stored.put(ctx.evidence, run, specForPath(failurePath(row.phase)), failure);
    }
    const gaveUp = { at, type: "runCommand.conflictGaveUp", phase, data: { step, conflicts: count, waitedSeconds } };
    return {
      kind: "ended",
      facts: stageFactsOf(state),
      state: {
        ...state,
        stored: stored.list(),
        commands: [],
        queued: [],
        conflict: undefined,
        events: [...state.events, seen, gaveUp],
      },
    };
  }
}
