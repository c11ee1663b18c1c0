import type { InstallInProgress } from "../../schemas/artifacts/snapshot";
import type { OsFamily } from "../../schemas/common";
import type { ScriptId } from "../../schemas/device/envelope";
import type { DeviceRunPolicy, DeviceRunStage } from "../../schemas/deviceRun";
import type { ArtifactKey, PhaseKey } from "../artifacts";

// The device run's vocabulary, used in code, evidence and docs alike:
// - a **step** runs one device script once and files what it produced under one phase folder (baseline, bootProbe);
// - its **phase** is that folder (`02-baseline`, the seed's numbered names, stable in evidence paths);
// - its **script** is the device program it sends (lib/device/{windows,linux}/<script>.{ps1,sh});
// - a **stage** is where the run stands: the steps in flight together, or a wait for the agent.
// This file is the pure half of the step table (the planner and the poll schedule read it); lib/deviceRun/steps.ts
// adds, per step, the script parameters and how the output is recorded.

/** What a step's timing may depend on (all known before the command is submitted). */
export interface TimingInputs {
  /** The script's own upper bound (lib/device/registry.ts). */
  scriptTimeoutSeconds: number;
  policy: DeviceRunPolicy;
  /** settle × attempts of the slowest validate check of the effective policy. */
  slowestCheckSeconds: number;
  /** The install's first-look estimate from the approved updates' sizes. */
  installEstimateSeconds: number;
  /** The device's OS family (a restart's typical duration depends on it); absent: the shortest estimate. */
  os?: OsFamily;
  /**
   * Issue 22: the install will likely restart the device (the policy reboots always, or an approved update may ask
   * for a restart: its catalog `rebootBehavior` is not NeverReboots). Read only by steps with `readsCatalog`.
   */
  rebootLikely?: boolean;
}

/** When a step's run command is looked at: first after its typical duration, then backing off, until its deadline. */
export interface StepTiming {
  /** Run Command timeoutInSeconds. */
  timeoutSeconds(t: TimingInputs): number;
  /** Typical duration: the first poll is due then (lib/domain/run/pollSchedule.ts). */
  firstPollSeconds(t: TimingInputs): number;
  /** True when the timing reads `installEstimateSeconds` (the catalog must be stored before the step is submitted). */
  readsCatalog?: boolean;
}

/** Later polls back off exponentially to at most this interval. */
export const MAX_POLL_INTERVAL_SECONDS = 300;
/** After the command's own timeout, how long ARM gets to report a terminal state before PatchPilot cancels it. */
export const POLL_GRACE_SECONDS = 120;

/**
 * How long a device must stay up after the proven reboot to be called stable (issue 21: no longer a wait before the
 * POST checks, which start as soon as the boot is proven and retry per check's `attempts` × `settleSeconds` until
 * stable). When the POST phases end sooner and found no regression, the planner looks at the device again at
 * boot + this, so a reboot loop stays visible; a confirmed regression (220) ends the run at once.
 */
export const POST_REBOOT_SETTLE_SECONDS = 300;
/** The boot probe's first look: the baseline script typically ends within this. */
const BOOT_PROBE_FIRST_POLL_SECONDS = 30;
/** Reboot delay passed to the reboot script: long enough for Run Command to upload its document first. */
export const REBOOT_DELAY_SECONDS = 60;
/** The reboot script's own seconds (it schedules the restart and prints its document). */
const REBOOT_SCRIPT_SECONDS = 5;
/** First look at a rebooting device, after the reboot's delay: a restart rarely takes less. */
export const FIRST_REBOOT_CHECK_SECONDS = 90;
/**
 * The same per OS family (issue 22: every agent check that finds the device still away costs eight history events).
 * Windows applies its updates while it restarts (minutes with a servicing-stack or cumulative update) and its agent
 * reports up to half a minute after the boot (2.5 min + 30 s); a Linux restart takes seconds, so its first look stays
 * early. The reboot command's own first poll comes 30 s after this look, so the script's own seconds are covered.
 */
export const FIRST_REBOOT_CHECK_SECONDS_BY_OS: Readonly<Record<OsFamily, number>> = { windows: 180, linux: 90 };

/**
 * How long a restart typically takes from shutdown to boot, per OS family: the first reboot check less the agent's
 * reconnect (about 30 s after the boot). Used to estimate how long a device has been up when its boot probe goes.
 */
export const TYPICAL_RESTART_SECONDS_BY_OS: Readonly<Record<OsFamily, number>> = { windows: 150, linux: 60 };

