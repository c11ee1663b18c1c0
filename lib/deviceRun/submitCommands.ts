import { PHASES } from "../domain/artifacts";
import { nextPollAt, type PollPlan } from "../domain/run/pollSchedule";
import { MAX_POLL_INTERVAL_SECONDS, POLL_GRACE_SECONDS, rowOf, type TimingInputs } from "../domain/run/steps";
import { getDeviceScript } from "../device/registry";
import { runPrefix } from "../evidence/keys";
import type { RunCommands } from "../azure/runCommands";
import type { DeviceRunInput, PendingCommand } from "../schemas/deviceRun";
import { installEstimateSeconds, slowestCheckSeconds } from "./checks";
import type { RunFacts } from "./runFacts";
import type { StepTable } from "./steps";

/** What the submissions need from the run. */
export interface SubmitRequest {
  runCommands: RunCommands;
  input: DeviceRunInput;
  facts: RunFacts;
  steps: StepTable;
  /** The step ids to submit (the stage's steps, as the planner chose them). */
  submit: readonly string[];
  now: Date;
  /**
   * Distinguishes this submission from every earlier one of the run and is the same on a retry: the number of
   * artifacts stored so far (every command is collected, storing at least its stdout, before its step runs again).
   */
  sequence: number;
}

/** What a step's timing depends on, for this run. */
async function timingInputs(request: SubmitRequest, id: string): Promise<TimingInputs> {
  const { input, facts } = request;
  const record = await facts.runRecord();
  const step = rowOf(request.steps, id);
  return {
    scriptTimeoutSeconds: getDeviceScript(step.script, input.device.os).timeoutSeconds,
    policy: record.policy.update,
    slowestCheckSeconds: slowestCheckSeconds(record),
    // Read only by a step that runs after the catalog: before it, the catalog is not stored yet.
    installEstimateSeconds: step.timing.readsCatalog === true ? installEstimateSeconds(await facts.catalog()) : 0,
  };
}

/** The step's deadline (its run command's timeoutInSeconds): how long a refused submission may be retried. */
export async function stepTimeoutSeconds(request: SubmitRequest, id: string): Promise<number> {
  return rowOf(request.steps, id).timing.timeoutSeconds(await timingInputs(request, id));
}

/**
 * Submits one run command per step, with the step table's script, parameters and timing. Names derive from the run,
 * phase, step and sequence, so a retried activity finds its own commands (submit checks first) instead of starting
 * them twice.
 */
export async function submitCommands(request: SubmitRequest): Promise<PendingCommand[]> {
  const { input, facts, now } = request;
  return Promise.all(
    request.submit.map(async (id): Promise<PendingCommand> => {
      const step = rowOf(request.steps, id);
      const script = getDeviceScript(step.script, input.device.os);
      const timing = await timingInputs(request, id);
      const timeoutSeconds = step.timing.timeoutSeconds(timing);
      const handle = await request.runCommands.submit(input.device, {
        script: script.text,
        parameters: await step.parameters({ input, facts }),
        outputBlob: `${runPrefix(input.run)}${PHASES[step.phase]}/${id}-${request.sequence}`,
        // One slot per device and step, updated in place: no DELETE per command (the output blob, unique per
        // execution, tells this execution from an earlier one in the same slot).
        slot: `patchpilot/${id}`,
        timeoutInSeconds: timeoutSeconds,
      });
      return {
        step: id,
        handle,
        scriptVersion: script.version,
        scriptSha256: script.sha256,
        submittedAt: now.toISOString(),
        timeoutSeconds,
        expectedSeconds: step.timing.firstPollSeconds(timing),
        transcriptName: `${handle.runCommandName}-${request.sequence}`,
      };
    }),
  );
}

/** The poll plan of a command in flight (lib/domain/run/pollSchedule.ts). */
export function pollPlanOf(command: PendingCommand): PollPlan {
  return {
    expectedSeconds: command.expectedSeconds,
    maxIntervalSeconds: MAX_POLL_INTERVAL_SECONDS,
    timeoutSeconds: command.timeoutSeconds,
    graceSeconds: POLL_GRACE_SECONDS,
  };
}

/** When to look at freshly submitted commands: when the slowest of them is expected to be done. */
export function firstCheckAt(commands: readonly PendingCommand[], fallback: Date): string {
  const times = commands.map(
    (c) => nextPollAt(pollPlanOf(c), new Date(c.submittedAt), 0)?.getTime() ?? fallback.getTime(),
  );
  return new Date(Math.max(fallback.getTime(), ...times)).toISOString();
}
