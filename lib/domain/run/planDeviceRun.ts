import type { DeviceRunStage, DeviceRunState, RebootProgress } from "../../schemas/deviceRun";
import type { AgentStatus } from "../../schemas/target";
import { PHASES } from "../artifacts";
import { decideInstallBudget } from "../window/rateControl";
import { FIRST_REBOOT_CHECK_SECONDS, STAGES, type StageTable } from "./steps";

/** What the device, or ARM, said when the commands of a stage ended (collected by the advance activity). */
export type StageOutcome =
  | { stage: "pre"; baselineOk: boolean; preValidationOk: boolean }
  | { stage: "catalog"; ok: boolean; approved: number }
  | { stage: "install"; documentProduced: boolean; installed: number; failed: number; rebootRequired: boolean }
  | { stage: "reboot"; scheduled: boolean; scheduledAt?: string; delaySeconds: number; bootTimeBefore?: string }
  | { stage: "bootProbe"; lastBootTime?: string; pendingReboot?: boolean }
  | { stage: "post"; regressions: number; /** From the post snapshot, when it was taken. */ lastBootTime?: string }
  | { stage: "rebootWait" | "installReconnect"; agentStatus: AgentStatus };

/** Something the advance activity must write because of a decision (it is evidence, not only control flow). */
export type PlanRecord =
  | { kind: "install-skipped"; reason: string; failureKind: "Skipped" }
  | { kind: "install-failed"; reason: string; failureKind: "Timeout" | "AgentDisconnected" | "ScriptFailed" }
  | { kind: "empty-install-summary"; reason: string };

/** The next move: the new state, the steps whose run commands to submit now, and what to record. */
export interface Plan {
  state: DeviceRunState;
  /** Step ids (lib/domain/run/steps.ts), the steps of the stage the run enters. */
  submit: string[];
  record: PlanRecord[];
}

/** What a decision may depend on besides the state and the outcome. */
export interface PlanContext {
  now: Date;
  /** The window's end: no install starts with less time left than the policy's install estimate. */
  windowEnd?: Date;
  dryRun: boolean;
  /** Scan-only assessment: the plan stops after the catalog (missing updates recorded, then sealed). */
  scanOnly?: boolean;
  /** The stage table (which steps each stage submits); the production one unless a test extends it. */
  stages?: StageTable;
}

/** Installs re-run once after the agent drops mid-install: the script reports what already went in as AlreadyInstalled. */
export const MAX_INSTALL_ATTEMPTS = 2;
/** Agent checks while waiting (an ARM read, no run command). */
const AGENT_CHECK_SECONDS = 60;

const iso = (d: Date): string => d.toISOString();
const after = (d: Date, seconds: number): string => new Date(d.getTime() + seconds * 1000).toISOString();

/**
 * The plan for entering a stage: a stage with steps submits them all (a stage of waiting submits none). `entering`
 * is false when the run stays in a waiting stage, so nothing is submitted again.
 */
function plan(
  state: DeviceRunState,
  changes: Partial<DeviceRunState> & { stage: DeviceRunStage },
  stages: StageTable,
  record: PlanRecord[] = [],
): Plan {
  const next = { ...state, ...changes, commands: [], pollAttempt: 0, lastPollAt: undefined };
  return { state: next, submit: [...stages[changes.stage].steps], record };
}

function event(
  state: DeviceRunState,
  now: Date,
  type: string,
  phase?: string,
  data?: Record<string, unknown>,
): DeviceRunState["events"] {
  return [
    ...state.events,
    { at: iso(now), type, ...(phase === undefined ? {} : { phase }), ...(data === undefined ? {} : { data }) },
  ];
}

/** The run's first device stage: baseline and pre-validation, read-only, submitted together. */
export function planStart(state: DeviceRunState, now: Date, stages: StageTable = STAGES): Plan {
  return plan(state, { stage: "pre", events: event(state, now, "phase.started", PHASES.baseline) }, stages);
}