/**
 * How long the device has likely been up at `now` after the run's reboot (issue 22: the stability probe's settle
 * wait ends POST_REBOOT_SETTLE_SECONDS after the boot, so the command's first look allows for the part still to
 * wait). From the reboot's shutdown (request + delay) plus the OS family's typical restart; 0 when unknown, so the
 * first look is never before the wait can have ended on a device whose restart was typical or faster.
 */
export function estimatedUptimeSeconds(
  reboot: { requestedAt?: string; delaySeconds?: number },
  now: Date,
  os: OsFamily | undefined,
): number {
  if (reboot.requestedAt === undefined) return 0;
  const restart =
    os === undefined ? Math.max(...Object.values(TYPICAL_RESTART_SECONDS_BY_OS)) : TYPICAL_RESTART_SECONDS_BY_OS[os];
  const bootAt = Date.parse(reboot.requestedAt) + ((reboot.delaySeconds ?? 0) + restart) * 1000;
  return Math.max(0, Math.floor((now.getTime() - bootAt) / 1000));
}

/** When to first look at a rebooting device of this OS family, after the reboot's delay (unknown: the shortest). */
export function firstRebootCheckSeconds(os: OsFamily | undefined): number {
  return os === undefined ? FIRST_REBOOT_CHECK_SECONDS : FIRST_REBOOT_CHECK_SECONDS_BY_OS[os];
}

/** One row of the step table, the part the pure planner and the poll schedule need. */
export interface StepPlan {
  /** The phase folder its transcripts, artifacts and failure record go under. */
  phase: PhaseKey;
  /** The device script it runs (one file per OS). */
  script: ScriptId;
  timing: StepTiming;
  /**
   * True when output it cannot use is recorded at once as `{phase}/failure.json` (naming its transcripts); false when
   * the planner decides what a failure means (install retries, a reboot that did not happen).
   */
  failsPhase: boolean;
  /** The artifacts it stores for the exit-code rules (lib/domain/exitCode reads them back, verified). */
  produces: readonly ArtifactKey[];
  /**
   * In a bundle, the device waits before this step until it has been up this many seconds (lib/device/bundle.ts);
   * the bundle's first look then allows for the whole wait.
   */
  settleUptimeSeconds?: number;
  /**
   * In a bundle, this step starts no earlier than the typical durations of the steps before it (lib/device/bundle.ts
   * `startAfterSeconds`): issue 22's reboot after the install restarts the device when the run's first look expects.
   */
  startsAfterEstimate?: boolean;
}

const fromScript = (t: TimingInputs): number => t.scriptTimeoutSeconds;
const fixed =
  (seconds: number) =>
  (_t: TimingInputs): number =>
    seconds;
const afterChecks = (t: TimingInputs): number => 60 + t.slowestCheckSeconds;

