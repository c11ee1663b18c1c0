import { ARTIFACTS, PHASES, failurePath, specForPath, type PhaseKey } from "../domain/artifacts";
import { DEFAULT_GLOBAL_POLICY } from "../domain/policy/defaultPolicy";
import { applyQuarantine } from "../domain/policy/applyQuarantine";
import { PolicyValidationError, resolveEffectivePolicy } from "../domain/policy/overlay";
import { newDeviceRunState } from "../domain/run/newDeviceRunState";
import { planStart } from "../domain/run/planDeviceRun";
import type { LockContention, PhaseFailure, RunRecord } from "../schemas/artifacts/run";
import type { DeviceRunInput, DeviceRunState, StartDeviceRunInput } from "../schemas/deviceRun";
import type { DeviceRunDeps } from "./deps";
import { RunFacts } from "./runFacts";
import { StoredList } from "./storedArtifacts";
import { STEPS } from "./steps";
import { submitNextStep } from "./submitNextStep";
import { finishWhenDone } from "./finishWhenDone";

/** Without a window, a lock outlives any run (the longest: installs, reboots, timeouts) by far. */
const LOCK_WITHOUT_WINDOW_MINUTES = 24 * 60;
/** After the window's end, time for the last run's post phases and seal. */
const LOCK_AFTER_WINDOW_MINUTES = 60;

function lockMinutes(input: DeviceRunInput, now: Date): number {
  if (input.window === undefined) return LOCK_WITHOUT_WINDOW_MINUTES;
  return Math.max(1, Math.ceil((Date.parse(input.window.end) - now.getTime()) / 60_000)) + LOCK_AFTER_WINDOW_MINUTES;
}

/** A run that ends before any device step: its state, with the stop recorded as an event. */
function stopped(
  state: DeviceRunState,
  stored: StoredList,
  event: DeviceRunState["events"][number],
  extra: Partial<DeviceRunState> = {},
): DeviceRunState {
  return { ...state, ...extra, stage: "done", stored: stored.list(), events: [...state.events, event] };
}

/** A failure record of a phase the run never got to do (no transcripts: nothing ran on the device). */
function failureRecord(phase: PhaseKey, kind: PhaseFailure["kind"], message: string, now: Date): PhaseFailure {
  return { schemaVersion: 1, phase: PHASES[phase], kind, message, at: now.toISOString(), transcripts: [] };
}

/**
 * Phase 01 and the first device stage (the startDeviceRun activity): resolves the effective policy, records run.json,
 * takes the device lock, and submits the first stage's steps (baseline + pre-validation). Ends the run at once
 * (stage done) on lock contention (170, lock-contention.json) or when the agent is not connected
 * (02-baseline/failure.json: nothing was changed).
 *
 * A policy the overlay refuses (PolicyValidationError) is not transient, so it is not retried: the refusal is
 * recorded as `01-init/failure.json` (kind PolicyInvalid, naming each layer and field), no lock is taken, the device
 * is not touched, and the run ends with exit code 240 (run.json missing because the policy was refused).
 */
export async function startRun(deps: DeviceRunDeps, request: StartDeviceRunInput): Promise<DeviceRunState> {
  // A run that ends before any device step (lock held, agent away, policy refused) is sealed in the same call.
  return finishWhenDone(deps, request.input, await startOnce(deps, request), request.now);
}

async function startOnce(deps: DeviceRunDeps, request: StartDeviceRunInput): Promise<DeviceRunState> {
  const { input, instanceId } = request;
  const now = new Date(request.now);
  const at = now.toISOString();
  const { run, device } = input;
  // The status row exists from the start, so a run can be looked up (and followed) before it is sealed.
  await deps.evidence.index.upsertRun(run, {
    status: "running",
    startedAt: at,
    dryRun: input.dryRun,
    ...(instanceId === undefined ? {} : { instanceId }),
  });
  const stored = new StoredList([]);
  let resolved;
  try {
    resolved = resolveEffectivePolicy(await deps.policies.layersFor(run));
  } catch (error) {
    if (!(error instanceof PolicyValidationError)) throw error;
    const failure = failureRecord("init", "PolicyInvalid", error.message, now);
    await stored.put(deps.evidence, run, specForPath(failurePath("init")), failure);
    // The state needs policy values for its shape only: the run is over before any of them is used.
    const state = newDeviceRunState(resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY]).policy, now);
    return stopped(state, stored, { at, type: "run.stopped", phase: PHASES.init, data: { reason: "policy refused" } });
  }
  // Quarantines come after the overlay: no layer can let a quarantined update back in. Read once, recorded in run.json.
  const quarantine = await deps.quarantine.activeFor(run.tenant, run.client);
  const { policy, provenance } = applyQuarantine(resolved, quarantine);
  const record: RunRecord = {
    schemaVersion: 1,
    run,
    target: { resourceId: device.resourceId, kind: device.kind, os: device.os },
    startedAt: at,
    trigger: input.trigger,
    dryRun: input.dryRun,
    ...(input.scanOnly === true ? { scanOnly: true } : {}),
    ...(input.release !== undefined ? { release: input.release } : {}),
    policy,
    policyProvenance: provenance,
    ...(quarantine.length > 0 ? { quarantine } : {}),
  };
  await stored.put(deps.evidence, run, ARTIFACTS.run, record);
  const fresh = newDeviceRunState(policy, now);

  const holder = { tenant: run.tenant, client: run.client, device: run.device, runId: run.runId };
  const lock = await deps.locks.acquire(holder, now, lockMinutes(input, now));
  if (!lock.acquired) {
    const contention: LockContention = { schemaVersion: 1, run, observedAt: at, holder: lock.holder };
    await stored.put(deps.evidence, run, ARTIFACTS.lockContention, contention);
    const event = { at, type: "lock.contended", phase: PHASES.init, data: { holder: lock.holder.runId } };
    return stopped(fresh, stored, event, { lockContended: true });
  }
  if (device.status !== "Connected") {
    const message = `the agent of ${device.name} is ${device.status}: no run command was sent, nothing was changed`;
    await stored.put(
      deps.evidence,
      run,
      specForPath(failurePath("baseline")),
      failureRecord("baseline", "AgentDisconnected", message, now),
    );
    const reason = `agent ${device.status}`;
    return stopped(fresh, stored, { at, type: "run.stopped", phase: PHASES.baseline, data: { reason } });
  }

  const plan = planStart({ ...fresh, stored: stored.list() }, now, deps.stages);
  const facts = new RunFacts(deps.evidence, run, () => stored.list(), record);
  const steps = deps.steps ?? STEPS;
  const ctx = { evidence: deps.evidence, run, os: device.os, facts, stored, now, steps };
  // One run command at a time per machine: the stage's first step now, the others once each one before was collected.
  const next = await submitNextStep(deps, ctx, input, {
    ...plan.state,
    stored: stored.list(),
    queued: [...plan.submit],
    stageFacts: [],
  });
  return next.kind === "state" ? next.state : { ...next.state, nextCheckAt: now.toISOString() };
}
