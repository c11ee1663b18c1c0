import * as df from "durable-functions";
import type { OrchestrationContext, Task } from "durable-functions";
import {
  ACTIVITY_CONTRACTS,
  ActivityRefusalSchema,
  type ActivityInput,
  type ActivityName,
  type ActivityOutput,
  type ActivityRefusal,
  type RetryKind,
} from "../lib/schemas/activities";

/**
 * Retries per kind. transient-io: storage or ARM faults (a 429 storm past the client's own Retry-After retries) are
 * ridden out with a durable backoff of 30 s, 60 s, 120 s, 240 s, 300 s.
 */
export function retryOptionsFor(kind: RetryKind): df.RetryOptions {
  switch (kind) {
    case "transient-io": {
      const options = new df.RetryOptions(30_000, 6);
      options.backoffCoefficient = 2;
      options.maxRetryIntervalInMilliseconds = 300_000;
      return options;
    }
  }
}

/** An activity refused deterministically (wrong input, schema refusal, write-once conflict): not retried. */
export class ActivityRefusedError extends Error {
  constructor(readonly refusal: ActivityRefusal["activityRefused"]) {
    super(`${refusal.activity} refused (${refusal.kind}, not retried): ${refusal.message}`);
    this.name = "ActivityRefusedError";
  }
}

/**
 * Calls an activity of the contract table with its retry policy: `const state = yield* callActivity(context,
 * "advanceDeviceRun", { input, state, now })`. The input is checked by the compiler against the activity's schema and
 * the result is typed as its output. A refusal the activity returned (ActivityRefusalSchema) is thrown here as an
 * ActivityRefusedError, at once: the orchestrator handles it like a failure whose retries ran out.
 */
export function* callActivity<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  input: ActivityInput<N>,
): Generator<Task, ActivityOutput<N>, unknown> {
  const result: unknown = yield context.df.callActivityWithRetry(
    name,
    retryOptionsFor(ACTIVITY_CONTRACTS[name].retry),
    input,
  );
  const refusal = ActivityRefusalSchema.safeParse(result);
  if (refusal.success) throw new ActivityRefusedError(refusal.data.activityRefused);
  // The one place an activity's result is typed: the handler registered under this name returns this output
  // (functions/activityTable.ts is checked against the same contract). Not re-parsed: replays stay cheap.
  return result as ActivityOutput<N>;
}
