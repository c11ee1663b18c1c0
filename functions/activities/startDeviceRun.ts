import { z } from "zod";
import { ARTIFACTS, PHASES, failurePath, specForPath } from "../../lib/domain/artifacts";
import { DEFAULT_GLOBAL_POLICY } from "../../lib/domain/policy/defaultPolicy";
import { PolicyValidationError, resolveEffectivePolicy } from "../../lib/domain/policy/overlay";
import { newDeviceRunState } from "../../lib/domain/run/newDeviceRunState";
import { planStart } from "../../lib/domain/run/planDeviceRun";
import type { LockContention, PhaseFailure, RunRecord } from "../../lib/schemas/artifacts/run";
import { TimestampSchema } from "../../lib/schemas/common";
import { DeviceRunInputSchema, type DeviceRunInput, type DeviceRunState } from "../../lib/schemas/deviceRun";
import type { DeviceRunDeps } from "./deviceRun/deps";
import { RunFacts } from "./deviceRun/runFacts";
import { StoredList } from "./deviceRun/storedArtifacts";
import { firstCheckAt, submitCommands } from "./deviceRun/submitCommands";

/** Input of startDeviceRun: `now` is the orchestrator's replay-safe clock. */
export const StartDeviceRunInputSchema = z.object({
  input: DeviceRunInputSchema,
  now: TimestampSchema,
  /** The orchestration's instance id, recorded in the Runs row so status APIs can show live progress. */
  instanceId: z.string().min(1).optional(),
});
export type StartDeviceRunInput = z.infer<typeof StartDeviceRunInputSchema>;

/** Without a window, a lock outlives any run (the longest: installs, reboots, timeouts) by far. */
const LOCK_WITHOUT_WINDOW_MINUTES = 24 * 60;
/** After the window's end, time for the last run's post phases and seal. */
const LOCK_AFTER_WINDOW_MINUTES = 60;

function lockMinutes(input: DeviceRunInput, now: Date): number {
  if (input.window === undefined) return LOCK_WITHOUT_WINDOW_MINUTES;
  return Math.max(1, Math.ceil((Date.parse(input.window.end) - now.getTime()) / 60_000)) + LOCK_AFTER_WINDOW_MINUTES;
}

/**
 * Builds the activity for phase 01 and the first device stage: resolves the effective policy, records run.json,
 * takes the device lock, and submits baseline + pre-validation. Ends the run at once (stage done) on lock contention
 * (170, lock-contention.json) or when the agent is not connected (02-baseline/failure.json: nothing was changed).
 *
 * A policy the overlay refuses (PolicyValidationError) is not transient, so it is not retried: the refusal is
 * recorded as `01-init/failure.json` (kind PolicyInvalid, naming each layer and field), no lock is taken, the device
 * is not touched, and the run ends with exit code 240 (run.json missing because the policy was refused).
 */
export function makeStartDeviceRun(deps: DeviceRunDeps) {
  return async function startDeviceRun(rawInput: unknown): Promise<DeviceRunState> {
    const { input, now: nowText, instanceId } = StartDeviceRunInputSchema.parse(rawInput);
    const now = new Date(nowText);
    const { run, device } = input;
    // The status row exists from the start, so a run can be looked up (and followed) before it is sealed.
    await deps.evidence.index.upsertRun(run, {
      status: "running",
      startedAt: now.toISOString(),
      dryRun: input.dryRun,
      ...(instanceId === undefined ? {} : { instanceId }),
    });
    const stored = new StoredList([]);
    let resolved;
    try {
      resolved = resolveEffectivePolicy(await deps.policies.layersFor(run));
    } catch (error) {
      if (!(error instanceof PolicyValidationError)) throw error;
      const failure: PhaseFailure = {
        schemaVersion: 1,
        phase: PHASES.init,
        kind: "PolicyInvalid",
        message: error.message,
        at: now.toISOString(),
        transcripts: [],
      };
      await stored.put(deps.evidence, run, specForPath(failurePath("init")), failure);
      // The state needs policy values for its shape only: the run is over before any of them is used.
      const stopped = newDeviceRunState(resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY]).policy, now);
      return {
        ...stopped,
        stage: "done",
        stored: stored.list(),
        events: [
          ...stopped.events,
          { at: now.toISOString(), type: "run.stopped", phase: PHASES.init, data: { reason: "policy refused" } },
        ],
      };
    }
    const { policy, provenance } = resolved;

    const record: RunRecord = {
      schemaVersion: 1,
      run,
      target: { resourceId: device.resourceId, kind: device.kind, os: device.os },
      startedAt: now.toISOString(),
      trigger: input.trigger,
      dryRun: input.dryRun,
      policy,
      policyProvenance: provenance,
    };
    await stored.put(deps.evidence, run, ARTIFACTS.run, record);
    const fresh = newDeviceRunState(policy, now);

    const lock = await deps.locks.acquire(
      { tenant: run.tenant, client: run.client, device: run.device, runId: run.runId },
      now,
      lockMinutes(input, now),
    );
    if (!lock.acquired) {
      const contention: LockContention = { schemaVersion: 1, run, observedAt: now.toISOString(), holder: lock.holder };
      await stored.put(deps.evidence, run, ARTIFACTS.lockContention, contention);
      return {
        ...fresh,
        stage: "done",
        lockContended: true,
        stored: stored.list(),
        events: [
          ...fresh.events,
          { at: now.toISOString(), type: "lock.contended", phase: PHASES.init, data: { holder: lock.holder.runId } },
        ],
      };
    }

    if (device.status !== "Connected") {
      const failure: PhaseFailure = {
        schemaVersion: 1,
        phase: PHASES.baseline,
        kind: "AgentDisconnected",
        message: `the agent of ${device.name} is ${device.status}: no run command was sent, nothing was changed`,
        at: now.toISOString(),
        transcripts: [],
      };
      await stored.put(deps.evidence, run, specForPath(failurePath("baseline")), failure);
      return {
        ...fresh,
        stage: "done",
        stored: stored.list(),
        events: [
          ...fresh.events,
          {
            at: now.toISOString(),
            type: "run.stopped",
            phase: PHASES.baseline,
            data: { reason: `agent ${device.status}` },
          },
        ],
      };
    }

    const plan = planStart({ ...fresh, stored: stored.list() }, now);
    const facts = new RunFacts(deps.evidence, run, () => stored.list(), record);
    const commands = await submitCommands({
      runCommands: deps.runCommands,
      input,
      facts,
      roles: plan.submit,
      now,
      sequence: stored.list().length,
    });
    return { ...plan.state, stored: stored.list(), commands, nextCheckAt: firstCheckAt(commands, now) };
  };
}
