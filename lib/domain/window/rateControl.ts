import { findExitCode } from "../exitCode/exitCodeTable";

/** A count or a percentage of the targets (`10` or `"10%"`), as in AWS Systems Manager maintenance windows. */
export type CountOrPercent = number | string;

/**
 * The number a limit stands for over `targets` devices. Percentages round down, as Systems Manager does, except that
 * a concurrency limit is never below 1 (a window that can start nothing would never end).
 */
export function resolveLimit(limit: CountOrPercent, targets: number, kind: "concurrency" | "errors"): number {
  const value = typeof limit === "number" ? limit : Math.floor((targets * Number(limit.slice(0, -1))) / 100);
  return kind === "concurrency" ? Math.max(1, value) : value;
}

/**
 * Whether a device's outcome counts against a window's maxErrors (the exit-code table's `windowError`). A failed
 * orchestration, or a code the table does not know, is an error: nothing proves the device is fine.
 */
export function isWindowError(exitCode: number | "orchestration-failed"): boolean {
  return exitCode === "orchestration-failed" || (findExitCode(exitCode)?.windowError ?? true);
}

/** Whether a device's outcome stops the window from promoting to its next ring (the table's `failsRingGate`). */
export function failsRingGate(exitCode: number | "orchestration-failed"): boolean {
  return exitCode !== "orchestration-failed" && (findExitCode(exitCode)?.failsRingGate ?? false);
}

/** Where a window's device queue stands. */
export interface QueueState {
  pending: number;
  running: number;
  errors: number;
}

/** Why a window stopped starting devices; recorded in window-report.json. */
export type StopReason =
  | { kind: "max-errors"; errors: number; maxErrors: number }
  | { kind: "cutoff"; cutoff: string }
  | { kind: "ring-gate"; ring: string; failures: number }
  | { kind: "cancelled"; by: string; at: string };

/**
 * How many more devices may start now. Past maxErrors (errors > the limit, as Systems Manager counts) or past the
 * cutoff nothing new starts; runs already started are left to finish.
 */
export function admitDevices(
  state: QueueState,
  limits: { maxConcurrency: number; maxErrors: number },
  now: Date,
  cutoff: Date,
): { start: number; stop?: StopReason } {
  if (state.errors > limits.maxErrors) {
    return { start: 0, stop: { kind: "max-errors", errors: state.errors, maxErrors: limits.maxErrors } };
  }
  if (now.getTime() >= cutoff.getTime()) return { start: 0, stop: { kind: "cutoff", cutoff: cutoff.toISOString() } };
  return { start: Math.max(0, Math.min(state.pending, limits.maxConcurrency - state.running)) };
}

/** The install-phase decision: whether there is time left in the window for the policy's install estimate. */
export interface InstallBudgetDecision {
  allowed: boolean;
  minutesLeft: number;
  minutesNeeded: number;
  reason: string;
}

/**
 * No install starts when the window has less time left than the policy's install estimate (Azure Update Manager
 * refuses to start installing late in a window for the same reason): a half-done install at the window's end is worse
 * than none. The decision is kept as evidence.
 */
export function decideInstallBudget(now: Date, windowEnd: Date, maxInstallMinutes: number): InstallBudgetDecision {
  const minutesLeft = Math.floor((windowEnd.getTime() - now.getTime()) / 60_000);
  const allowed = minutesLeft >= maxInstallMinutes;
  return {
    allowed,
    minutesLeft,
    minutesNeeded: maxInstallMinutes,
    reason: allowed
      ? `${minutesLeft} min left in the window, install estimate ${maxInstallMinutes} min`
      : `only ${minutesLeft} min left in the window, install estimate ${maxInstallMinutes} min: install not started`,
  };
}
