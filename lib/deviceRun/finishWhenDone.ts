import type { DeviceRunInput, DeviceRunState } from "../schemas/deviceRun";
import { failureHookSteps, runGivenUp } from "../domain/hooks/failureHooks";
import type { DeviceRunDeps } from "./deps";
import { finishRun } from "./finishRun";

/**
 * When the run is done, does finishDeviceRun's work (seal, exit code, report, lock release: lib/deviceRun/finishRun.ts)
 * in the activity that ended it, and returns the state with the result in `finished` (issue 22: the orchestrator
 * then skips the finishDeviceRun call, four history events less). The event publish stays its own activity.
 *
 * Any failure of the finish here leaves `finished` unset, so the orchestrator calls finishDeviceRun as before: it
 * does the same work again (finishRun is safe to repeat: create-once writes of the same bytes) with its own retries,
 * and on a failure that no retry changes it reports that failure the way it always did. Only the saving is lost.
 */
export async function finishWhenDone(
  deps: DeviceRunDeps,
  input: DeviceRunInput,
  state: DeviceRunState,
  now: string,
): Promise<DeviceRunState> {
  if (state.stage !== "done" || state.finished !== undefined) return state;
  // A run stopped before its post stage may still owe on-failure/always hooks (issue 20): the orchestrator's failure
  // path records them, and only then may the run be sealed, so leave the finish to finishDeviceRun.
  if (failureHookSteps(state, runGivenUp(state, undefined)).length > 0) return state;
  try {
    return { ...state, finished: await finishRun(deps, { input, state, now }) };
  } catch {
    // Deliberately broad: whatever went wrong, the finishDeviceRun activity repeats the finish and reports it.
    return state;
  }
}
