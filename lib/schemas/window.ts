import { z } from "zod";
import { SchemaVersion1, TimestampSchema, ClientIdSchema, TenantIdSchema } from "./common";
import { ControlLogEntrySchema } from "./control";
import { DeviceRunResultSchema } from "./deviceRun";
import { MaintenanceWindowSchema } from "./policies";
import { ReleaseAllowanceSchema } from "./release";
import { DeviceRefSchema } from "./target";

/** One occurrence of a window, as started (lib/domain/window/occurrences.ts computes it). */
export const WindowOccurrenceSchema = z.object({
  windowId: z.string(),
  localDate: z.string(),
  instanceId: z.string(),
  start: TimestampSchema,
  end: TimestampSchema,
  cutoff: TimestampSchema,
});
export type WindowOccurrenceRef = z.infer<typeof WindowOccurrenceSchema>;

/** Input of the maintenance-window orchestration. */
export const WindowRunInputSchema = z.object({
  window: MaintenanceWindowSchema,
  occurrence: WindowOccurrenceSchema,
  /** Who started it: the schedule, or someone on demand (CLI, API). */
  startedBy: z.enum(["schedule", "on-demand"]),
});
export type WindowRunInput = z.infer<typeof WindowRunInputSchema>;

/** A device the window will patch, with the client and ring its tags put it in. */
export const WindowTargetSchema = z.object({ client: ClientIdSchema, ring: z.string(), device: DeviceRefSchema });
export type WindowTarget = z.infer<typeof WindowTargetSchema>;

/** A tagged resource the window leaves out, and why (it appears in the window report). */
export const SkippedTargetSchema = z.object({ resource: z.string(), reason: z.string() });

/** What discovery found for a window. */
export const WindowTargetsSchema = z.object({
  targets: z.array(WindowTargetSchema),
  skipped: z.array(SkippedTargetSchema),
});
export type WindowTargets = z.infer<typeof WindowTargetsSchema>;

/** Why a rollout stopped starting devices. */
export const StopReasonSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("max-errors"), errors: z.number().int(), maxErrors: z.number().int() }),
  z.object({ kind: z.literal("cutoff"), cutoff: TimestampSchema }),
  z.object({ kind: z.literal("ring-gate"), ring: z.string(), failures: z.number().int() }),
  /** An operator cancelled (POST …:cancel): the devices not started are reported `cancelled`. */
  z.object({ kind: z.literal("cancelled"), by: z.string(), at: TimestampSchema }),
]);
export type StopReasonRecord = z.infer<typeof StopReasonSchema>;

/** What happened to one device of a window. */
export const DeviceOutcomeSchema = z.object({
  client: ClientIdSchema,
  ring: z.string(),
  device: z.string(),
  instanceId: z.string(),
  runId: z.string(),
  /** `cancelled`: not started because an operator cancelled the window or deployment. */
  status: z.enum(["completed", "orchestration-failed", "not-started", "cancelled"]),
  result: DeviceRunResultSchema.optional(),
  /** Why the orchestration failed, or why the device was not started. */
  reason: z.string().optional(),
});
export type DeviceOutcome = z.infer<typeof DeviceOutcomeSchema>;

/** Input of one client's rollout within one ring. */
export const ClientRolloutInputSchema = z.object({
  tenant: TenantIdSchema,
  client: ClientIdSchema,
  ring: z.string(),
  window: MaintenanceWindowSchema,
  occurrence: WindowOccurrenceSchema,
  devices: z.array(DeviceRefSchema),
  /** The promoted release the ring installs from (a window following another ring; docs/releases.md). */
  release: ReleaseAllowanceSchema.optional(),
});
export type ClientRolloutInput = z.infer<typeof ClientRolloutInputSchema>;

/** What a client's rollout reports back to its window. */
export const ClientRolloutResultSchema = z.object({
  client: ClientIdSchema,
  ring: z.string(),
  limits: z.object({ maxConcurrency: z.number().int(), maxErrors: z.number().int() }),
  outcomes: z.array(DeviceOutcomeSchema),
  stop: StopReasonSchema.optional(),
  /** Pause / resume / cancel commands this rollout applied (absent when none came). */
  control: z.array(ControlLogEntrySchema).optional(),
});
export type ClientRolloutResult = z.infer<typeof ClientRolloutResultSchema>;

/** `window-report.json`: every device's run id and exit code, and every decision the window took. */
export const WindowReportSchema = z.object({
  schemaVersion: SchemaVersion1,
  tenant: TenantIdSchema,
  windowId: z.string(),
  occurrence: WindowOccurrenceSchema,
  startedBy: z.enum(["schedule", "on-demand"]),
  finishedAt: TimestampSchema,
  rings: z.array(
    z.object({
      ring: z.string(),
      started: z.boolean(),
      /** Why the ring did not start, when it did not. */
      reason: z.string().optional(),
      rollouts: z.array(ClientRolloutResultSchema),
    }),
  ),
  skipped: z.array(SkippedTargetSchema),
  /** Human-readable decisions in order (ring gates, stops, skips), for the on-call engineer. */
  decisions: z.array(z.string()),
  /**
   * Pause / resume / cancel commands as the window and its rollouts applied them, in the order applied (absent when
   * none came). The API's audit log has the requests themselves.
   */
  control: z.array(ControlLogEntrySchema).optional(),
  totals: z.object({
    targets: z.number().int(),
    completed: z.number().int(),
    notStarted: z.number().int(),
    orchestrationFailed: z.number().int(),
    /** Devices not started because an operator cancelled (absent when none). */
    cancelled: z.number().int().optional(),
    byExitCode: z.record(z.string(), z.number().int()),
  }),
});
export type WindowReport = z.infer<typeof WindowReportSchema>;
