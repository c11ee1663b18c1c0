import { getAgentStatus } from "../../azure/agentStatus";
import { RunCommandNotFoundError } from "../../azure/armErrors";
import { PHASES } from "../../domain/artifacts";
import { failureHookSteps, nextFailureHooksLook } from "../../domain/hooks/failureHooks";
import { POINT_ACTIONS } from "../../domain/hooks/hookActions";
import { ALWAYS_HOOKS_STEP, ON_FAILURE_HOOKS_STEP } from "../../domain/hooks/planHooks";
import { artifactBlobName } from "../../evidence/keys";
import { sha256Hex } from "../../evidence/sha256";
import { rememberingWrites } from "../../evidence/writtenBytes";
import { sealedResult } from "../sealedResult";
import type { HookReport } from "../../schemas/artifacts/hooks";
import type { DeviceRunState, PendingCommand } from "../../schemas/deviceRun";
import type { RunFailureHooksInput, RunFailureHooksResult } from "../../schemas/failureHooks";
import type { HookPoint } from "../../schemas/hooksPolicy";
import { collectCommand, type CommandEnd } from "../collectCommand";
import type { DeviceRunDeps } from "../deps";
import { recordStep, type RecordStepContext } from "../recordStep";
import { RunFacts } from "../runFacts";
import { STEPS } from "../steps";
import { StoredList } from "../storedArtifacts";
import { submitNextStep } from "../submitNextStep";
import { isArmThrottled, waitOutThrottling } from "../throttleWait";
import { HOOK_REPORT_SPEC } from "./hookSteps";

// The orchestrator's failure path for hooks (issue 20): a run given up before its post stage (an activity that kept
// failing, the agent gone) still owes the on-failure and `always` hooks, and `always` restarts the services its
// pre-install point stopped. One call is one look, like advanceDeviceRun: wait until the run's own command in flight
// has ended (one command at a time per machine; it is not cancelled, and not collected: collecting it may be what
// failed), then send the owed points as one bundled command, then collect and record it under 07-post-snapshot like
// the post stage would. Past the deadline, or with the agent away until then, every owed point gets its report with
// `failurePath.notRun` saying why: never silent.

const POINT_OF: Record<string, HookPoint> = { [ON_FAILURE_HOOKS_STEP]: "onFailure", [ALWAYS_HOOKS_STEP]: "always" };
/** The failure path's own command: every section is a failure-path point (a post-stage bundle also runs snapshot). */
const isHookCommand = (c: PendingCommand): boolean =>
  [c.step, ...(c.sections ?? []).map((s) => s.step)].every((step) => step in POINT_OF);

type Look = { kind: "running" } | { kind: "ended"; end: CommandEnd };

async function look(deps: DeviceRunDeps, command: PendingCommand): Promise<Look> {
  try {
    const status = await deps.runCommands.poll(command.handle);
    return status.terminal ? { kind: "ended", end: { kind: "terminal", status } } : { kind: "running" };
  } catch (error) {
    // Gone: an earlier attempt of this activity (or the slot's next execution) moved on; collect rebuilds it.
    if (error instanceof RunCommandNotFoundError) return { kind: "ended", end: { kind: "terminal" } };
    throw error;
  }
}

