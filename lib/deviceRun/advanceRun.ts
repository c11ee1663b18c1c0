import { getAgentStatus } from "../azure/agentStatus";
import { planFoldedReboot, planNext, type StageOutcome } from "../domain/run/planDeviceRun";
import { stageOutcomeOf } from "../domain/run/stageOutcome";
import type { StepFacts } from "../domain/run/steps";
import type { AdvanceDeviceRunInput, DeviceRunState } from "../schemas/deviceRun";
import { collectCommand } from "./collectCommand";
import type { DeviceRunDeps } from "./deps";
import { carryOutRecords } from "./planRecords";
import { pollCommands } from "./pollCommands";
import { carryOutLoadBalancer } from "./loadBalancer/carryOutLoadBalancer";
import { recordRemediation } from "./remediation/recordRemediation";
import { recordStep, type RecordStepContext } from "./recordStep";
import { lookArmStage } from "./snapshots/armStages";
import { RunFacts } from "./runFacts";
import { StoredList } from "./storedArtifacts";
import { STEPS } from "./steps";
import { isArmThrottled, waitOutThrottling } from "./throttleWait";
import { stageFactsOf, submitNextStep } from "./submitNextStep";
import { rememberingWrites } from "../evidence/writtenBytes";
import { finishWhenDone } from "./finishWhenDone";
import type { CollectedCommand } from "./collectCommand";
import { withPostAfterProbe } from "./probeWithPost";
import { deferredAlreadyRan, splitDeferred } from "./deferredSections";
import { STAGES } from "../domain/run/steps";
import { foldedRebootOf, foldedRebootSection, withRebootAfterInstall } from "./rebootWithInstall";

/**
 * Decisions one call may take when the next one is already due (a collected reboot and the first agent check):
 * each saved call is two history events less; the bound keeps one call short.
 */
const MAX_DECISIONS_PER_CALL = 3;

/** Where a stage ended: its outcome for the planner, or the state to return while its commands still run. */
type Looked =
  | {
      kind: "outcome";
      outcome: StageOutcome;
      state: DeviceRunState;
      /** Post sections collected with a boot probe, recorded only if the probe's decision is the post stage. */
      deferred?: CollectedCommand[];
    }
  | { kind: "waiting"; state: DeviceRunState };

/**
 * Polls the stage's command (or asks ARM for the agent's status while waiting) and records what ended. One command
 * at a time per machine: when it was collected and the stage has steps queued, the next one is submitted (or waits
 * out an agent that refused it with 409); the stage's outcome comes once its last step was collected.
 */
async function look(
  deps: DeviceRunDeps,
  ctx: RecordStepContext,
  input: AdvanceDeviceRunInput["input"],
  state: DeviceRunState,
): Promise<Looked> {
  const { now, stored } = ctx;
  const deferred: CollectedCommand[] = [];
  if (state.commands.length > 0) {
    const polled = await pollCommands(deps.runCommands, state, now);
    if (polled.kind === "waiting") {
      return {
        kind: "waiting",
        state: {
          ...state,
          stored: stored.list(),
          pollAttempt: state.pollAttempt + 1,
          lastPollAt: now.toISOString(),
          nextCheckAt: polled.nextCheckAt,
        },
      };
    }
    const facts: StepFacts[] = stageFactsOf(state);
    for (const { command, end } of polled.ended) {
      // A bundle is collected as one record per section, each recorded through its own step's row.
      const collected = await collectCommand({ ...deps, steps: ctx.steps }, ctx.run, command, end, stored, now);
      const split = splitDeferred(state.stage, collected);
      for (const section of split.now) facts.push(await recordStep(ctx, section));
      deferred.push(...split.deferred);
      // Not deleted: the step's slot is updated in place by its next execution (lib/azure/runCommands.ts), so a
      // retry finds the command (or, once the slot holds another execution, rebuilds it from its status record).
    }
    state = { ...state, commands: [], stored: stored.list(), stageFacts: facts as Record<string, unknown>[] };
  }
  if ((state.queued ?? []).length > 0 || (state.commands.length === 0 && state.stageFacts !== undefined)) {
    const next = await submitNextStep(deps, ctx, input, state);
    if (next.kind === "state") return { kind: "waiting", state: next.state };
    return { kind: "outcome", outcome: stageOutcomeOf(state.stage, next.facts), state: next.state, deferred };
  }
  if (state.stage === "rebootWait" || state.stage === "installReconnect") {
    return {
      kind: "outcome",
      outcome: { stage: state.stage, agentStatus: await getAgentStatus(deps.arm, input.device) },
      state,
    };
  }
  // Issue 20: snapshots before install, the OS-disk restore and its wait are ARM-side actions (lib/deviceRun/snapshots).
  const armOutcome = await lookArmStage(deps, ctx, input, state);
  if (armOutcome !== undefined) return { kind: "outcome", outcome: armOutcome, state };
  throw new Error(`run ${ctx.run.runId}: stage ${state.stage} has no run command in flight and nothing to wait for`);
}

