import { PHASES } from "../domain/artifacts";
import { nextPollAt, type PollPlan } from "../domain/run/pollSchedule";
import { MAX_POLL_INTERVAL_SECONDS, POLL_GRACE_SECONDS, rowOf, type TimingInputs } from "../domain/run/steps";
import { composeBundle } from "../device/bundle";
import { getDeviceScript, hashScript } from "../device/registry";
import { sha256Hex } from "../evidence/sha256";
import { runPrefix } from "../evidence/keys";
import type { RunCommands } from "../azure/runCommands";
import type { DeviceRunInput, PendingCommand } from "../schemas/deviceRun";
import { installEstimateSeconds, slowestCheckSeconds } from "./checks";
import type { RunFacts } from "./runFacts";
import type { StepTable } from "./steps";
import { catalogSaysRebootLikely } from "./rebootWithInstall";

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
  /** How long the device has likely been up (a settle wait in the bundle is that much shorter); 0 when unknown. */
  uptimeSeconds?: number;
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
    os: input.device.os,
    ...(step.timing.readsCatalog === true
      ? {
          rebootLikely:
            record.policy.update.rebootPolicy === "Always" || catalogSaysRebootLikely(await facts.catalog()),
        }
      : {}),
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

/**
 * Submits the steps as one bundle (lib/device/bundle.ts): the steps' scripts, unchanged, run back to back in one run
 * command, each with its own parameters; its timeout and first look are the steps' sums. The slot is the steps'
 * (`patchpilot/baseline+preValidation`); the nonce derives from the run and the sequence, so a retry sends the same.
 */
export async function submitBundle(request: SubmitRequest): Promise<PendingCommand> {
  const { input, now } = request;
  const parts = await Promise.all(
    request.submit.map(async (id) => {
      const step = rowOf(request.steps, id);
      const script = getDeviceScript(step.script, input.device.os);
      const timing = await timingInputs(request, id);
      return {
        id,
        step,
        script,
        timeoutSeconds: step.timing.timeoutSeconds(timing),
        expectedSeconds: step.timing.firstPollSeconds(timing),
        parameters: await step.parameters({ input, facts: request.facts, together: request.submit }),
      };
    }),
  );
  const [first] = parts;
  if (first === undefined) throw new Error("a bundle needs steps");
  const key = request.submit.join("+");
  const nonce = sha256Hex(Buffer.from(`${runPrefix(input.run)}${key}/${request.sequence}`, "utf8")).slice(0, 24);
  const bundle = composeBundle(
    input.device.os,
    parts.map((p, i) => ({
      step: p.id,
      script: p.script,
      parameters: p.parameters,
      ...(p.step.settleUptimeSeconds === undefined ? {} : { settleUptimeSeconds: p.step.settleUptimeSeconds }),
      // Issue 22: starts no earlier than the steps before it typically take (the reboot after the install).
      ...(p.step.startsAfterEstimate === true
        ? { startAfterSeconds: parts.slice(0, i).reduce((sum, q) => sum + q.expectedSeconds, 0) }
        : {}),
    })),
    nonce,
  );
  const timeoutSeconds = parts.reduce((sum, p) => sum + p.timeoutSeconds, 0);
  const handle = await request.runCommands.submit(input.device, {
    script: bundle.script,
    parameters: bundle.parameters,
    outputBlob: `${runPrefix(input.run)}${PHASES[first.step.phase]}/${request.submit.join("-")}-${request.sequence}`,
    timeoutInSeconds: timeoutSeconds,
    slot: `patchpilot/${key}`,
  });
  return {
    step: first.id,
    handle,
    scriptVersion: first.script.version,
    scriptSha256: hashScript(bundle.script),
    submittedAt: now.toISOString(),
    timeoutSeconds,
    expectedSeconds: Math.max(1, bundleExpectedSeconds(parts, request.uptimeSeconds ?? 0)),
    transcriptName: `${handle.runCommandName}-${request.sequence}`,
    sections: parts.map((p) => ({ step: p.id, scriptVersion: p.script.version, scriptSha256: p.script.sha256 })),
    nonce,
  };
}

/**
 * A bundle's typical duration: its steps' in turn, and a settle wait ends once the device has been up its seconds:
 * that is the settle less the device's estimated uptime after the submission, unless the steps before it take longer.
 */
function bundleExpectedSeconds(
  parts: readonly { step: { settleUptimeSeconds?: number }; expectedSeconds: number }[],
  uptimeSeconds: number,
): number {
  let seconds = 0;
  for (const p of parts) {
    if (p.step.settleUptimeSeconds !== undefined)
      seconds = Math.max(seconds, p.step.settleUptimeSeconds - uptimeSeconds);
    seconds += p.expectedSeconds;
  }
  return seconds;
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
