import { EVENT_TYPES, RunEventDataSchema, WindowEventDataSchema, type PatchCloudEvent } from "../events/eventData";
import { ARTIFACTS } from "../../domain/artifacts";
import type { LogRows } from "./logRows";

/** An event whose `data` does not match its type's schema: it will never parse, so it must dead-letter, not retry. */
export class MalformedEventDataError extends Error {
  constructor(
    readonly eventId: string,
    readonly type: string,
    readonly problem: string,
  ) {
    super(`event ${eventId} (${type}): data does not match its schema: ${problem}`);
    this.name = "MalformedEventDataError";
  }
}

const none = (): LogRows => ({ runs: [], updates: [], windows: [] });

/**
 * The Log Analytics rows of one event: run.completed gives a PatchPilotRuns_CL row and a PatchPilotUpdates_CL row
 * per update, window.completed a PatchPilotWindows_CL row. The other types repeat what those carry (they exist
 * for alert subscribers), so they give none: each run is counted once.
 */
export function toLogRows(event: PatchCloudEvent): LogRows {
  if (event.type === EVENT_TYPES.runCompleted) {
    const parsed = RunEventDataSchema.safeParse(event.data);
    if (!parsed.success) throw new MalformedEventDataError(event.id, event.type, parsed.error.message);
    const d = parsed.data;
    const base = {
      TimeGenerated: d.decidedAt,
      EventId: event.id,
      Tenant: d.run.tenant,
      Client: d.run.client,
      Device: d.run.device,
      RunId: d.run.runId,
    };
    const report = d.evidence.artifacts.find((a) => a.path === ARTIFACTS.reportHtml.path);
    return {
      runs: [
        {
          ...base,
          Trigger: d.trigger.kind,
          ...(d.trigger.kind === "window" ? { WindowId: d.trigger.windowId, Ring: d.trigger.ring } : {}),
          DryRun: d.dryRun,
          ExitCode: d.exitCode,
          ExitCodeName: d.exitCodeName,
          Reasons: d.reasons,
          Regressions: d.counts.regressions,
          RegressionChecks: d.regressions.map((r) => `${r.app}/${r.check}`),
          UpdatesApproved: d.counts.approved,
          UpdatesInstalled: d.counts.installed,
          UpdatesFailed: d.counts.failed,
          Reboot: d.reboot,
          ...(d.startedAt === undefined ? {} : { StartedAt: d.startedAt }),
          ...(d.installsFinishedAt === undefined ? {} : { InstallsFinishedAt: d.installsFinishedAt }),
          ...(d.regressionDetectedAt === undefined ? {} : { RegressionDetectedAt: d.regressionDetectedAt }),
          Rule: d.rule,
          ...(d.evidence.merkleRoot === undefined ? {} : { MerkleRoot: d.evidence.merkleRoot }),
          EvidencePrefix: d.evidence.prefix,
          ...(report === undefined
            ? {}
            : { ReportPath: `${d.evidence.prefix}${report.path}`, ReportSha256: report.sha256 }),
        },
      ],
      updates: d.updates.map((u) => ({
        ...base,
        UpdateId: u.updateId,
        ...(u.kb === undefined ? {} : { Kb: u.kb }),
        Title: u.title,
        Installed: u.installed,
        Result: u.result,
        ...(u.hresult === undefined ? {} : { HResult: u.hresult }),
        FinishedAt: u.finishedAt,
      })),
      windows: [],
    };
  }
  if (event.type === EVENT_TYPES.windowCompleted) {
    const parsed = WindowEventDataSchema.safeParse(event.data);
    if (!parsed.success) throw new MalformedEventDataError(event.id, event.type, parsed.error.message);
    const d = parsed.data;
    return {
      runs: [],
      updates: [],
      windows: [
        {
          TimeGenerated: d.finishedAt,
          EventId: event.id,
          Tenant: d.tenant,
          WindowId: d.windowId,
          OccurrenceId: d.occurrence.instanceId,
          ScheduledStart: d.occurrence.start,
          Halted: d.halted,
          HaltReasons: d.haltReasons,
          Targets: d.totals.targets,
          Completed: d.totals.completed,
          Succeeded: d.totals.succeeded,
          Failed: d.totals.failed,
          NotStarted: d.totals.notStarted,
          ByExitCode: d.totals.byExitCode,
          ReportPath: d.report.path,
          ReportSha256: d.report.sha256,
        },
      ],
    };
  }
  return none();
}
