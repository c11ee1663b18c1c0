import type { PhaseKey } from "../../../lib/domain/artifacts";
import type { PollPlan } from "../../../lib/domain/run/pollSchedule";
import type { ScriptId } from "../../../lib/schemas/device/envelope";
import type { DeviceRunStage, PendingCommand, ScriptRole } from "../../../lib/schemas/deviceRun";
import { POST_REBOOT_SETTLE_SECONDS } from "../../../lib/domain/run/planDeviceRun";

/** The device script each role runs. */
export const SCRIPT_OF: Readonly<Record<ScriptRole, ScriptId>> = {
  baseline: "baseline",
  preValidation: "validate",
  catalog: "catalog",
  install: "install",
  reboot: "reboot",
  bootProbe: "baseline",
  snapshot: "baseline",
  postValidation: "validate",
  diagnostics: "diagnostics",
};

/** The phase folder whose evidence each role feeds (the boot probe is reboot evidence). */
export const PHASE_OF: Readonly<Record<ScriptRole, PhaseKey>> = {
  baseline: "baseline",
  preValidation: "preValidation",
  catalog: "catalog",
  install: "install",
  reboot: "reboot",
  bootProbe: "reboot",
  snapshot: "postSnapshot",
  postValidation: "postValidation",
  diagnostics: "diagnostics",
};

/** The phase a stage's failure is recorded under (finishDeviceRun, when the advance loop gave up). */
export const STAGE_PHASE: Readonly<Record<DeviceRunStage, PhaseKey>> = {
  pre: "baseline",
  catalog: "catalog",
  install: "install",
  installReconnect: "install",
  reboot: "reboot",
  rebootWait: "reboot",
  bootProbe: "reboot",
  post: "postSnapshot",
  done: "init",
};

/** Reboot delay passed to the reboot script: long enough for Run Command to upload its document first. */
export const REBOOT_DELAY_SECONDS = 60;

// A rebooting device is first looked at delay + 90 s after the request (the planner's rule); the reboot command's own
// first poll goes a little later, so collecting it and the first agent check happen in one advance call.
const REBOOT_EXPECTED_SECONDS = 30 + REBOOT_DELAY_SECONDS + 90;

/** Typical duration of a role's command: its first poll is due then. Validate adds its slowest settle × attempts. */
export function expectedSecondsOf(role: ScriptRole, slowestCheckSeconds: number): number {
  switch (role) {
    case "baseline":
    case "snapshot":
    case "diagnostics":
      return 30;
    case "bootProbe":
      // Collected only after the post-reboot settle time: the wait costs no extra step.
      return POST_REBOOT_SETTLE_SECONDS;
    case "preValidation":
    case "postValidation":
      return 60 + slowestCheckSeconds;
    case "catalog":
      return 120;
    case "install":
      return 300;
    case "reboot":
      return REBOOT_EXPECTED_SECONDS;
  }
}

/** Later polls back off to at most this interval. */
const MAX_POLL_INTERVAL_SECONDS = 300;
/** After the command's own timeout, how long ARM gets to report a terminal state before PatchPilot cancels it. */
const POLL_GRACE_SECONDS = 120;

/** The poll plan of a command in flight (lib/domain/run/pollSchedule.ts). */
export function pollPlanOf(command: PendingCommand): PollPlan {
  return {
    expectedSeconds: command.expectedSeconds,
    maxIntervalSeconds: MAX_POLL_INTERVAL_SECONDS,
    timeoutSeconds: command.timeoutSeconds,
    graceSeconds: POLL_GRACE_SECONDS,
  };
}