/** The device run's steps. Keys are step ids: they name run commands and staging blobs, so they stay stable. */
export const STEP_PLANS = {
  baseline: {
    phase: "baseline",
    script: "baseline",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(30) },
    failsPhase: true,
    produces: ["baseline"],
  },
  preValidation: {
    phase: "preValidation",
    script: "validate",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: afterChecks },
    failsPhase: true,
    produces: ["preValidation"],
  },
  gates: {
    // Pre-patch gates (issue 20): runs the MSP's probes in the read-only first stage, after the baseline (whose
    // disk, pending-reboot and service facts the gates also read). Only when the effective policy has gates. It
    // always stores gates.json (an unusable output is judged "could not look"), so it never fails its phase.
    phase: "preValidation",
    script: "gates",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(30) },
    failsPhase: false,
    produces: ["gates"],
  },
  preInstallHooks: {
    // Hooks that act (issue 20): the pre-install point, in the install's command before the install (only when the
    // policy has one). Always stores its report; never fails the phase (the install's own evidence decides 210).
    phase: "install",
    script: "hooks",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(30) },
    failsPhase: false,
    produces: ["hooksPreInstall"],
  },
  postInstallHooks: {
    // The post-install point (issue 20), last in the install's command (only when the policy has one).
    phase: "install",
    script: "hooks",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(30) },
    failsPhase: false,
    produces: ["hooksPostInstall"],
  },
  postRebootHooks: {
    // The post-reboot point, first in the post stage once the install ran (after the reboot when one was made).
    phase: "postSnapshot",
    script: "hooks",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(30) },
    failsPhase: false,
    produces: ["hooksPostReboot"],
  },
  onFailureHooks: {
    // The on-failure point, in the post stage of a failed run (or the orchestrator's failure path), before `always`.
    phase: "postSnapshot",
    script: "hooks",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(30) },
    failsPhase: false,
    produces: ["hooksOnFailure"],
  },
  alwaysHooks: {
    // The `always` point (restart what pre-install stopped, then the policy's always hooks), first in the post stage.
    phase: "postSnapshot",
    script: "hooks",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(30) },
    failsPhase: false,
    produces: ["hooksAlways"],
  },
  catalog: {
    phase: "catalog",
    script: "catalog",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(120) },
    failsPhase: true,
    produces: ["catalog"],
  },
  install: {
    phase: "install",
    script: "install",
    // The policy's install budget, not the script's generous bound; the first look from the updates' sizes.
    timing: {
      timeoutSeconds: (t) => t.policy.maxInstallMinutes * 60,
      firstPollSeconds: (t) => t.installEstimateSeconds,
      readsCatalog: true,
    },
    failsPhase: false,
    produces: ["installSummary"],
  },
  reboot: {
    phase: "reboot",
    script: "reboot",
    // The planner first looks at the device delay + 90 s after the request; the command's own first poll goes a
    // little later, so collecting it and the first agent check happen in one advance call.
    timing: {
      // Long enough that the first poll (after the delay and the restart) is not cut short by the deadline (timeout
      // + grace): the script itself ends in seconds, so this only bounds a hung command.
      timeoutSeconds: (t) => Math.max(t.scriptTimeoutSeconds, REBOOT_DELAY_SECONDS + firstRebootCheckSeconds(t.os)),
      firstPollSeconds: (t) => 30 + REBOOT_DELAY_SECONDS + firstRebootCheckSeconds(t.os),
    },
    failsPhase: false,
    produces: [],
  },
  rebootAfterInstall: {
    // Issue 22: the reboot folded into the install's command (lib/deviceRun/rebootWithInstall.ts), last in it. The
    // reboot script with the run's "reboot required" marker under IfRequired (it restarts the device only when the
    // install left the marker) or without one under Always. Its transcript goes to 06-reboot, as the reboot's own.
    phase: "reboot",
    script: "reboot",
    timing: {
      // As the reboot's own command: the first look (after the delay and the restart) is not cut short.
      timeoutSeconds: (t) => Math.max(t.scriptTimeoutSeconds, REBOOT_DELAY_SECONDS + firstRebootCheckSeconds(t.os)),
      // When a restart is likely, the command is first looked at once the device can be back: the install's estimate
      // (the section starts no earlier), the script's seconds, the reboot's delay and the OS's typical restart with the
      // agent's return; otherwise right after the script.
      firstPollSeconds: (t) =>
        REBOOT_SCRIPT_SECONDS + (t.rebootLikely === true ? REBOOT_DELAY_SECONDS + firstRebootCheckSeconds(t.os) : 0),
      readsCatalog: true,
    },
    failsPhase: false,
    produces: [],
    // The restart happens when it would have as a command of its own sent at the install's first look, not earlier:
    // the device is back by the run's first look, a reboot loop is seen as before, and a POST regression is found
    // as soon after the boot as before (the install's estimate usually exceeds its duration).
    startsAfterEstimate: true,
  },
  bootProbe: {
    // The baseline script run after a reboot, only to prove the boot time moved: its transcript is reboot evidence.
    phase: "reboot",
    script: "baseline",
    // Collected as soon as it can have finished: the POST checks start as soon as the boot is proven (issue 21).
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(BOOT_PROBE_FIRST_POLL_SECONDS) },
    failsPhase: false,
    produces: [],
  },
  stableProbe: {
    // Issue 22: the stability check after clean POST phases, last in the boot probe's command (after the post steps):
    // the device waits until it has been up POST_REBOOT_SETTLE_SECONDS, then the baseline script reads the boot time
    // again (the same boot: stable; a later one: RebootLoopGuard). Its transcript in 06-reboot is the evidence, as
    // the separate stability probe's was; only sent in that fold (lib/deviceRun/probeWithPost.ts), never alone.
    phase: "reboot",
    script: "baseline",
    timing: {
      timeoutSeconds: (t) => t.scriptTimeoutSeconds + POST_REBOOT_SETTLE_SECONDS,
      firstPollSeconds: fixed(BOOT_PROBE_FIRST_POLL_SECONDS),
    },
    failsPhase: false,
    produces: [],
    settleUptimeSeconds: POST_REBOOT_SETTLE_SECONDS,
  },
  snapshot: {
    phase: "postSnapshot",
    script: "baseline",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(30) },
    failsPhase: true,
    produces: ["snapshot", "baselineDiff"],
  },
  postValidation: {
    phase: "postValidation",
    script: "validate",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: afterChecks },
    failsPhase: true,
    produces: ["postValidation", "regressions"],
  },
  diagnostics: {
    phase: "diagnostics",
    script: "diagnostics",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: fixed(30) },
    failsPhase: true,
    produces: ["diagnostics"],
  },
  uninstall: {
    // Remediation (issue 20): removes what this run installed after a regression. Unusable output is judged by the
    // planner (the remediation record says why nothing was removed), not recorded as a phase failure.
    phase: "remediation",
    script: "uninstall",
    timing: { timeoutSeconds: (t) => t.policy.maxInstallMinutes * 60, firstPollSeconds: fixed(120) },
    failsPhase: false,
    produces: ["uninstall"],
  },
  revalidation: {
    // The POST checks again after the remediation: the same checks, compared with the same PRE validation.
    phase: "remediation",
    script: "validate",
    timing: { timeoutSeconds: fromScript, firstPollSeconds: afterChecks },
    failsPhase: false,
    produces: ["remediationValidation", "remediationRegressions"],
  },
} as const satisfies Record<string, StepPlan>;