/**
 * Moves a device run on (the advanceDeviceRun activity): polls the stage's run commands (or reads the agent status
 * while waiting for a reboot or a reconnect), records finished commands as their steps' evidence, lets the pure
 * planner decide, writes what the decision must record and submits the next stage's steps. Safe to retry: names,
 * paths and bytes derive from the input only.
 */
export async function advanceRun(callerDeps: DeviceRunDeps, request: AdvanceDeviceRunInput): Promise<DeviceRunState> {
  // Artifacts this call stores (create-once, verified by the write) and then decides on are served from memory, not
  // read back: by its steps and, when this call ends the run, by the finish too (issue 22). What earlier calls stored
  // is still read from storage, verified, by the finish.
  const deps = { ...callerDeps, evidence: rememberingWrites(callerDeps.evidence) };
  const state = await advanceOnce(deps, request);
  // The call that ended the run also seals it (issue 22): finishDeviceRun's work without its own activity call.
  return finishWhenDone(deps, request.input, state, request.now);
}

async function advanceOnce(deps: DeviceRunDeps, request: AdvanceDeviceRunInput): Promise<DeviceRunState> {
  const { input } = request;
  const now = new Date(request.now);
  const { run } = input;
  const steps = deps.steps ?? STEPS;
  const stored = new StoredList(request.state.stored);
  const facts = new RunFacts(deps.evidence, run, () => stored.list());
  const ctx: RecordStepContext = { evidence: deps.evidence, run, os: input.device.os, facts, stored, now, steps };
  let state = request.state;

  // The next stage's outcome when its sections ran in this stage's command (lib/deviceRun/deferredSections.ts).
  let ready: Looked | undefined;
  for (let decision = 0; decision < MAX_DECISIONS_PER_CALL && state.stage !== "done"; decision += 1) {
    let looked: Looked;
    try {
      looked = ready ?? (await look(deps, ctx, input, state));
      ready = undefined;
    } catch (error) {
      // A poll, collect or agent-status read that ARM throttled: this decision again after the wait (as a retry of
      // the call would, but at the wait ARM or the pacer named, in durable time, and never counted as a failure).
      if (!isArmThrottled(error)) throw error;
      return waitOutThrottling(state, error, run.runId, now);
    }
    if (looked.kind === "waiting") return looked.state;
    const ended = { ...looked.state, queued: undefined, stageFacts: undefined, conflict: undefined };
    const planContext = {
      now,
      ...(input.window === undefined ? {} : { windowEnd: new Date(input.window.end) }),
      dryRun: input.dryRun,
      scanOnly: input.scanOnly === true,
      os: input.device.os,
      ...(deps.stages === undefined ? {} : { stages: deps.stages }),
    };
    let plan = planNext({ ...ended, stored: stored.list() }, looked.outcome, planContext);
    const rebootSection = foldedRebootSection(looked.deferred ?? []);
    if (rebootSection !== undefined) {
      // The reboot rode at the end of the install's command (lib/deviceRun/rebootWithInstall.ts): judged against the
      // install's decision. Its row stores nothing (reboot.json is written at the end), so reading its facts when the
      // decision does not use it leaves only its transcripts, as what ran on the device.
      const facts = await recordStep(ctx, rebootSection);
      plan = planFoldedReboot(plan, foldedRebootOf(rebootSection, facts), planContext).plan;
    }
    await carryOutRecords(deps.evidence, run, plan.record, stored, now);
    await recordRemediation(deps, run, input.device.os, facts, plan.record, stored, now);
    await carryOutLoadBalancer(deps, run, input.device, facts, plan.record, stored, now);
    state = { ...plan.state, stored: stored.list() };
    const deferred = rebootSection === undefined ? (looked.deferred ?? []) : [];
    const outcomeOfDeferred = deferredAlreadyRan(plan, deferred);
    if (outcomeOfDeferred !== undefined) {
      // The next stage's sections already ran in this command (the catalog after the pre steps, the post steps after
      // a probe that proved the reboot): record them now and decide on them in this call, as if that stage's own
      // command had just been collected (lib/deviceRun/deferredSections.ts).
      const facts: StepFacts[] = [];
      for (const section of deferred) facts.push(await recordStep(ctx, section));
      state = { ...state, stored: stored.list() };
      ready = { kind: "outcome", outcome: outcomeOfDeferred(facts), state };
      // Not counted as a decision of its own: that outcome is decided in this call whatever the bound.
      decision -= 1;
      continue;
    }
    const submit = withRebootAfterInstall(
      plan.state,
      withPostAfterProbe(plan.state, plan.submit, deps.stages ?? STAGES, deps.bundleSteps),
      deps,
    );
    if (submit.length > 0) {
      const next = await submitNextStep(deps, ctx, input, { ...state, queued: submit, stageFacts: [] });
      // A stage whose steps all gave up at once (409 past their deadlines) is decided on in the next call.
      state = next.state;
      if (next.kind === "ended") state = { ...state, nextCheckAt: now.toISOString() };
    }
    const commands = state.commands;
    // Plan again at once only when nothing was submitted and the next look is already due.
    if (commands.length > 0 || Date.parse(state.nextCheckAt) > now.getTime()) break;
  }
  return state;
}
