import type { DeviceRunState } from "../../schemas/deviceRun";
import type { RemediationMode } from "../../schemas/remediationPolicy";
import { PHASES } from "../artifacts";
import type { StageTable } from "./steps";
import type { AgentStatus } from "../../schemas/target";
import { armStage } from "../snapshots/planSnapshots";

/** What the planner learns when the uninstall step ended (a StageOutcome of lib/domain/run/planDeviceRun.ts). */
export interface RemediateOutcome {
  stage: "remediate";
  /** False when the uninstall script gave no usable answer. */
  answered: boolean;
  removed: number;
  notRemoved: number;
  rebootRequired: boolean;
}

/** What the planner learns when the POST validation ran again (a StageOutcome). */
export interface RevalidateOutcome {
  stage: "revalidate";
  /** Absent when the validation gave no usable answer. */
  regressionsAfter?: number;
}

/** The remediation's PlanRecord: the engine writes `12-remediation/remediation.json` from the evidence, then quarantines. */
export interface RemediationPlanRecord {
  kind: "remediation";
  mode: RemediationMode;
  reason: string;
  regressionsBefore: number;
  notPossible?: string;
}

/** A plan as lib/domain/run/planDeviceRun.ts's Plan, with the records this file makes. */
export interface RemediationPlan {
  state: DeviceRunState;
  submit: string[];
  record: RemediationPlanRecord[];
}

// Remediation of a regression (issue 20), the planner's half: after POST phases that found a regression, the policy's
// remediation decides whether the run removes what it installed (stage `remediate`, the uninstall step) and validates
// again (stage `revalidate`), or records why it cannot. The run's exit code stays 220 either way (the regression
// happened); the engine writes `12-remediation/remediation.json` for the PlanRecord below and quarantines the updates
// it names (lib/deviceRun/remediation).

const iso = (d: Date): string => d.toISOString();
const after = (d: Date, seconds: number): string => new Date(d.getTime() + seconds * 1000).toISOString();

/** The OS-disk swap ended (deallocate, disk from the snapshot, swap, start). */
export interface RestoreOutcome {
  stage: "restore";
  ok: boolean;
  error?: string;
}

/** Waiting for the VM agent after the restored VM was started. */
export interface RestoreWaitOutcome {
  stage: "restoreWait";
  agentStatus: AgentStatus;
}

/** Agent checks after the restored VM was started (an ARM read). */
const RESTORE_AGENT_CHECK_SECONDS = 60;

export function withEvent(
  state: DeviceRunState,
  now: Date,
  type: string,
  data: Record<string, unknown>,
): DeviceRunState {
  return { ...state, events: [...state.events, { at: iso(now), type, phase: PHASES.remediation, data }] };
}

export function enter(state: DeviceRunState, stage: "remediate" | "revalidate", stages: StageTable): RemediationPlan {
  const next = { ...state, stage, commands: [], pollAttempt: 0, lastPollAt: undefined };
  return { state: next, submit: [...stages[stage].steps], record: [] };
}

/** Ends the run with the remediation recorded (the engine reads the evidence and writes remediation.json). */
export function finish(
  state: DeviceRunState,
  now: Date,
  regressionsBefore: number,
  notPossible?: string,
): RemediationPlan {
  const mode = state.policy.remediation ?? "none";
  const done = withEvent(state, now, "remediation.finished", {
    mode,
    ...(notPossible === undefined ? {} : { notPossible }),
  });
  return {
    state: { ...done, stage: "done", commands: [], pollAttempt: 0, lastPollAt: undefined, remediation: undefined },
    submit: [],
    record: [
      {
        kind: "remediation",
        mode,
        reason: notPossible ?? "the remediation ran to the end",
        regressionsBefore,
        ...(notPossible === undefined ? {} : { notPossible }),
      },
    ],
  };
}

/**
 * After the POST phases: a regression under a remediation policy starts the remediation instead of ending the run.
 * `planned` is what the run would do without remediation (it ends: a regression skips the stability check).
 */
export function remediateAfterPost<P extends { state: DeviceRunState }>(
  planned: P,
  outcome: { regressions: number; removable?: number },
  now: Date,
  stages: StageTable,
): P | RemediationPlan {
  const mode = planned.state.policy.remediation;
  if (mode === undefined || mode === "none" || outcome.regressions === 0 || planned.state.stage !== "done")
    return planned;
  const state = withEvent(planned.state, now, "remediation.started", { mode, regressions: outcome.regressions });
  if (mode === "restoreSnapshot") return restoreAfterPost(state, outcome.regressions, now);
  const removable = outcome.removable ?? 0;
  if (removable === 0) {
    return finish(
      state,
      now,
      outcome.regressions,
      planned.state.counts.installed === 0
        ? "this run installed nothing, so nothing can be uninstalled"
        : "none of the updates this run installed may be uninstalled (see notRequested)",
    );
  }
  return enter({ ...state, remediation: { regressionsBefore: outcome.regressions } }, "remediate", stages);
}

