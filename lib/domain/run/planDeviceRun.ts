import type { DeviceRunStage, DeviceRunState, RebootProgress } from "../../schemas/deviceRun";
import type { InstallInProgress } from "../../schemas/artifacts/snapshot";
import type { AgentStatus } from "../../schemas/target";
import type { OsFamily } from "../../schemas/common";
import { PHASES, type PhaseKey } from "../artifacts";
import { decideInstallBudget } from "../window/rateControl";
import { gateStop, withGateStep } from "../gates/planGates";
import { withHookSteps } from "../hooks/planHooks";
import { afterSnapshot, withSnapshotStage, type SnapshotOutcome } from "../snapshots/planSnapshots";
import { withLoadBalancer, type LoadBalancerPlanRecord } from "../loadBalancer/planLoadBalancer";
import {
  afterRemediate,
  afterRestore,
  afterRestoreWait,
  afterRevalidate,
  remediateAfterPost,
  type RemediateOutcome,
  type RemediationPlanRecord,
  type RestoreOutcome,
  type RestoreWaitOutcome,
  type RevalidateOutcome,
} from "./planRemediation";
import {
  firstRebootCheckSeconds,
  POST_REBOOT_SETTLE_SECONDS,
  REBOOT_DELAY_SECONDS,
  STAGES,
  STEP_PLANS,
  type StageTable,
} from "./steps";

/** What the device, or ARM, said when the commands of a stage ended (collected by the advance activity). */
export type StageOutcome =
  | {
      stage: "pre";
      baselineOk: boolean;
      preValidationOk: boolean;
      /** The baseline saw another installer at work (issue 21): stop with 170 rather than race it. */
      foreignInstall?: InstallInProgress;
      /** The pre-patch gates' verdict (issue 20); absent when the gates step reported nothing. */
      gates?: { passed: boolean; failed: string[] };
    }
  | { stage: "catalog"; ok: boolean; approved: number }
  | { stage: "install"; documentProduced: boolean; installed: number; failed: number; rebootRequired: boolean }
  | {
      stage: "reboot";
      scheduled: boolean;
      scheduledAt?: string;
      delaySeconds: number;
      bootTimeBefore?: string;
      /** False when the reboot script's answer was unreadable: it may have rebooted all the same. */
      answered?: boolean;
      /** With an unreadable answer: when the command carrying the script was sent (default: the reboot command's). */
      sentAt?: string;
    }
  | { stage: "bootProbe"; lastBootTime?: string; pendingReboot?: boolean }
  | {
      stage: "post";
      regressions: number;
      /** From the post snapshot, when it was taken. */ lastBootTime?: string;
      /** After a regression: how many of the updates this run installed a remediation may remove. */
      removable?: number;
      /**
       * The stability probe ran in the same command, after the device had been up POST_REBOOT_SETTLE_SECONDS (issue
       * 22): the boot time it read, absent when its section produced nothing usable (the device went down meanwhile).
       */
      stableProbe?: { lastBootTime?: string };
    }
  | RemediateOutcome
  | RevalidateOutcome
  | SnapshotOutcome
  | RestoreOutcome
  | RestoreWaitOutcome
  | { stage: "rebootWait" | "installReconnect"; agentStatus: AgentStatus };

/** Something the advance activity must write because of a decision (it is evidence, not only control flow). */
export type PlanRecord =
  | { kind: "install-skipped"; reason: string; failureKind: "Skipped" }
  | { kind: "install-failed"; reason: string; failureKind: "Timeout" | "AgentDisconnected" | "ScriptFailed" }
  | { kind: "empty-install-summary"; reason: string }
  /** A phase never sent because the agent is known gone (issue 21: fail fast, not an hour of command timeouts). */
  | { kind: "phase-failed"; phase: PhaseKey; reason: string; failureKind: "AgentDisconnected" }
  /** A remediation ended (issue 20): `12-remediation/remediation.json` from the evidence, then the quarantine. */
  | RemediationPlanRecord
  /** A load-balancer drain or restore (issue 20), carried out ARM-side by lib/deviceRun/loadBalancer. */
  | LoadBalancerPlanRecord;

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
  /** The device's OS family: when a rebooting device is first looked at (lib/domain/run/steps.ts). */
  os?: OsFamily;
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
  return withGateStep(
    plan(state, { stage: "pre", events: event(state, now, "phase.started", PHASES.baseline) }, stages),
  );
}

