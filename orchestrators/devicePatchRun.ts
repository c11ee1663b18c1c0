import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import {
  DeviceRunInputSchema,
  DeviceRunStageSchema,
  type DeviceRunResult,
  type DeviceRunStage,
  type FinishedRun,
  type DeviceRunState,
} from "../lib/schemas/deviceRun";
import { failureHookSteps, failureHooksDeadline, givenUpReason, runGivenUp } from "../lib/domain/hooks/failureHooks";
import { callActivity } from "./callActivity";

/** The state without a result an earlier activity may carry (finishDeviceRun takes the run as it stands). */
function unfinished(state: DeviceRunState): DeviceRunState {
  const { finished: _finished, ...rest } = state;
  return rest;
}
/** At most this many looks on the failure path (its deadline ends it sooner; this bounds the history). */
const MAX_FAILURE_HOOK_LOOKS = 12;

/** The stages in the run's order. */
const STAGE_ORDER: readonly DeviceRunStage[] = DeviceRunStageSchema.options;

/** What the status APIs and the demo show while a device run is in flight. */
export interface DeviceRunStatus {
  device: string;
  stage: DeviceRunStage | "finishing";
  /** 0-1, by stage. */
  progress: number;
  counts: DeviceRunState["counts"];
}

function statusOf(device: string, state: DeviceRunState, finishing = false): DeviceRunStatus {
  const index = STAGE_ORDER.indexOf(state.stage);
  return {
    device,
    stage: finishing ? "finishing" : state.stage,
    progress: finishing ? 0.95 : Math.max(0, index) / STAGE_ORDER.length,
    counts: state.counts,
  };
}

/**
 * One device, one run: phase 01 (lock, policy, run.json, first commands), then the device stages, each ended by a
 * durable timer and one advance activity (poll, collect into evidence, decide, submit the next commands), then
 * phases 10-11 (seal, exit code, report) and the lock release, then the run's CloudEvents. The orchestrator holds
 * references and counts only.
 */
export const devicePatchRun: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = DeviceRunInputSchema.parse(context.df.getInput());
  const now = (): string => context.df.currentUtcDateTime.toISOString();

  let state = yield* callActivity(context, "startDeviceRun", {
    input,
    now: now(),
    instanceId: context.df.instanceId,
  });
  context.df.setCustomStatus(statusOf(input.device.name, state));
  let failure: string | undefined;
  try {
    while (state.stage !== "done") {
      if (Date.parse(state.nextCheckAt) > context.df.currentUtcDateTime.getTime()) {
        yield context.df.createTimer(new Date(state.nextCheckAt));
      }
      state = yield* callActivity(context, "advanceDeviceRun", { input, state, now: now() });
      context.df.setCustomStatus(statusOf(input.device.name, state));
    }
  } catch (error) {
    // Retries exhausted (storage or ARM down for many minutes), or a refusal that no retry could change (a write-once
    // conflict, a schema refusal): still seal what exists and release the lock, so the
    // run ends with a recorded outcome (the exit code shows the missing evidence) instead of a stuck instance.
    failure = error instanceof Error ? error.message : String(error);
  }
  context.df.setCustomStatus(statusOf(input.device.name, state, true));
  // Failure path only (issue 20): a run given up before its post stage still owes its on-failure and `always` hooks
  // (restart what pre-install stopped). Bounded: durable timers and looks until the deadline; whatever happens is
  // recorded (the hooks' reports, or why they could not run). A run that reached its post stage owes nothing here.
  const owed = failureHookSteps(state, runGivenUp(state, failure));
  if (owed.length > 0) {
    const deadline = failureHooksDeadline(context.df.currentUtcDateTime);
    const why = givenUpReason(state, failure);
    for (let attempt = 0; attempt < MAX_FAILURE_HOOK_LOOKS; attempt += 1) {
      try {
        const looked = yield* callActivity(context, "runFailureHooks", {
          input,
          state,
          now: now(),
          // The last look gets the deadline now, so it records what it has instead of waiting again.
          deadline: attempt === MAX_FAILURE_HOOK_LOOKS - 1 ? now() : deadline,
          attempt,
          failure: why.slice(0, 4000),
        });
        state = looked.state;
        if (looked.done) break;
      } catch (error) {
        // Could not even record it: finish seals the run with this in its failure, so it is not silent either.
        const message = error instanceof Error ? error.message : String(error);
        failure = `${failure === undefined ? "" : `${failure}; `}could not run the always hooks: ${message}`;
        break;
      }
      if (Date.parse(state.nextCheckAt) > context.df.currentUtcDateTime.getTime())
        yield context.df.createTimer(new Date(state.nextCheckAt));
    }
  }
  const facts = { run: input.run, trigger: input.trigger, dryRun: input.dryRun };
  let finished: FinishedRun;
  try {
    // The activity that ended the run normally sealed it too (state.finished, issue 22); otherwise (a give-up, or
    // that finish failed) finishDeviceRun does it.
    finished =
      failure === undefined && state.finished !== undefined
        ? state.finished
        : yield* callActivity(context, "finishDeviceRun", { input, state: unfinished(state), now: now(), failure });
  } catch (error) {
    // No exit code could be written: still tell on-call (a 240 event from what this orchestration knows), then fail
    // as before so the window reports the device as orchestration-failed. If that publish fails too, the window's
    // report is the record.
    const finishFailure = error instanceof Error ? error.message : String(error);
    try {
      yield* callActivity(context, "publishRunEvents", { ...facts, at: now(), finishFailure });
    } catch {
      // the original failure below is the one to report
    }
    throw error;
  }
  // The sealed event data's reference from the finish is for the publish only (it reads that blob without its row,
  // issue 22); the window gets the result without it.
  const { eventData, ...result } = finished;
  try {
    yield* callActivity(context, "publishRunEvents", {
      ...facts,
      at: now(),
      ...(eventData === undefined ? {} : { eventData }),
    });
    return result;
  } catch (error) {
    // Alerts are not evidence: the exit code stands and the run ends; the result says the alerts are missing, so
    // the window report (and whoever reads the run's status) can tell.
    const eventsError = error instanceof Error ? error.message : String(error);
    return { ...result, eventsError } satisfies DeviceRunResult;
  }
};
