/**
 * When an orchestrator next looks at a run command. The first look is after the script's typical duration (most
 * commands are done by then, so one poll suffices and history stays short); later looks back off exponentially up to
 * `maxIntervalSeconds`, and never past the deadline (the command's timeout plus a grace for the agent to report).
 */
export interface PollPlan {
  /** Typical duration of the script: the first look. */
  expectedSeconds: number;
  maxIntervalSeconds: number;
  /** The command's timeoutInSeconds; ARM reports TimedOut after it. */
  timeoutSeconds: number;
  /** Extra time after the timeout for the agent to report a terminal state. */
  graceSeconds: number;
}

/** The instant of poll number `attempt` (0-based), or undefined once the deadline has passed. */
export function nextPollAt(plan: PollPlan, submittedAt: Date, attempt: number, lastPollAt?: Date): Date | undefined {
  const deadline = submittedAt.getTime() + (plan.timeoutSeconds + plan.graceSeconds) * 1000;
  const from = (lastPollAt ?? submittedAt).getTime();
  const interval =
    attempt === 0 ? plan.expectedSeconds : Math.min(plan.maxIntervalSeconds, plan.expectedSeconds * 2 ** attempt);
  const at = Math.min(from + Math.max(1, interval) * 1000, deadline);
  return from >= deadline ? undefined : new Date(at);
}