/** After the install (or instead of it): reboot per policy, or straight to the post phases. */
function planReboot(
  state: DeviceRunState,
  now: Date,
  stages: StageTable,
  required: boolean,
  record: PlanRecord[] = [],
): Plan {
  const { rebootPolicy } = state.policy;
  const reboot: RebootProgress = { ...state.reboot, required };
  if (rebootPolicy === "Always" || (rebootPolicy === "IfRequired" && required)) {
    return plan(
      state,
      {
        stage: "reboot",
        reboot,
        events: event(state, now, "reboot.decided", PHASES.reboot, { policy: rebootPolicy, required }),
      },
      stages,
      record,
    );
  }
  const outcome = required ? "NotAllowed" : "NotRequired";
  return plan(
    state,
    {
      stage: "post",
      reboot: { ...reboot, outcome },
      events: event(state, now, "reboot.decided", PHASES.reboot, { policy: rebootPolicy, required, outcome }),
    },
    stages,
    record,
  );
}

/** Waits for a requested reboot to finish, or gives up after the policy's timeout. */
function planRebootWait(state: DeviceRunState, now: Date, stages: StageTable, agentStatus: AgentStatus): Plan {
  const requestedAt = new Date(state.reboot.requestedAt ?? iso(now));
  const waitedMs = now.getTime() - requestedAt.getTime();
  const downAt = requestedAt.getTime() + (state.reboot.delaySeconds ?? 0) * 1000;
  if (agentStatus === "Connected" && now.getTime() > downAt) {
    // Connected alone proves nothing (it may not have gone down yet): the boot probe reads the boot time.
    return plan(state, { stage: "bootProbe" }, stages);
  }
  if (waitedMs >= state.policy.rebootTimeoutMinutes * 60_000) {
    return plan(
      state,
      {
        stage: "post",
        reboot: { ...state.reboot, outcome: "TimedOut" },
        events: event(state, now, "reboot.timed-out", PHASES.reboot, { waitedMinutes: Math.floor(waitedMs / 60_000) }),
      },
      stages,
    );
  }
  return plan(state, { stage: "rebootWait", nextCheckAt: after(now, AGENT_CHECK_SECONDS) }, stages);
}

/** Baseline and pre-validation ended: go on to the catalog, or stop before any change. */
function afterPre(
  state: DeviceRunState,
  outcome: Extract<StageOutcome, { stage: "pre" }>,
  now: Date,
  stages: StageTable,
): Plan {
  // Without a baseline or a pre-validation nothing could prove what patching changed or broke: stop before
  // changing anything (the missing evidence makes the exit code 240, with the phase failure as the reason).
  if (!outcome.baselineOk || !outcome.preValidationOk) {
    return plan(
      state,
      {
        stage: "done",
        events: event(state, now, "run.stopped", PHASES.baseline, {
          reason: "no baseline or pre-validation: nothing was changed",
        }),
      },
      stages,
    );
  }
  return plan(state, { stage: "catalog", events: event(state, now, "phase.completed", PHASES.preValidation) }, stages);
}

/** The catalog ended: install the approved updates, or skip to the reboot decision (none, dry run, no time). */
function afterCatalog(
  state: DeviceRunState,
  outcome: Extract<StageOutcome, { stage: "catalog" }>,
  ctx: PlanContext,
  now: Date,
  stages: StageTable,
): Plan {
  if (!outcome.ok) {
    return plan(
      state,
      {
        stage: "done",
        events: event(state, now, "run.stopped", PHASES.catalog, { reason: "no catalog: nothing was installed" }),
      },
      stages,
    );
  }
  const counts = { ...state.counts, approved: outcome.approved };
  const withCounts = {
    ...state,
    counts,
    events: event(state, now, "phase.completed", PHASES.catalog, { approved: outcome.approved }),
  };
  if (ctx.scanOnly === true)
    return plan(
      withCounts,
      { stage: "done", events: event(withCounts, now, "run.scanned", PHASES.catalog, { approved: outcome.approved }) },
      stages,
    );
  if (ctx.dryRun)
    return planReboot(withCounts, now, stages, false, [
      { kind: "empty-install-summary", reason: "dry run: nothing installed" },
    ]);
  if (outcome.approved === 0)
    return planReboot(withCounts, now, stages, false, [
      { kind: "empty-install-summary", reason: "no approved updates" },
    ]);
  if (ctx.windowEnd !== undefined) {
    const budget = decideInstallBudget(now, ctx.windowEnd, state.policy.maxInstallMinutes);
    if (!budget.allowed) {
      const skipped = {
        ...withCounts,
        events: event(withCounts, now, "install.skipped", PHASES.install, { ...budget }),
      };
      return planReboot(skipped, now, stages, false, [
        { kind: "install-skipped", reason: budget.reason, failureKind: "Skipped" },
      ]);
    }
  }
  return plan(withCounts, { stage: "install", installAttempt: 1 }, stages);
}

