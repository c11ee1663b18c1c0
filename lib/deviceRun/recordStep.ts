import { PHASES, failurePath, specForPath, type ArtifactSpec } from "../domain/artifacts";
import { rowOf, type StepFacts } from "../domain/run/steps";
import type { EvidenceDeps } from "../evidence/runEvidence";
import type { PhaseFailure } from "../schemas/artifacts/run";
import type { ScriptSource } from "../schemas/artifacts/source";
import type { TranscriptStatus } from "../schemas/artifacts/transcript";
import type { OsFamily, RunRef } from "../schemas/common";
import type { CollectedCommand } from "./collectCommand";
import type { RunFacts } from "./runFacts";
import { parseFor, type StepTable } from "./steps";
import { readStored, type StoredList } from "./storedArtifacts";

function failureKind(status: TranscriptStatus): PhaseFailure["kind"] {
  if (status.canceled !== undefined) return "Timeout";
  // A command that timed out without ever starting never reached the agent.
  if (status.executionState === "TimedOut") return status.startTime === null ? "AgentDisconnected" : "Timeout";
  if (status.executionState === "Succeeded") return "MalformedOutput";
  return "ScriptFailed";
}

function describeEnd(c: CollectedCommand): string {
  const s = c.status;
  const exit = s.exitCode === null ? "" : ` (exit code ${s.exitCode})`;
  const message = s.executionMessage === "" ? "" : `: ${s.executionMessage.slice(0, 500)}`;
  return `${c.command.step} run command ${s.runCommandName} ended ${s.executionState}${exit}${message}`;
}

/** What recording needs besides the collected command. */
export interface RecordStepContext {
  evidence: EvidenceDeps;
  run: RunRef;
  os: OsFamily;
  facts: RunFacts;
  stored: StoredList;
  now: Date;
  steps: StepTable;
}

/**
 * Turns a collected command into its step's artifact(s) through the step table's `record`, or, when the output is not
 * usable, into the phase's failure record naming the transcripts (which are always kept, for steps that fail their
 * phase). Returns the step's facts for the planner (none when it failed).
 */
export async function recordStep(ctx: RecordStepContext, c: CollectedCommand): Promise<StepFacts> {
  const step = rowOf(ctx.steps, c.command.step);
  const script = c.status.script;
  const source: ScriptSource = {
    scriptId: script.id,
    scriptVersion: script.version,
    scriptSha256: script.sha256,
    runCommandName: c.status.runCommandName,
    transcript: c.transcripts[0] ?? "",
  };
  const recorded = await step.record({
    os: ctx.os,
    now: ctx.now,
    facts: ctx.facts,
    source,
    parse: parseFor(c.stdout, script.version),
    put: async (spec, value) => {
      await ctx.stored.put(ctx.evidence, ctx.run, spec, value);
    },
    read: <T>(spec: ArtifactSpec) => readStored<T>(ctx.evidence, ctx.run, ctx.stored.list(), spec),
  });
  if (recorded.ok) return recorded.facts;
  if (step.failsPhase) {
    const failure: PhaseFailure = {
      schemaVersion: 1,
      phase: PHASES[step.phase],
      kind: failureKind(c.status),
      message: `${describeEnd(c)}; the output is not usable: ${recorded.why}`,
      at: ctx.now.toISOString(),
      transcripts: c.transcripts,
    };
    await ctx.stored.put(ctx.evidence, ctx.run, specForPath(failurePath(step.phase)), failure);
  }
  return {};
}
