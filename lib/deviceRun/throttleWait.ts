import { ArmPacedError, ArmThrottledError } from "../azure/armErrors";
import type { DeviceRunState } from "../schemas/deviceRun";

/** When ARM gave no Retry-After (a 503, say): wait this long. */
const DEFAULT_THROTTLE_WAIT_MS = 5_000;

/** The ARM throttling an activity step met: ARM's 429/503 after the pipeline's retries, or the pacer's hold. */
export function isArmThrottled(error: unknown): error is ArmThrottledError {
  return error instanceof ArmThrottledError;
}

/** A spread in [0, 1) that differs per run and per instant, the same on every retry of the same call. */
function spreadOf(runId: string, now: Date): number {
  let hash = 2166136261;
  for (const char of `${runId}|${now.toISOString()}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return (hash >>> 0) / 2 ** 32;
}

/**
 * The device run waits out ARM's throttling in durable time instead of failing the activity: `state` (what the call
 * had before the throttled request, so the next call does the same request again) with its next check after the wait.
 * The pacer names this run's own slot, so that is the wait; after ARM's own 429 every throttled run got the same
 * Retry-After, so each adds up to half of it again (spread by run) and they do not all come back at once.
 */
export function waitOutThrottling(
  state: DeviceRunState,
  error: ArmThrottledError,
  runId: string,
  now: Date,
): DeviceRunState {
  const base = error.retryAfterMs ?? DEFAULT_THROTTLE_WAIT_MS;
  const waitMs = error instanceof ArmPacedError ? base : base * (1 + 0.5 * spreadOf(runId, now));
  return { ...state, nextCheckAt: new Date(now.getTime() + Math.max(1, Math.ceil(waitMs))).toISOString() };
}