/** The device run's step ids: the step table's keys. */
export type StepId = keyof typeof STEP_PLANS;

/** A stage: the steps it submits together when the run enters it, and the phase a give-up is recorded under. */
export interface StagePlan {
  steps: readonly string[];
  /** Where `failure.json` goes when the run gives up in this stage (finish, after the advance retries ran out). */
  phase: PhaseKey;
}

/** The run's stages in execution order; `rebootWait` and `installReconnect` wait for the agent (no step runs). */
export const STAGES: StageTable = {
  pre: { steps: ["baseline", "preValidation"], phase: "baseline" },
  catalog: { steps: ["catalog"], phase: "catalog" },
  install: { steps: ["install"], phase: "install" },
  installReconnect: { steps: [], phase: "install" },
  reboot: { steps: ["reboot"], phase: "reboot" },
  rebootWait: { steps: [], phase: "reboot" },
  bootProbe: { steps: ["bootProbe"], phase: "reboot" },
  post: { steps: ["snapshot", "postValidation", "diagnostics"], phase: "postSnapshot" },
  done: { steps: [], phase: "init" },
  remediate: { steps: ["uninstall"], phase: "remediation" },
  revalidate: { steps: ["revalidation"], phase: "remediation" },
  snapshot: { steps: [], phase: "install" },
  restore: { steps: [], phase: "remediation" },
  restoreWait: { steps: [], phase: "remediation" },
} satisfies Record<DeviceRunStage, { steps: StepId[]; phase: PhaseKey }>;

/** The stage table a run uses: the production one, or one with test-only steps added (test/unit/deviceRun). */
export type StageTable = Readonly<Record<DeviceRunStage, StagePlan>>;

/** The step plans a run uses (the production table, or one extended by a test). */
export type StepPlanTable = Readonly<Record<string, StepPlan>>;

/** The row of a step, or a clear error for a step id no table row names (a state from another build). */
export function rowOf<Row>(table: Readonly<Record<string, Row>>, step: string): Row {
  const row = Object.prototype.hasOwnProperty.call(table, step) ? table[step] : undefined;
  if (row === undefined) throw new Error(`unknown device-run step ${step}`);
  return row;
}

/**
 * The facts a step reports to the planner when its command ended (absent: it produced nothing usable). The planner
 * sees them per stage as lib/domain/run/planDeviceRun.ts's StageOutcome (stageOutcome.ts puts them together).
 */
export interface StepFacts {
  baselineOk?: boolean;
  /** The baseline saw another installer at work (issue 21). */
  foreignInstall?: InstallInProgress;
  preValidationOk?: boolean;
  /** The pre-patch gates were judged (issue 20): whether all passed, and one line per gate that did not. */
  gates?: { passed: boolean; failed: string[] };
  catalogOk?: boolean;
  approved?: number;
  /** The install step produced its document. */
  install?: { installed: number; failed: number; rebootRequired: boolean };
  /**
   * The reboot script's report; `requested` false when the reboot section of an install's command found no marker
   * (issue 22: nothing scheduled, not a failure).
   */
  reboot?: {
    scheduled: boolean;
    scheduledAt: string;
    delaySeconds: number;
    bootTimeBefore: string;
    requested?: boolean;
  };
  /** The boot probe's or the post snapshot's boot time. */
  lastBootTime?: string;
  /** The boot time the stability probe read once the device had been up POST_REBOOT_SETTLE_SECONDS (issue 22). */
  stableBootTime?: string;
  pendingReboot?: boolean;
  regressions?: number;
  /** After a regression: how many updates this run installed a remediation may remove (lib/deviceRun/remediation). */
  removable?: number;
  /** The uninstall step's answer. */
  uninstall?: { removed: number; notRemoved: number; rebootRequired: boolean };
  /** The re-validation's regressions (after the remediation). */
  regressionsAfter?: number;
}
