import type { DeviceRunStage } from "../../schemas/deviceRun";
import type { StageOutcome } from "./planDeviceRun";
import type { StepFacts } from "./steps";

/**
 * The planner's view of a device stage whose commands all ended, from the facts its steps reported. A step that
 * produced nothing usable reported no facts: the defaults below are what "failed" means to the planner.
 */
export function stageOutcomeOf(stage: DeviceRunStage, reported: readonly StepFacts[]): StageOutcome {
  const facts: StepFacts = Object.assign({}, ...reported) as StepFacts;
  switch (stage) {
    case "pre":
      return {
        stage,
        baselineOk: facts.baselineOk ?? false,
        preValidationOk: facts.preValidationOk ?? false,
        ...(facts.gates === undefined ? {} : { gates: facts.gates }),
        ...(facts.foreignInstall === undefined ? {} : { foreignInstall: facts.foreignInstall }),
      };
    case "catalog":
      return { stage, ok: facts.catalogOk ?? false, approved: facts.approved ?? 0 };
    case "install":
      return {
        stage,
        documentProduced: facts.install !== undefined,
        installed: facts.install?.installed ?? 0,
        failed: facts.install?.failed ?? 0,
        rebootRequired: facts.install?.rebootRequired ?? false,
      };
    case "reboot": {
      const data = facts.reboot;
      return {
        stage,
        scheduled: data?.scheduled ?? false,
        delaySeconds: data?.delaySeconds ?? 0,
        answered: data !== undefined,
        ...(data === undefined ? {} : { scheduledAt: data.scheduledAt, bootTimeBefore: data.bootTimeBefore }),
      };
    }
    case "bootProbe":
      return {
        stage,
        ...(facts.lastBootTime === undefined ? {} : { lastBootTime: facts.lastBootTime }),
        ...(facts.pendingReboot === undefined ? {} : { pendingReboot: facts.pendingReboot }),
      };
    case "post":
      return {
        stage,
        regressions: facts.regressions ?? 0,
        ...(facts.lastBootTime === undefined ? {} : { lastBootTime: facts.lastBootTime }),
        ...(facts.removable === undefined ? {} : { removable: facts.removable }),
      };
    case "remediate":
      return {
        stage,
        answered: facts.uninstall !== undefined,
        removed: facts.uninstall?.removed ?? 0,
        notRemoved: facts.uninstall?.notRemoved ?? 0,
        rebootRequired: facts.uninstall?.rebootRequired ?? false,
      };
    case "revalidate":
      return { stage, ...(facts.regressionsAfter === undefined ? {} : { regressionsAfter: facts.regressionsAfter }) };
    case "installReconnect":
    case "rebootWait":
    case "snapshot":
    case "restore":
    case "restoreWait":
    case "done":
      throw new Error(`stage ${stage} has no run commands to end`);
  }
}
