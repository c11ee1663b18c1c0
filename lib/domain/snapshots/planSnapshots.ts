import type { DeviceRunState } from "../../schemas/deviceRun";
import { PHASES } from "../artifacts";
import type { StageTable } from "../run/steps";

// Snapshots before install and the restoreSnapshot remediation (issue 20), the planner's half. Both are ARM-side
// actions of the advance activity, not run commands: the stages below submit no step; the engine
// (lib/deviceRun/snapshots/armStages.ts) carries out the stage's action when the run stands in it and reports its
// outcome here. The run enters them with `nextCheckAt` = now, so the same activity call goes on at once.

/** The snapshot stage ended: taken (with the OS disk's snapshot), or not (nothing is installed). */
export interface SnapshotOutcome {
  stage: "snapshot";
  ok: boolean;
  osSnapshotId?: string;
  /** Why a restore could not use these snapshots (a Uniform scale-set instance). */
  notRestorable?: string;
  error?: string;
}

const iso = (d: Date): string => d.toISOString();

/** Plans an ARM-side stage: no step to submit, looked at again at once. */
export function armStage<P extends { state: DeviceRunState; submit: string[] }>(
  plan: P,
  state: DeviceRunState,
  stage: "snapshot" | "restore",
  now: Date,
): P {
  return {
    ...plan,
    state: { ...state, stage, commands: [], pollAttempt: 0, lastPollAt: undefined, nextCheckAt: iso(now) },
    submit: [],
  };
}

/**
 * The first install of a run whose policy takes snapshots goes through the `snapshot` stage first: the plan that
 * would submit the install enters `snapshot` instead (after the catalog decided there is something to install).
 * An install retried after a reconnect does not snapshot again (the run's snapshots are already taken).
 */
export function withSnapshotStage<P extends { state: DeviceRunState; submit: string[] }>(plan: P, now: Date): P {
  const { state } = plan;
  if (state.stage !== "install" || state.policy.snapshots !== true || state.diskSnapshots !== undefined) return plan;
  return armStage(plan, state, "snapshot", now);
}

/** The snapshots were taken: install (the steps the install stage submits); or stop before any change. */
export function afterSnapshot(
  state: DeviceRunState,
  outcome: SnapshotOutcome,
  now: Date,
  stages: StageTable,
): { state: DeviceRunState; submit: string[]; record: [] } {
  const base = { ...state, commands: [], pollAttempt: 0, lastPollAt: undefined };
  if (!outcome.ok) {
    // The policy requires a snapshot before any change: without one nothing is installed (exit 170
    // `170.snapshot-failed`, read from 05-install/snapshots.json).
    const reason = `no pre-install snapshot: ${outcome.error ?? "not taken"}; nothing was installed`;
    return {
      state: {
        ...base,
        stage: "done",
        diskSnapshots: { taken: false },
        events: [...state.events, { at: iso(now), type: "run.stopped", phase: PHASES.install, data: { reason } }],
      },
      submit: [],
      record: [],
    };
  }
  return {
    state: {
      ...base,
      stage: "install",
      installAttempt: 1,
      diskSnapshots: {
        taken: true,
        ...(outcome.osSnapshotId === undefined ? {} : { osSnapshotId: outcome.osSnapshotId }),
        ...(outcome.notRestorable === undefined ? {} : { notRestorable: outcome.notRestorable }),
      },
      events: [
        ...state.events,
        {
          at: iso(now),
          type: "snapshots.taken",
          phase: PHASES.install,
          data: outcome.osSnapshotId === undefined ? {} : { osSnapshotId: outcome.osSnapshotId },
        },
      ],
    },
    submit: [...stages.install.steps],
    record: [],
  };
}
