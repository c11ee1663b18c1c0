import type { StageOutcome } from "../../../lib/domain/run/planDeviceRun";
import type { DeviceRunStage } from "../../../lib/schemas/deviceRun";
import type { RoleSummary } from "./recordPhase";

type SummaryOf<R extends RoleSummary["role"]> = RoleSummary extends infer S
  ? S extends { role: infer Q }
    ? R extends Q
      ? S
      : never
    : never
  : never;

function find<R extends RoleSummary["role"]>(summaries: readonly RoleSummary[], role: R): SummaryOf<R> | undefined {
  return summaries.find((s): s is SummaryOf<R> => s.role === role);
}

/** The planner's view of a device stage whose commands all ended. */
export function stageOutcomeOf(stage: DeviceRunStage, summaries: readonly RoleSummary[]): StageOutcome {
  switch (stage) {
    case "pre":
      return {
        stage,
        baselineOk: find(summaries, "baseline")?.ok ?? false,
        preValidationOk: find(summaries, "preValidation")?.ok ?? false,
      };
    case "catalog": {
      const catalog = find(summaries, "catalog");
      return { stage, ok: catalog?.ok ?? false, approved: catalog?.approved ?? 0 };
    }
    case "install": {
      const install = find(summaries, "install");
      return {
        stage,
        documentProduced: install?.documentProduced ?? false,
        installed: install?.installed ?? 0,
        failed: install?.failed ?? 0,
        rebootRequired: install?.rebootRequired ?? false,
      };
    }
    case "reboot": {
      const data = find(summaries, "reboot")?.data;
      return {
        stage,
        scheduled: data?.scheduled ?? false,
        delaySeconds: data?.delaySeconds ?? 0,
        ...(data === undefined ? {} : { scheduledAt: data.scheduledAt, bootTimeBefore: data.bootTimeBefore }),
      };
    }
    case "bootProbe": {
      const probe = find(summaries, "bootProbe");
      return {
        stage,
        ...(probe?.lastBootTime === undefined ? {} : { lastBootTime: probe.lastBootTime }),
        ...(probe?.pendingReboot === undefined ? {} : { pendingReboot: probe.pendingReboot }),
      };
    }
    case "post": {
      const lastBootTime = find(summaries, "snapshot")?.lastBootTime;
      return {
        stage,
        regressions: find(summaries, "postValidation")?.regressions ?? 0,
        ...(lastBootTime === undefined ? {} : { lastBootTime }),
      };
    }
    case "installReconnect":
    case "rebootWait":
    case "done":
      throw new Error(`stage ${stage} has no run commands to end`);
  }
}
