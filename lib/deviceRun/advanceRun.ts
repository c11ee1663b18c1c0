import { getAgentStatus } from "../azure/agentStatus";
import { planNext, type StageOutcome } from "../domain/run/planDeviceRun";
import { stageOutcomeOf } from "../domain/run/stageOutcome";
import type { StepFacts } from "../domain/run/steps";
import type { AdvanceDeviceRunInput, DeviceRunState } from "../schemas/deviceRun";
import { collectCommand } from "./collectCommand";
import type { DeviceRunDeps } from "./deps";
import { carryOutRecords } from "./planRecords";
import { pollCommands } from "./pollCommands";
import { recordStep, type RecordStepContext } from "./recordStep";
import { RunFacts } from "./runFacts";
import { StoredList } from "./storedArtifacts";
import { STEPS } from "./steps";
import { firstCheckAt, submitCommands } from "./submitCommands";

/**
 * Decisions one call may take when the next one is already due (a collected reboot and the first agent check):
 * each saved call is two history events less; the bound keeps one call short.
 */
const MAX_DECISIONS_PER_CALL = 3;

/** Where a stage ended: its outcome for the planner, or the state to return while its commands still run. */
type Looked = { kind: "outcome"; outcome: StageOutcome } | { kind: "waiting"; state: DeviceRunState };

/** Polls the stage's commands (or asks ARM for the agent's status while waiting) and records what ended. */
async function look(
  deps: DeviceRunDeps,
  ctx: RecordStepContext,
  input: AdvanceDeviceRunInput["input"],
  state: DeviceRunState,
): Promise<Looked> {
  const { now, stored } = ctx;
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
    const facts: StepFacts[] = [];
    for (const { command, end } of polled.ended) {
      const collected = await collectCommand({ ...deps, steps: ctx.steps }, ctx.run, command, end, stored, now);
      facts.push(await recordStep(ctx, collected));
      // Last: until the artifacts are stored, a retry must still find the command (or its status record).
      if (end.kind === "terminal") await deps.runCommands.delete(command.handle);
    }
    return { kind: "outcome", outcome: stageOutcomeOf(state.stage, facts) };
  }
  if (state.stage === "rebootWait" || state.stage === "installReconnect") {
    return {
      kind: "outcome",
      outcome: { stage: state.stage, agentStatus: await getAgentStatus(deps.arm, input.device) },
    };
  }
  throw new Error(`run ${ctx.run.runId}: stage ${state.stage} has no run command in flight and nothing to wait for`);
}

/**
 * Moves a device run on (the advanceDeviceRun activity): polls the stage's run commands (or reads the agent status
 * while waiting for a reboot or a reconnect), records finished commands as their steps' evidence, lets the pure
 * planner decide, writes what the decision must record and submits the next stage's steps. Safe to retry: names,
 * paths and bytes derive from the input only.
 */
export async function advanceRun(deps: DeviceRunDeps, request: AdvanceDeviceRunInput): Promise<DeviceRunState> {
  const { input } = request;
  const now = new Date(request.now);
  const { run } = input;
  const steps = deps.steps ?? STEPS;
  const stored = new StoredList(request.state.stored);
  const facts = new RunFacts(deps.evidence, run, () => stored.list());
  const ctx: RecordStepContext = { evidence: deps.evidence, run, os: input.device.os, facts, stored, now, steps };
  let state = request.state;

  for (let decision = 0; decision < MAX_DECISIONS_PER_CALL && state.stage !== "done"; decision += 1) {
    const looked = await look(deps, ctx, input, state);
    if (looked.kind === "waiting") return looked.state;
    const plan = planNext({ ...state, stored: stored.list() }, looked.outcome, {
      now,
      ...(input.window === undefined ? {} : { windowEnd: new Date(input.window.end) }),
      dryRun: input.dryRun,
      scanOnly: input.scanOnly === true,
      ...(deps.stages === undefined ? {} : { stages: deps.stages }),
    });
    await carryOutRecords(deps.evidence, run, plan.record, stored, now);
    const commands =
      plan.submit.length === 0
        ? []
        : await submitCommands({
            runCommands: deps.runCommands,
            input,
            facts,
            steps,
            submit: plan.submit,
            now,
            sequence: stored.list().length,
          });
    state = {
      ...plan.state,
      stored: stored.list(),
      commands,
      nextCheckAt: commands.length > 0 ? firstCheckAt(commands, now) : plan.state.nextCheckAt,
    };
    // Plan again at once only when nothing was submitted and the next look is already due.
    if (commands.length > 0 || Date.parse(state.nextCheckAt) > now.getTime()) break;
  }
  return state;
}