/** One look of the failure path (the runFailureHooks activity). Safe to retry: bytes derive from the input. */
export async function runFailureHooks(
  callerDeps: DeviceRunDeps,
  request: RunFailureHooksInput,
): Promise<RunFailureHooksResult> {
  const deps = { ...callerDeps, evidence: rememberingWrites(callerDeps.evidence) };
  const { input } = request;
  const { run } = input;
  const now = new Date(request.now);
  const at = now.toISOString();
  const steps = deps.steps ?? STEPS;
  const stored = new StoredList(request.state.stored);
  const facts = new RunFacts(deps.evidence, run, () => stored.list());
  const ctx: RecordStepContext = { evidence: deps.evidence, run, os: input.device.os, facts, stored, now, steps };
  const pastDeadline = now.getTime() >= Date.parse(request.deadline);
  let state: DeviceRunState = request.state;
  let owed = failureHookSteps(state, true);
  // A run already sealed (the advance that ended it sealed it, then its answer was lost) is final: nothing runs or is
  // written after its seal, and its own post stage decided its hooks.
  if ((await sealedResult(callerDeps.evidence, run)) !== undefined)
    return { state, done: true, outcome: "already-sealed" };

  const event = (type: string, data: Record<string, unknown>): DeviceRunState["events"] => [
    ...state.events,
    { at, type, phase: PHASES.postSnapshot, data },
  ];
  const wait = (): RunFailureHooksResult => ({
    state: {
      ...state,
      stored: stored.list(),
      nextCheckAt: nextFailureHooksLook(now, request.attempt, request.deadline),
    },
    done: false,
    outcome: "waiting",
  });
  const notRun = async (why: string): Promise<RunFailureHooksResult> => {
    const record = await facts.runRecord();
    const stillStopped = POINT_ACTIONS.always(record.policy.hooks, input.device.os)
      .filter((a) => a.kind === "start")
      .map((a) => a.target);
    const message =
      `could not run the ${owed.map((s) => POINT_OF[s]).join(" and ")} hooks on the failure path: ${why}` +
      (stillStopped.length > 0
        ? `; services a pre-install hook stopped may still be stopped: ${stillStopped.join(", ")}`
        : "");
    for (const step of owed) {
      const point = POINT_OF[step] ?? "always";
      const report: HookReport = {
        schemaVersion: 1,
        point,
        recordedAt: at,
        ok: false,
        reported: false,
        actions: [],
        refused: [],
        ...(record.policyProvenance[`hooks.${point}`] === undefined
          ? {}
          : { setBy: record.policyProvenance[`hooks.${point}`] }),
        failurePath: { failure: request.failure.slice(0, 2000), notRun: message.slice(0, 2000) },
      };
      await stored.put(deps.evidence, run, HOOK_REPORT_SPEC[point], report);
    }
    return {
      state: {
        ...state,
        commands: [],
        stored: stored.list(),
        events: event("hooks.failurePathNotRun", { why: message }),
      },
      done: true,
      outcome: "not-run",
    };
  };

  if (!state.commands.some(isHookCommand)) {
    // The advance that failed may have collected the post stage's hooks before it failed (its later writes did not
    // make it into the state): such a report is in the store already. Not run twice (a second report would differ
    // from the first, which write-once refuses); it and its transcript are added to what the run seals.
    const already: string[] = [];
    const adopt = async (path: string): Promise<Buffer | undefined> => {
      const bytes = await deps.evidence.store.get(run, path);
      if (bytes !== undefined)
        stored.add({ path, blobName: artifactBlobName(run, path), sha256: sha256Hex(bytes), size: bytes.byteLength });
      return bytes;
    };
    for (const step of owed) {
      const bytes = await adopt(HOOK_REPORT_SPEC[POINT_OF[step] ?? "always"].path);
      if (bytes === undefined) continue;
      const transcript = (JSON.parse(bytes.toString("utf8")) as Partial<HookReport>).source?.transcript;
      if (transcript !== undefined && transcript.endsWith(".stdout.txt")) {
        await adopt(transcript);
        await adopt(transcript.replace(/\.stdout\.txt$/, ".status.json"));
      }
      already.push(step);
    }
    owed = owed.filter((s) => !already.includes(s));
    if (owed.length === 0)
      return {
        state: { ...state, stored: stored.list(), events: event("hooks.failurePathRan", { steps: [], already }) },
        done: true,
        outcome: "ran",
      };
  }
  if (owed.length === 0 && !state.commands.some(isHookCommand)) return { state, done: true, outcome: "ran" };

  try {
    const hookCommand = state.commands.find(isHookCommand);
    if (hookCommand !== undefined) {
      const looked = await look(deps, hookCommand);
      if (looked.kind === "running" && !pastDeadline) return wait();
      const end: CommandEnd = looked.kind === "ended" ? looked.end : { kind: "overdue", lastState: "Running" };
      for (const collected of await collectCommand({ ...deps, steps }, run, hookCommand, end, stored, now))
        await recordStep(ctx, collected);
      return {
        state: {
          ...state,
          commands: [],
          stored: stored.list(),
          events: event("hooks.failurePathRan", {
            steps: [hookCommand.step, ...(hookCommand.sections ?? []).map((s) => s.step)].filter(
              (s, i, all) => all.indexOf(s) === i,
            ),
            ...(end.kind === "overdue" ? { overdue: true } : {}),
          }),
        },
        done: true,
        outcome: "ran",
      };
    }
    // The run's own command still in flight (an install the loop gave up on): the machine runs one at a time.
    for (const command of state.commands) {
      if ((await look(deps, command)).kind === "running") {
        if (pastDeadline)
          return notRun(`the run's ${command.step} command was still running at the deadline ${request.deadline}`);
        return wait();
      }
    }
    if (state.commands.length > 0)
      state = {
        ...state,
        commands: [],
        events: event("hooks.failurePathWaited", {
          uncollected: state.commands.map((c) => c.transcriptName ?? c.handle.runCommandName),
        }),
      };
    const agent = await getAgentStatus(deps.arm, input.device);
    if (agent !== "Connected") {
      if (pastDeadline) return notRun(`the agent was ${agent} until the deadline ${request.deadline}`);
      return wait();
    }
    if (pastDeadline) return notRun(`the machine was not free before the deadline ${request.deadline}`);
    const next = await submitNextStep(deps, ctx, input, { ...state, queued: owed, stageFacts: [] });
    state = next.state;
    if (next.kind === "ended")
      return notRun("the agent refused the command (another command in flight) past the step's deadline");
    return { state: { ...state, stored: stored.list() }, done: false, outcome: "waiting" };
  } catch (error) {
    if (!isArmThrottled(error)) throw error;
    return {
      state: waitOutThrottling({ ...state, stored: stored.list() }, error, run.runId, now),
      done: false,
      outcome: "waiting",
    };
  }
}
