import { RunCommandNotFoundError } from "../azure/armErrors";
import type { RunCommands } from "../azure/runCommands";
import { nextPollAt } from "../domain/run/pollSchedule";
import type { DeviceRunState, PendingCommand } from "../schemas/deviceRun";
import type { CommandEnd } from "./collectCommand";
import { pollPlanOf } from "./submitCommands";

/** The stage's commands after one look: all ended (some perhaps overdue), or some still running until `nextCheckAt`. */
export type PollResult =
  { kind: "ended"; ended: { command: PendingCommand; end: CommandEnd }[] } | { kind: "waiting"; nextCheckAt: string };

/**
 * Polls every command of the stage. A command that no longer exists was deleted by an earlier attempt of this
 * activity after it was collected, so it counts as ended (collect rebuilds it from evidence). A command still running
 * past its deadline is overdue: the caller cancels it and records a timeout.
 */
export async function pollCommands(runCommands: RunCommands, state: DeviceRunState, now: Date): Promise<PollResult> {
  const ended: { command: PendingCommand; end: CommandEnd }[] = [];
  const running: number[] = [];
  for (const command of state.commands) {
    let status;
    try {
      status = await runCommands.poll(command.handle);
    } catch (error) {
      if (!(error instanceof RunCommandNotFoundError)) throw error;
      ended.push({ command, end: { kind: "terminal" } });
      continue;
    }
    if (status.terminal) {
      // The terminal instance view is passed on: collecting reads the output blobs, not ARM again.
      ended.push({ command, end: { kind: "terminal", status } });
      continue;
    }
    const next = nextPollAt(pollPlanOf(command), new Date(command.submittedAt), state.pollAttempt + 1, now);
    if (next === undefined) ended.push({ command, end: { kind: "overdue", lastState: status.executionState } });
    else running.push(next.getTime());
  }
  if (running.length > 0) return { kind: "waiting", nextCheckAt: new Date(Math.min(...running)).toISOString() };
  return { kind: "ended", ended };
}