/** The install ended: its document decides the reboot; no document means the agent dropped mid-install. */
function afterInstall(
  state: DeviceRunState,
  outcome: Extract<StageOutcome, { stage: "install" }>,
  now: Date,
  stages: StageTable,
): Plan {
  if (outcome.documentProduced) {
    const counts = { ...state.counts, installed: outcome.installed, failed: outcome.failed };
    const next = {
      ...state,
      counts,
      events: event(state, now, "phase.completed", PHASES.install, {
        installed: outcome.installed,
        failed: outcome.failed,
        attempt: state.installAttempt,
      }),
    };
    return planReboot(next, now, stages, outcome.rebootRequired);
  }
  if (state.installAttempt < MAX_INSTALL_ATTEMPTS) {
    // The agent dropped or the device restarted mid-install: reconcile by re-running the same install once
    // the agent is back, instead of failing blind.
    return plan(
      state,
      {
        stage: "installReconnect",
        waitingSince: iso(now),
        nextCheckAt: after(now, AGENT_CHECK_SECONDS),
        events: event(state, now, "install.interrupted", PHASES.install, { attempt: state.installAttempt }),
      },
      stages,
    );
  }
  const reason = `install produced no result after ${state.installAttempt} attempts`;
  // Unknown whether a reboot is pending; the post snapshot will say, and rule 150 reads it.
  return planReboot(
    { ...state, events: event(state, now, "phase.failed", PHASES.install, { reason }) },
    now,
    stages,
    false,
    [{ kind: "install-failed", reason, failureKind: "Timeout" }],
  );
}

/** Waiting for the agent after an interrupted install: install again once it is back, or give up. */
function afterInstallReconnect(
  state: DeviceRunState,
  outcome: { agentStatus: AgentStatus },
  now: Date,
  stages: StageTable,
): Plan {
  if (outcome.agentStatus === "Connected")
    return plan(state, { stage: "install", installAttempt: state.installAttempt + 1 }, stages);
  const since = new Date(state.waitingSince ?? iso(now));
  if (now.getTime() - since.getTime() >= state.policy.rebootTimeoutMinutes * 60_000) {
    const reason = `agent ${outcome.agentStatus} for ${state.policy.rebootTimeoutMinutes} min after the install was interrupted`;
    return planReboot(
      { ...state, events: event(state, now, "phase.failed", PHASES.install, { reason }) },
      now,
      stages,
      false,
      [{ kind: "install-failed", reason, failureKind: "AgentDisconnected" }],
    );
  }
  return plan(state, { stage: "installReconnect", nextCheckAt: after(now, AGENT_CHECK_SECONDS) }, stages);
}

/** The reboot script ended: wait for the device to go down and come back, or record that it did not schedule. */
function afterReboot(
  state: DeviceRunState,
  outcome: Extract<StageOutcome, { stage: "reboot" }>,
  now: Date,
  stages: StageTable,
): Plan {
  if (!outcome.scheduled || outcome.scheduledAt === undefined) {
    return plan(
      state,
      {
        stage: "post",
        reboot: { ...state.reboot, outcome: "Failed" },
        events: event(state, now, "reboot.failed", PHASES.reboot),
      },
      stages,
    );
  }
  const reboot: RebootProgress = {
    ...state.reboot,
    requested: true,
    count: state.reboot.count + 1,
    requestedAt: outcome.scheduledAt,
    delaySeconds: outcome.delaySeconds,
    // The first reboot's "before" is the one that matters to an auditor: the boot before the run changed anything.
    bootTimeBefore: state.reboot.bootTimeBefore ?? outcome.bootTimeBefore,
    bootTimeAfter: undefined,
    outcome: undefined,
  };
  const firstCheck = new Date(
    Date.parse(outcome.scheduledAt) + (outcome.delaySeconds + FIRST_REBOOT_CHECK_SECONDS) * 1000,
  );
  return plan(
    state,
    {
      stage: "rebootWait",
      reboot,
      nextCheckAt: iso(firstCheck),
      events: event(state, now, "reboot.requested", PHASES.reboot, {
        count: reboot.count,
        at: outcome.scheduledAt,
      }),
    },
    stages,
  );
}