/** After the install (or instead of it): reboot per policy, or straight to the post phases. */
function planReboot(
  state: DeviceRunState,
  now: Date,
  stages: StageTable,
  required: boolean,
  record: PlanRecord[] = [],
): Plan {
  const { rebootPolicy, maxReboots } = state.policy;
  const reboot: RebootProgress = { ...state.reboot, required };
  const wanted = rebootPolicy === "Always" || (rebootPolicy === "IfRequired" && required);
  if (wanted && maxReboots === 0) {
    // A limit of 0 reboots means none (issue 21): a required reboot stays pending (150, with this reason).
    const reason = "the policy's maxReboots is 0: no reboot may be requested";
    const outcome = required ? "NotAllowed" : "NotRequired";
    return plan(
      state,
      {
        stage: "post",
        reboot: { ...reboot, outcome, reason, decidedBy: "policy" },
        events: event(state, now, "reboot.decided", PHASES.reboot, { policy: rebootPolicy, required, outcome, reason }),
      },
      stages,
      record,
    );
  }
  if (wanted) {
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

/**
 * The agent is known gone (a reboot or a reconnect wait ran out with it still away): end the run now instead of
 * sending the next stage's commands to a dead machine and waiting for each to time out. Every device phase the
 * plan would have run gets a failure record saying why; a reboot it would have requested is recorded as Failed.
 */
function endAgentGone(next: Plan, agentStatus: AgentStatus, reason: string, now: Date, stages: StageTable): Plan {
  if (agentStatus === "Connected" || next.state.stage === "done") return next;
  const stepsLeft = [...stages[next.state.stage].steps, ...(next.state.stage === "post" ? [] : stages.post.steps)];
  const phases = [
    ...new Set(
      stepsLeft.flatMap((step) =>
        Object.prototype.hasOwnProperty.call(STEP_PLANS, step)
          ? [STEP_PLANS[step as keyof typeof STEP_PLANS].phase]
          : [],
      ),
    ),
  ].filter((phase) => phase !== "reboot");
  const reboot =
    next.state.stage === "reboot"
      ? { ...next.state.reboot, outcome: "Failed" as const, reason, decidedBy: "agent-status" as const }
      : next.state.reboot;
  return {
    state: {
      ...next.state,
      stage: "done",
      reboot,
      events: event(next.state, now, "run.stopped", PHASES[next.state.stage === "post" ? "postSnapshot" : "reboot"], {
        reason,
      }),
    },
    submit: [],
    record: [
      ...next.record,
      ...phases.map((phase) => ({
        kind: "phase-failed" as const,
        phase,
        reason,
        failureKind: "AgentDisconnected" as const,
      })),
    ],
  };
}

/** Waits for a requested reboot to finish, or gives up after the policy's timeout. */
function planRebootWait(state: DeviceRunState, now: Date, stages: StageTable, agentStatus: AgentStatus): Plan {
  if (state.reboot.stableCheckAt !== undefined) return planStableCheck(state, now, stages, agentStatus);
  const requestedAt = new Date(state.reboot.requestedAt ?? iso(now));
  const waitedMs = now.getTime() - requestedAt.getTime();
  const downAt = requestedAt.getTime() + (state.reboot.delaySeconds ?? 0) * 1000;
  if (agentStatus === "Connected" && now.getTime() > downAt) {
    // Connected alone proves nothing (it may not have gone down yet): the boot probe reads the boot time.
    return plan(state, { stage: "bootProbe" }, stages);
  }
  if (waitedMs >= state.policy.rebootTimeoutMinutes * 60_000) {
    const waitedMinutes = Math.floor(waitedMs / 60_000);
    const gone = `agent ${agentStatus} ${waitedMinutes} min after the reboot request: the post phases were not sent`;
    const timedOut = plan(
      state,
      {
        stage: "post",
        reboot: { ...state.reboot, outcome: "TimedOut", decidedBy: "agent-status" },
        events: event(state, now, "reboot.timed-out", PHASES.reboot, { waitedMinutes }),
      },
      stages,
    );
    return endAgentGone(timedOut, agentStatus, gone, now, stages);
  }
  return plan(state, { stage: "rebootWait", nextCheckAt: after(now, AGENT_CHECK_SECONDS) }, stages);
}

/**
 * The stability check after clean POST phases (issue 21): once the device has been up POST_REBOOT_SETTLE_SECONDS
 * since the proven boot, probe its boot time again (the boot probe decides). An agent away at that time waits, as a
 * reboot does, up to the policy's reboot timeout: then the device did not hold the boot (RebootLoopGuard).
 */
function planStableCheck(state: DeviceRunState, now: Date, stages: StageTable, agentStatus: AgentStatus): Plan {
  if (agentStatus === "Connected") return plan(state, { stage: "bootProbe" }, stages);
  const since = Date.parse(state.reboot.stableCheckAt ?? iso(now));
  if (now.getTime() - since >= state.policy.rebootTimeoutMinutes * 60_000) {
    const reason = `agent ${agentStatus} since the stability check after the proven boot`;
    return plan(
      state,
      {
        stage: "done",
        reboot: {
          ...state.reboot,
          stableCheckAt: undefined,
          outcome: "RebootLoopGuard",
          reason,
          decidedBy: "agent-status",
        },
        events: event(state, now, "reboot.unstable", PHASES.reboot, { reason }),
      },
      stages,
    );
  }
  return plan(state, { stage: "rebootWait", nextCheckAt: after(now, AGENT_CHECK_SECONDS) }, stages);
}

/** The stability probe ended: the same boot time → stable (done); a later one → the device rebooted again (loop). */
function afterStableProbe(
  state: DeviceRunState,
  outcome: Extract<StageOutcome, { stage: "bootProbe" }>,
  now: Date,
  stages: StageTable,
): Plan {
  const proven = state.reboot.bootTimeAfter;
  const reboot = { ...state.reboot, stableCheckAt: undefined };
  if (
    outcome.lastBootTime !== undefined &&
    proven !== undefined &&
    Date.parse(outcome.lastBootTime) > Date.parse(proven)
  ) {
    return plan(
      state,
      {
        stage: "done",
        reboot: { ...reboot, count: reboot.count + 1, outcome: "RebootLoopGuard", decidedBy: "boot-probe" },
        events: event(state, now, "reboot.unexpected", PHASES.reboot, {
          bootTimeAfter: proven,
          lastBootTime: outcome.lastBootTime,
        }),
      },
      stages,
    );
  }
  // The same boot (or an unreadable probe: the post snapshot already showed the proven boot) holds.
  return plan(
    state,
    { stage: "done", reboot, events: event(state, now, "reboot.stable", PHASES.reboot, { bootTimeAfter: proven }) },
    stages,
  );
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
  if (outcome.foreignInstall?.busy === true) {
    // Two patch processes on one device at once is the seed's 170: nothing was changed, the next window retries.
    const reason = `another install is in progress (${outcome.foreignInstall.by ?? "unnamed"}): nothing was changed`;
    return plan(
      state,
      {
        stage: "done",
        events: event(state, now, "run.stopped", PHASES.baseline, { reason, foreignInstall: outcome.foreignInstall }),
      },
      stages,
    );
  }
  const gated = gateStop(state, outcome.gates);
  if (gated !== undefined)
    return plan(
      state,
      { stage: "done", events: event(state, now, "run.stopped", PHASES.preValidation, gated) },
      stages,
    );
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

/**
 * Issue 21: a retry or a reconcile of the install passes the same rule as the first attempt (the window must still
 * have the policy's install estimate left); undefined when it may go on, else why it may not.
 */
function retryRefused(state: DeviceRunState, ctx: PlanContext, now: Date): string | undefined {
  if (ctx.windowEnd === undefined) return undefined;
  const budget = decideInstallBudget(now, ctx.windowEnd, state.policy.maxInstallMinutes);
  return budget.allowed
    ? undefined
    : `only ${budget.minutesLeft} min left in the window, install estimate ${budget.minutesNeeded} min`;
}

/** The install ended: its document decides the reboot; no document means the agent dropped mid-install. */
function afterInstall(
  state: DeviceRunState,
  outcome: Extract<StageOutcome, { stage: "install" }>,
  ctx: PlanContext,
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
  const refused = retryRefused(state, ctx, now);
  if (refused !== undefined) return installGivenUp(state, now, stages, notRetried(state, refused), "Timeout");
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

const notRetried = (state: DeviceRunState, why: string): string =>
  `install attempt ${state.installAttempt} produced no result; not retried: ${why}`;

/** The install is given up: recorded as the install phase's failure, then the reboot decision as after any install. */
function installGivenUp(
  state: DeviceRunState,
  now: Date,
  stages: StageTable,
  reason: string,
  failureKind: "Timeout" | "AgentDisconnected",
): Plan {
  return planReboot(
    { ...state, events: event(state, now, "phase.failed", PHASES.install, { reason }) },
    now,
    stages,
    false,
    [{ kind: "install-failed", reason, failureKind }],
  );
}

/** Waiting for the agent after an interrupted install: install again once it is back, or give up. */
function afterInstallReconnect(
  state: DeviceRunState,
  outcome: { agentStatus: AgentStatus },
  ctx: PlanContext,
  now: Date,
  stages: StageTable,
): Plan {
  // Waiting is only worth it while an install could still start inside the window.
  const refused = retryRefused(state, ctx, now);
  if (refused !== undefined) {
    const kind = outcome.agentStatus === "Connected" ? "Timeout" : "AgentDisconnected";
    const why = outcome.agentStatus === "Connected" ? refused : `agent ${outcome.agentStatus}, ${refused}`;
    const reason = notRetried(state, why);
    return endAgentGone(
      installGivenUp(state, now, stages, reason, kind),
      outcome.agentStatus,
      `${reason}: the later phases were not sent`,
      now,
      stages,
    );
  }
  if (outcome.agentStatus === "Connected")
    return plan(state, { stage: "install", installAttempt: state.installAttempt + 1 }, stages);
  const since = new Date(state.waitingSince ?? iso(now));
  if (now.getTime() - since.getTime() >= state.policy.rebootTimeoutMinutes * 60_000) {
    const reason = `agent ${outcome.agentStatus} for ${state.policy.rebootTimeoutMinutes} min after the install was interrupted`;
    const gaveUp = planReboot(
      { ...state, events: event(state, now, "phase.failed", PHASES.install, { reason }) },
      now,
      stages,
      false,
      [{ kind: "install-failed", reason, failureKind: "AgentDisconnected" }],
    );
    return endAgentGone(gaveUp, outcome.agentStatus, `${reason}: the later phases were not sent`, now, stages);
  }
  return plan(state, { stage: "installReconnect", nextCheckAt: after(now, AGENT_CHECK_SECONDS) }, stages);
}

/** The reboot script ended: wait for the device to go down and come back, or record that it did not schedule. */
function afterReboot(
  state: DeviceRunState,
  outcome: Extract<StageOutcome, { stage: "reboot" }>,
  now: Date,
  stages: StageTable,
  os: OsFamily | undefined,
  reason?: string,
): Plan {
  if (outcome.answered === false) {
    // An unreadable answer is not a refusal (issue 21): the script may have scheduled the reboot all the same.
    // Wait for a boot time after the command was sent, as for any reboot; the boot probe or the timeout decides.
    const sentAt = outcome.sentAt ?? state.commands.find((c) => c.step === "reboot")?.submittedAt ?? iso(now);
    return afterReboot(
      state,
      { stage: "reboot", scheduled: true, scheduledAt: sentAt, delaySeconds: REBOOT_DELAY_SECONDS },
      now,
      stages,
      os,
      "the reboot script's answer was unreadable: waiting for a boot time after the command was sent",
    );
  }
  if (!outcome.scheduled || outcome.scheduledAt === undefined) {
    return plan(
      state,
      {
        stage: "post",
        reboot: { ...state.reboot, outcome: "Failed", decidedBy: "reboot-answer" },
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
    reason,
    decidedBy: undefined,
  };
  const firstCheck = new Date(
    Date.parse(outcome.scheduledAt) + (outcome.delaySeconds + firstRebootCheckSeconds(os)) * 1000,
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
  if (state.reboot.stableCheckAt !== undefined) return afterStableProbe(state, outcome, now, stages);
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
        reboot: { ...rebooted, outcome: "RebootLoopGuard", decidedBy: "boot-probe" },
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
      reboot: { ...rebooted, outcome: "Completed", decidedBy: "boot-probe" },
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
      reboot: {
        ...state.reboot,
        count: state.reboot.count + 1,
        outcome: "RebootLoopGuard",
        decidedBy: "post-snapshot",
      },
      events: event(next, now, "reboot.unexpected", PHASES.postSnapshot, {
        bootTimeAfter,
        lastBootTime: outcome.lastBootTime,
      }),
    };
  }
  const completed = {
    ...next,
    events: event(next, now, "phase.completed", PHASES.postValidation, { regressions: outcome.regressions }),
  };
  const provenBoot = next.reboot.outcome === "Completed" ? next.reboot.bootTimeAfter : undefined;
  const stableAt = provenBoot === undefined ? undefined : Date.parse(provenBoot) + POST_REBOOT_SETTLE_SECONDS * 1000;
  if (outcome.regressions === 0 && stableAt !== undefined && outcome.stableProbe !== undefined) {
    // The stability probe already ran on the device, after its uptime reached the settle time (issue 22): decided
    // as a probe of its own. When it read nothing (the command died with the device during the wait, or the output
    // was unusable), fall back to a separate look once the device can have settled, so a loop is never missed.
    const { lastBootTime } = outcome.stableProbe;
    if (lastBootTime !== undefined)
      return afterStableProbe(completed, { stage: "bootProbe", lastBootTime }, now, stages);
    const checkAt = iso(new Date(Math.max(stableAt, now.getTime())));
    return plan(
      completed,
      { stage: "rebootWait", reboot: { ...next.reboot, stableCheckAt: checkAt }, nextCheckAt: checkAt },
      stages,
    );
  }
  if (outcome.regressions === 0 && stableAt !== undefined && now.getTime() < stableAt) {
    // Clean so far, but the device has not been up long enough to call the boot stable: look again then (a loop
    // shows as a later boot time). A regression skips this: 220 outranks any 150 a loop could add.
    return plan(
      completed,
      {
        stage: "rebootWait",
        reboot: { ...next.reboot, stableCheckAt: iso(new Date(stableAt)) },
        nextCheckAt: iso(new Date(stableAt)),
      },
      stages,
    );
  }
  return plan(completed, { stage: "done" }, stages);
}

/** What the reboot section at the end of an install's command said (issue 22, lib/deviceRun/rebootWithInstall.ts). */
export type FoldedReboot =
  /** It scheduled the restart. */
  | { kind: "scheduled"; scheduledAt: string; delaySeconds: number; bootTimeBefore: string }
  /** It found no "reboot required" marker from the install: nothing scheduled, not a failure. */
  | { kind: "notRequested" }
  /** It was asked to restart but could not schedule it (its errors say why). */
  | { kind: "notScheduled" }
  /** Its output was unusable: it may have scheduled the restart all the same. */
  | { kind: "unreadable"; sentAt: string }
  /** It never began (the command ended before it). */
  | { kind: "notRun" };

/**
 * The plan once the install's section was decided (`decided`, from planNext) and the reboot section of the same
 * command is known (issue 22). `used` says whether the reboot section was taken as the reboot's evidence.
 * - The reboot was decided and the section scheduled it: decided as a collected reboot command (same outcome, same
 *   times), so the run goes on to the agent check at once when it is due.
 * - Decided, and the section's answer is unreadable: as an unreadable reboot answer (a boot time after the command
 *   was sent proves it; the timeout bounds the wait).
 * - Decided, but the section did not schedule (no marker, could not, never began): the reboot goes as its own
 *   command, as before the fold (`decided` unchanged).
 * - Not decided, but the section restarted the device (the install's document was unusable, so no decision could
 *   read it): the device is going down all the same. Waiting for the agent after an interrupted install: the first
 *   look moves past the restart. Entering the post stage: the run waits for the restart and proves it with the boot
 *   probe first (reason says it was not planned), so no post phase runs against a device about to go down.
 */
export function planFoldedReboot(
  decided: Plan,
  section: FoldedReboot,
  ctx: PlanContext,
): { plan: Plan; used: boolean } {
  const { now } = ctx;
  const stages = ctx.stages ?? STAGES;
  const state = decided.state;
  if (state.stage === "reboot" && decided.submit.length === 1 && decided.submit[0] === "reboot") {
    if (section.kind === "scheduled") {
      const { scheduledAt, delaySeconds, bootTimeBefore } = section;
      const outcome = { stage: "reboot" as const, scheduled: true, scheduledAt, delaySeconds, bootTimeBefore };
      return { plan: keeping(decided, afterReboot(state, outcome, now, stages, ctx.os)), used: true };
    }
    if (section.kind === "unreadable") {
      const outcome = { stage: "reboot" as const, scheduled: false, delaySeconds: 0, answered: false };
      const read = afterReboot(state, { ...outcome, sentAt: section.sentAt }, now, stages, ctx.os);
      return { plan: keeping(decided, read), used: true };
    }
    return { plan: decided, used: false };
  }
  if (section.kind !== "scheduled") return { plan: decided, used: false };
  const { scheduledAt, delaySeconds } = section;
  const unplanned = {
    ...state,
    events: event(state, now, "reboot.unplanned", PHASES.reboot, {
      at: scheduledAt,
      delaySeconds,
      decided: state.stage,
      reason: "the reboot section of the install's command restarted the device without a reboot decision",
    }),
  };
  if (state.stage === "installReconnect") {
    const back = Date.parse(scheduledAt) + (delaySeconds + firstRebootCheckSeconds(ctx.os)) * 1000;
    const nextCheckAt = iso(new Date(Math.max(Date.parse(state.nextCheckAt), back)));
    return { plan: { ...decided, state: { ...unplanned, nextCheckAt } }, used: true };
  }
  if (state.stage !== "post") return { plan: decided, used: false };
  const reason = `the install's command restarted the device although the reboot decision was ${state.reboot.outcome ?? "none"}`;
  const outcome = { stage: "reboot" as const, scheduled: true, scheduledAt, delaySeconds };
  const followed = afterReboot(
    { ...unplanned, stage: "reboot", reboot: { ...state.reboot, outcome: undefined, decidedBy: undefined } },
    outcome,
    now,
    stages,
    ctx.os,
    reason,
  );
  return { plan: keeping(decided, followed), used: true };
}

/** A plan decided on top of another in the same call: what the first must record is still recorded. */
function keeping(first: Plan, second: Plan): Plan {
  return { ...second, record: [...first.record, ...second.record] };
}

/** Decides the next step after a stage ended. Pure: same state, outcome and context, same plan. */
export function planNext(state: DeviceRunState, outcome: StageOutcome, ctx: PlanContext): Plan {
  return withLoadBalancer(state, withHookSteps(withSnapshotStage(planStage(state, outcome, ctx), ctx.now)), ctx.now);
}

function planStage(state: DeviceRunState, outcome: StageOutcome, ctx: PlanContext): Plan {
  const { now } = ctx;
  const stages = ctx.stages ?? STAGES;
  switch (outcome.stage) {
    case "pre":
      return afterPre(state, outcome, now, stages);
    case "catalog":
      return afterCatalog(state, outcome, ctx, now, stages);
    case "install":
      return afterInstall(state, outcome, ctx, now, stages);
    case "installReconnect":
      return afterInstallReconnect(state, outcome, ctx, now, stages);
    case "reboot":
      return afterReboot(state, outcome, now, stages, ctx.os);
    case "rebootWait":
      return planRebootWait(state, now, stages, outcome.agentStatus);
    case "bootProbe":
      return afterBootProbe(state, outcome, now, stages);
    case "post":
      return remediateAfterPost(afterPost(state, outcome, now, stages), outcome, now, stages);
    case "remediate":
      return afterRemediate(state, outcome, now, stages);
    case "revalidate":
      return afterRevalidate(state, outcome, now);
    case "snapshot":
      return afterSnapshot(state, outcome, now, stages);
    case "restore":
      return afterRestore(state, outcome, now);
    case "restoreWait":
      return afterRestoreWait(state, outcome, now, stages);
  }
}
