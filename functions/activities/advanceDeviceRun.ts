import { z } from "zod";
import { getAgentStatus } from "../../lib/azure/agentStatus";
import { planNext, type StageOutcome } from "../../lib/domain/run/planDeviceRun";
import { TimestampSchema } from "../../lib/schemas/common";
import { DeviceRunInputSchema, DeviceRunStateSchema, type DeviceRunState } from "../../lib/schemas/deviceRun";
import { collectCommand } from "./deviceRun/collectCommand";
import type { DeviceRunDeps } from "./deviceRun/deps";
import { carryOutRecords } from "./deviceRun/planRecords";
import { pollCommands } from "./deviceRun/pollCommands";
import { recordPhase, type RoleSummary } from "./deviceRun/recordPhase";
import { RunFacts } from "./deviceRun/runFacts";
import { stageOutcomeOf } from "./deviceRun/stageOutcome";
import { StoredList } from "./deviceRun/storedArtifacts";
import { firstCheckAt, submitCommands } from "./deviceRun/submitCommands";

/** Input of advanceDeviceRun: `now` is the orchestrator's replay-safe clock. */
export const AdvanceDeviceRunInputSchema = z.object({
  input: DeviceRunInputSchema,
  state: DeviceRunStateSchema,
  now: TimestampSchema,
});
export type AdvanceDeviceRunInput = z.infer<typeof AdvanceDeviceRunInputSchema>;

/**
 * Decisions one call may take when the next one is already due (a collected reboot and the first agent check):
 * each saved call is two history events less; the bound keeps one call short.
 */
const MAX_DECISIONS_PER_CALL = 3;

/**
 * Builds the activity that moves a device run one step: polls the stage's run commands (or reads the agent status
 * while waiting for a reboot or a reconnect), collects finished commands into evidence, lets the pure planner decide,
 * writes what the decision must record and submits the next commands. Safe to retry: names, paths and bytes derive
 * from the input only.
 */
export function makeAdvanceDeviceRun(deps: DeviceRunDeps) {
  return async function advanceDeviceRun(rawInput: unknown): Promise<DeviceRunState> {
    const { input, state: initial, now: nowText } = AdvanceDeviceRunInputSchema.parse(rawInput);
    const now = new Date(nowText);
    const { run } = input;
    const stored = new StoredList(initial.stored);
    const facts = new RunFacts(deps.evidence, run, () => stored.list());
    const ctx = { evidence: deps.evidence, run, os: input.device.os, facts, stored, now };
    let state = initial;

    for (let decision = 0; decision < MAX_DECISIONS_PER_CALL && state.stage !== "done"; decision += 1) {
      let outcome: StageOutcome;
      if (state.commands.length > 0) {
        const polled = await pollCommands(deps.runCommands, state, now);
        if (polled.kind === "waiting") {
          return {
            ...state,
            stored: stored.list(),
            pollAttempt: state.pollAttempt + 1,
            lastPollAt: now.toISOString(),
            nextCheckAt: polled.nextCheckAt,
          };
        }
        const summaries: RoleSummary[] = [];
        for (const { command, end } of polled.ended) {
          const collected = await collectCommand(deps, run, command, end, stored, now);
          summaries.push(await recordPhase(ctx, collected));
          // Last: until the artifacts are stored, a retry must still find the command (or its status record).
          if (end.kind === "terminal") await deps.runCommands.delete(command.handle);
        }
        outcome = stageOutcomeOf(state.stage, summaries);
      } else if (state.stage === "rebootWait" || state.stage === "installReconnect") {
        outcome = { stage: state.stage, agentStatus: await getAgentStatus(deps.arm, input.device) };
      } else {
        throw new Error(`run ${run.runId}: stage ${state.stage} has no run command in flight and nothing to wait for`);
      }

      const plan = planNext({ ...state, stored: stored.list() }, outcome, {
        now,
        ...(input.window === undefined ? {} : { windowEnd: new Date(input.window.end) }),
        dryRun: input.dryRun,
      });
      await carryOutRecords(deps.evidence, run, plan.record, stored, now);
      const commands =
        plan.submit.length === 0
          ? []
          : await submitCommands({
              runCommands: deps.runCommands,
              input,
              facts,
              roles: plan.submit,
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
  };
}