/** The uninstall step ended: validate again when anything was removed, else record why nothing was. */
export function afterRemediate(
  state: DeviceRunState,
  outcome: RemediateOutcome,
  now: Date,
  stages: StageTable,
): RemediationPlan {
  const before = state.remediation?.regressionsBefore ?? state.counts.regressions;
  if (!outcome.answered) return finish(state, now, before, "the uninstall script produced no usable answer");
  const data = { removed: outcome.removed, notRemoved: outcome.notRemoved, rebootRequired: outcome.rebootRequired };
  const next = withEvent(state, now, "remediation.uninstalled", data);
  if (outcome.removed === 0) return finish(next, now, before, "the device removed none of the requested updates");
  return enter(next, "revalidate", stages);
}

/** The POST validation ran again: the run ends, the engine records whether it recovered. */
export function afterRevalidate(state: DeviceRunState, outcome: RevalidateOutcome, now: Date): RemediationPlan {
  const before = state.remediation?.regressionsBefore ?? state.counts.regressions;
  if (outcome.regressionsAfter === undefined)
    return finish(state, now, before, "the POST validation after the remediation produced no usable answer");
  return finish(
    withEvent(state, now, "remediation.revalidated", { regressions: outcome.regressionsAfter }),
    now,
    before,
  );
}

/**
 * A confirmed regression under `remediation.mode: restoreSnapshot`: restore the OS disk from this run's pre-install
 * snapshot, or record why that is not possible (no snapshot taken, or the device cannot swap its OS disk).
 */
export function restoreAfterPost(state: DeviceRunState, regressions: number, now: Date): RemediationPlan {
  const snapshots = state.diskSnapshots;
  if (snapshots?.taken !== true || snapshots.osSnapshotId === undefined)
    return finish(
      state,
      now,
      regressions,
      state.policy.snapshots === true
        ? "no pre-install snapshot of this device to restore from (this run took none)"
        : "no pre-install snapshot of this device to restore from (the policy's snapshots.mode is not beforeInstall)",
    );
  if (snapshots.notRestorable !== undefined) return finish(state, now, regressions, snapshots.notRestorable);
  const started = { ...state, remediation: { regressionsBefore: regressions } };
  return armStage({ state: started, submit: [], record: [] }, started, "restore", now);
}

/** The OS-disk swap ended: wait for the agent of the restarted VM, or record why nothing was restored. */
export function afterRestore(state: DeviceRunState, outcome: RestoreOutcome, now: Date): RemediationPlan {
  const before = state.remediation?.regressionsBefore ?? state.counts.regressions;
  if (!outcome.ok)
    return finish(state, now, before, `the OS-disk restore failed: ${outcome.error ?? "no reason given"}`);
  const next = withEvent(state, now, "remediation.restored", {});
  return {
    state: {
      ...next,
      stage: "restoreWait",
      waitingSince: iso(now),
      nextCheckAt: after(now, RESTORE_AGENT_CHECK_SECONDS),
      commands: [],
      pollAttempt: 0,
      lastPollAt: undefined,
    },
    submit: [],
    record: [],
  };
}

/** After the restored VM was started: validate again once its agent is back; give up after rebootTimeoutMinutes. */
export function afterRestoreWait(
  state: DeviceRunState,
  outcome: RestoreWaitOutcome,
  now: Date,
  stages: StageTable,
): RemediationPlan {
  const before = state.remediation?.regressionsBefore ?? state.counts.regressions;
  if (outcome.agentStatus === "Connected") return enter({ ...state, waitingSince: undefined }, "revalidate", stages);
  const since = Date.parse(state.waitingSince ?? iso(now));
  if (now.getTime() - since >= state.policy.rebootTimeoutMinutes * 60_000)
    return finish(
      state,
      now,
      before,
      `the VM agent was ${outcome.agentStatus} ${state.policy.rebootTimeoutMinutes} min after the restored VM was started: the POST validation could not run again`,
    );
  return {
    state: { ...state, stage: "restoreWait", nextCheckAt: after(now, RESTORE_AGENT_CHECK_SECONDS) },
    submit: [],
    record: [],
  };
}
