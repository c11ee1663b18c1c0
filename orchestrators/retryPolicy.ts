import * as df from "durable-functions";

/**
 * Retries for PatchPilot's activities: transient storage or ARM faults (a 429 storm past the client's own
 * Retry-After retries) are ridden out with a durable backoff of 30 s, 60 s, 120 s, 240 s, 300 s.
 */
export function activityRetry(): df.RetryOptions {
  const options = new df.RetryOptions(30_000, 6);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = 300_000;
  return options;
}
