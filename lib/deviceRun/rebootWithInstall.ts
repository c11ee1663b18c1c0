import type { FoldedReboot } from "../domain/run/planDeviceRun";
import type { StepFacts } from "../domain/run/steps";
import type { Catalog } from "../schemas/artifacts/catalog";
import type { DeviceRunPolicy, DeviceRunState } from "../schemas/deviceRun";
import type { CollectedCommand } from "./collectCommand";
import { REBOOT_AFTER_INSTALL } from "./rebootMarker";

// Issue 22: the reboot folded into the install's run command (one history iteration, eight events, and one device
// round-trip less per rebooting run). The install's command carries the `rebootAfterInstall` step last: the reboot
// script, which under IfRequired restarts the device only when the install section left the run's "reboot required"
// marker (install.sh/.ps1 RebootMarker, written by rename, read once and removed by reboot.sh/.ps1, exactly as the
// pre-install hook's fence), and under Always restarts it whatever the install said. The install's section is recorded
// and decided first, exactly as an install command of its own; the reboot section is then judged against that decision
// (lib/domain/run/planDeviceRun.ts `planFoldedReboot`): the reboot was decided and the section scheduled it → it is
// recorded as the reboot command was; decided but not scheduled → the reboot goes as its own command, as before; not
// decided but the section restarted the device → the run waits for that restart instead of pretending it did not.

const INSTALL = "install";

/** The policy reboots after an install, and may (Always, or IfRequired, and maxReboots not 0). */
function mayReboot(policy: DeviceRunPolicy): boolean {
  return (policy.rebootPolicy === "Always" || policy.rebootPolicy === "IfRequired") && policy.maxReboots > 0;
}

/**
 * The install's steps plus the reboot's, when the fold applies: steps bundled, the install's first or retried command
 * (the installReconnect path sends the same), a policy that may reboot, and none of what the fold would change the
 * order of or run against a restarting device: hooks after the install (post-install, post-reboot, on-failure,
 * always), a load-balancer drain, snapshots before the install, a remediation.
 */
export function withRebootAfterInstall(
  state: DeviceRunState,
  submit: readonly string[],
  options: { bundleSteps?: boolean; foldReboot?: boolean },
): string[] {
  const { policy } = state;
  const fold =
    options.bundleSteps !== false &&
    options.foldReboot !== false &&
    state.stage === "install" &&
    submit.at(-1) === INSTALL &&
    !submit.includes(REBOOT_AFTER_INSTALL) &&
    mayReboot(policy) &&
    state.remediation === undefined &&
    policy.postInstallHooks !== true &&
    policy.postRebootHooks !== true &&
    policy.onFailureHooks !== true &&
    policy.alwaysHooks !== true &&
    policy.loadBalancerDrainSeconds === undefined &&
    policy.snapshots !== true;
  return fold ? [...submit, REBOOT_AFTER_INSTALL] : [...submit];
}

/** Splits a collected install bundle into the install's sections (recorded now) and the reboot's (deferred). */
export function splitInstallBundle(
  stage: DeviceRunState["stage"],
  collected: readonly CollectedCommand[],
): { now: CollectedCommand[]; deferred: CollectedCommand[] } | undefined {
  if (stage !== "install" || collected.length < 2 || collected.at(-1)?.command.step !== REBOOT_AFTER_INSTALL)
    return undefined;
  return { now: collected.slice(0, -1), deferred: collected.slice(-1) };
}

/** The deferred reboot section of an install's command, if that is what `deferred` holds. */
export function foldedRebootSection(deferred: readonly CollectedCommand[]): CollectedCommand | undefined {
  return deferred.length === 1 && deferred[0]?.command.step === REBOOT_AFTER_INSTALL ? deferred[0] : undefined;
}

/** What the reboot section said, for the planner: from its facts, or from its transcript when it had none. */
export function foldedRebootOf(section: CollectedCommand, facts: StepFacts): FoldedReboot {
  const reboot = facts.reboot;
  if (reboot === undefined) {
    // Nothing usable: a section that never began (the command ended before it) ran nothing; one that printed
    // something unusable may have scheduled the restart all the same.
    return section.stdout.trim() === ""
      ? { kind: "notRun" }
      : { kind: "unreadable", sentAt: section.command.submittedAt };
  }
  if (reboot.requested === false) return { kind: "notRequested" };
  if (!reboot.scheduled) return { kind: "notScheduled" };
  return {
    kind: "scheduled",
    scheduledAt: reboot.scheduledAt,
    delaySeconds: reboot.delaySeconds,
    bootTimeBefore: reboot.bootTimeBefore,
  };
}

/** An approved update may ask for a restart (its catalog `rebootBehavior` is not NeverReboots). */
export function catalogSaysRebootLikely(catalog: Catalog | undefined): boolean {
  return (catalog?.updates ?? []).some((u) => u.decision === "approved" && u.rebootBehavior !== "NeverReboots");
}
