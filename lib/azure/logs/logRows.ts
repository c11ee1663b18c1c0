import { z } from "zod";
import { TimestampSchema } from "../../schemas/common";

// Rows of the custom tables declared in infra/logs/tables.json (test/unit/events/events.test.ts checks these schemas against it
// column by column). Optional fields are left out of the JSON and arrive as empty columns.

// The leading columns of both run-scoped tables (same names, same order as tables.json declares them).
const RUN_ROW_KEYS = {
  TimeGenerated: TimestampSchema,
  EventId: z.string(),
  Tenant: z.string(),
  Client: z.string(),
  Device: z.string(),
  RunId: z.string(),
};

/** A `PatchPilotRuns_CL` row: one per device run. */
export const RunLogRowSchema = z.strictObject({
  ...RUN_ROW_KEYS,
  Trigger: z.string(),
  WindowId: z.string().optional(),
  Ring: z.string().optional(),
  DryRun: z.boolean(),
  ExitCode: z.number().int(),
  ExitCodeName: z.string(),
  Reasons: z.array(z.string()),
  Regressions: z.number().int(),
  /** `app/check` of each regression. */
  RegressionChecks: z.array(z.string()),
  UpdatesApproved: z.number().int(),
  UpdatesInstalled: z.number().int(),
  UpdatesFailed: z.number().int(),
  Reboot: z.string(),
  StartedAt: TimestampSchema.optional(),
  InstallsFinishedAt: TimestampSchema.optional(),
  RegressionDetectedAt: TimestampSchema.optional(),
  /** The exit-code rule that decided (`240.unreachable`...): the dashboard splits 240 by it (issue 21). */
  Rule: z.string().optional(),
  MerkleRoot: z.string().optional(),
  EvidencePrefix: z.string(),
  ReportPath: z.string().optional(),
  ReportSha256: z.string().optional(),
});
export type RunLogRow = z.infer<typeof RunLogRowSchema>;

/** A `PatchPilotUpdates_CL` row: one per update outcome of a run. */
export const UpdateLogRowSchema = z.strictObject({
  ...RUN_ROW_KEYS,
  UpdateId: z.string(),
  Kb: z.string().optional(),
  Title: z.string(),
  Installed: z.boolean(),
  Result: z.string(),
  HResult: z.string().optional(),
  FinishedAt: TimestampSchema,
});
export type UpdateLogRow = z.infer<typeof UpdateLogRowSchema>;

/** A `PatchPilotWindows_CL` row: one per maintenance window occurrence. */
export const WindowLogRowSchema = z.strictObject({
  TimeGenerated: TimestampSchema,
  EventId: z.string(),
  Tenant: z.string(),
  WindowId: z.string(),
  OccurrenceId: z.string(),
  ScheduledStart: TimestampSchema,
  Halted: z.boolean(),
  HaltReasons: z.array(
    z.object({ kind: z.string(), ring: z.string(), client: z.string().optional(), detail: z.string() }),
  ),
  Targets: z.number().int(),
  Completed: z.number().int(),
  Succeeded: z.number().int(),
  Failed: z.number().int(),
  NotStarted: z.number().int(),
  ByExitCode: z.record(z.string(), z.number().int()),
  ReportPath: z.string(),
  ReportSha256: z.string(),
});
export type WindowLogRow = z.infer<typeof WindowLogRowSchema>;

/** The DCR streams, as declared in infra/logs/tables.json, and the row schema of each. */
export const LOG_STREAMS = {
  runs: { table: "PatchPilotRuns_CL", stream: "Custom-PatchPilotRuns", schema: RunLogRowSchema },
  updates: { table: "PatchPilotUpdates_CL", stream: "Custom-PatchPilotUpdates", schema: UpdateLogRowSchema },
  windows: { table: "PatchPilotWindows_CL", stream: "Custom-PatchPilotWindows", schema: WindowLogRowSchema },
} as const;

/** Rows bound for each stream, from one event. */
export interface LogRows {
  runs: RunLogRow[];
  updates: UpdateLogRow[];
  windows: WindowLogRow[];
}