/** The boot probe ended: a boot time after the request proves the reboot; still pending reboots again. */
function afterBootProbe(
  state: DeviceRunState,
  outcome: Extract<StageOutcome, { stage: "bootProbe" }>,
  now: Date,
  stages: StageTable,
): Plan {
  const requestedAt = Date.parse(state.reboot.requestedAt ?? iso(now));
  if (outcome.lastBootTime === undefined || Date.parse(outcome.lastBootTime) <= requestedAt) {
    // Not down yet, or the probe could not read the boot time: keep waiting (the timeout bounds it).
    return planRebootWait({ ...state, stage: "rebootWait" }, now, stages, "Disconnected");
  }
  const rebooted = { ...state.reboot, bootTimeAfter: outcome.lastBootTime };
  if (outcome.pendingReboot === true && state.policy.rebootPolicy !== "Never") {
    if (state.reboot.count < state.policy.maxReboots) {
      return plan(
        state,
        {
          stage: "reboot",
          reboot: rebooted,
          events: event(state, now, "reboot.again", PHASES.reboot, {
            count: state.reboot.count,
            reason: "still pending after the reboot",
          }),
        },
        stages,
      );
    }
    return plan(
      state,
      {
        stage: "post",
        reboot: { ...rebooted, outcome: "RebootLoopGuard" },
        events: event(state, now, "reboot.loop-guard", PHASES.reboot, {
          count: state.reboot.count,
          maxReboots: state.policy.maxReboots,
        }),
      },
      stages,
    );
  }
  return plan(
    state,
    {
      stage: "post",
      reboot: { ...rebooted, outcome: "Completed" },
      events: event(state, now, "reboot.completed", PHASES.reboot, {
        bootTimeAfter: outcome.lastBootTime,
        count: state.reboot.count,
      }),
    },
    stages,
  );
}

/** The post phases ended: the run is done (a later boot time than the proven reboot is a reboot loop). */
function afterPost(
  state: DeviceRunState,
  outcome: Extract<StageOutcome, { stage: "post" }>,
  now: Date,
  stages: StageTable,
): Plan {
  const counts = { ...state.counts, regressions: outcome.regressions };
  let next: DeviceRunState = { ...state, counts };
  const bootTimeAfter = state.reboot.bootTimeAfter;
  if (
    state.reboot.outcome === "Completed" &&
    bootTimeAfter !== undefined &&
    outcome.lastBootTime !== undefined &&
    Date.parse(outcome.lastBootTime) > Date.parse(bootTimeAfter)
  ) {
    // The device went down again by itself after the reboot we proved: it is not stable (a reboot loop), whatever
    // the checks said in between.
    next = {
      ...next,
      reboot: { ...state.reboot, count: state.reboot.count + 1, outcome: "RebootLoopGuard" },
      events: event(next, now, "reboot.unexpected", PHASES.postSnapshot, {
        bootTimeAfter,
        lastBootTime: outcome.lastBootTime,
      }),
    };
  }
  return plan(
    next,
    {
      stage: "done",
      events: event(next, now, "phase.completed", PHASES.postValidation, { regressions: outcome.regressions }),
    },
    stages,
  );
}

/** Decides the next step after a stage ended. Pure: same state, outcome and context, same plan. */
export function planNext(state: DeviceRunState, outcome: StageOutcome, ctx: PlanContext): Plan {
  const { now } = ctx;
  const stages = ctx.stages ?? STAGES;
  switch (outcome.stage) {
    case "pre":
      return afterPre(state, outcome, now, stages);
    case "catalog":
      return afterCatalog(state, outcome, ctx, now, stages);
    case "install":
      return afterInstall(state, outcome, now, stages);
    case "installReconnect":
      return afterInstallReconnect(state, outcome, now, stages);
    case "reboot":
      return afterReboot(state, outcome, now, stages);
    case "rebootWait":
      return planRebootWait(state, now, stages, outcome.agentStatus);
    case "bootProbe":
      return afterBootProbe(state, outcome, now, stages);
    case "post":
      return afterPost(state, outcome, now, stages);
  }
}
