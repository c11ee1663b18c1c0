import { z } from "zod";
import { BuildEvidenceExportInputSchema, ExportSummarySchema, FailEvidenceExportInputSchema } from "./api/exports";
import { RunTriggerSchema } from "./artifacts/run";
import { ClientIdSchema, RunRefSchema, Sha256HexSchema, TenantIdSchema, TimestampSchema } from "./common";
import {
  AdvanceDeviceRunInputSchema,
  DeviceRunStateSchema,
  FinishDeviceRunInputSchema,
  FinishedRunSchema,
  StartDeviceRunInputSchema,
  StoredEventDataSchema,
} from "./deviceRun";
import {
  DecidePromotionInputSchema,
  DecidePromotionResultSchema,
  PublishQuarantineEventsInputSchema,
  SealRingReleaseInputSchema,
  SealRingReleaseResultSchema,
} from "./release";
import { WindowReportSchema, WindowTargetsSchema } from "./window";
import { RunFailureHooksInputSchema, RunFailureHooksResultSchema } from "./failureHooks";
import { DeploymentReportSchema } from "./deployment";

/** Input of discoverWindowTargets, as the maintenance-window orchestrator passes it. */
export const DiscoverWindowTargetsInputSchema = z.object({
  tenant: TenantIdSchema,
  windowId: z.string().min(1),
  /** Clients covered; empty = every client tagged with the window. */
  clients: z.array(ClientIdSchema),
  targetTags: z.record(z.string(), z.string()),
  /** The window's rings, in order. */
  rings: z.array(z.string()).min(1),
});
export type DiscoverWindowTargetsInput = z.infer<typeof DiscoverWindowTargetsInputSchema>;

/**
 * Input of publishRunEvents: the run, what the orchestration knows of it (used only where evidence is missing),
 * the orchestration's time, and why finishing failed when it did. Everything else is read back from the evidence.
 */
export const PublishRunEventsInputSchema = z.object({
  run: RunRefSchema,
  trigger: RunTriggerSchema,
  dryRun: z.boolean(),
  at: TimestampSchema,
  finishFailure: z.string().optional(),
  /** The sealed event data the finish wrote (its result's `eventData`): read against it, no index lookup. */
  eventData: StoredEventDataSchema.optional(),
});
export type PublishRunEventsInput = z.infer<typeof PublishRunEventsInputSchema>;

/** A stored window report, as writeWindowReport returns it (and publishWindowEvents takes it). */
export const StoredWindowReportSchema = z.object({ path: z.string().min(1), sha256: Sha256HexSchema });
export type StoredWindowReport = z.infer<typeof StoredWindowReportSchema>;

/** Input of publishWindowEvents: the stored window report, as writeWindowReport returned it. */
export const PublishWindowEventsInputSchema = StoredWindowReportSchema;

/** What a publish activity sent (ids and types), or why nothing was. */
export const PublishEventsResultSchema = z.object({
  published: z.array(z.object({ id: z.string(), type: z.string() })),
  /** Set when no topic is configured: nothing was sent, on purpose. */
  skipped: z.string().optional(),
});
export type PublishEventsResult = z.infer<typeof PublishEventsResultSchema>;

/** How an activity is retried. */
export type RetryKind =
  /**
   * Storage, ARM, Event Grid: a fault may pass (a 429 storm past the client's own Retry-After retries, a storage
   * outage), so Durable retries with backoff. Deterministic failures are refused instead (ActivityRefusalSchema).
   */
  "transient-io";

/** One activity's contract: what it takes and returns (zod, so the wrapper can check), and how it is retried. */
export interface ActivityContract<In extends z.ZodType = z.ZodType, Out extends z.ZodType = z.ZodType> {
  input: In;
  output: Out;
  retry: RetryKind;
}

const contract = <In extends z.ZodType, Out extends z.ZodType>(
  input: In,
  output: Out,
  retry: RetryKind = "transient-io",
): ActivityContract<In, Out> => ({ input, output, retry });

/**
 * Every activity an orchestrator calls, by name: functions/activityTable.ts registers one handler per entry (the
 * compiler checks each returns its output type) and orchestrators/callActivity.ts calls them (the compiler checks the
 * input). Like Temporal's proxyActivities, minus the proxy.
 */
export const ACTIVITY_CONTRACTS = {
  startDeviceRun: contract(StartDeviceRunInputSchema, DeviceRunStateSchema),
  advanceDeviceRun: contract(AdvanceDeviceRunInputSchema, DeviceRunStateSchema),
  finishDeviceRun: contract(FinishDeviceRunInputSchema, FinishedRunSchema),
  runFailureHooks: contract(RunFailureHooksInputSchema, RunFailureHooksResultSchema),
  discoverWindowTargets: contract(DiscoverWindowTargetsInputSchema, WindowTargetsSchema),
  writeWindowReport: contract(WindowReportSchema, StoredWindowReportSchema),
  publishRunEvents: contract(PublishRunEventsInputSchema, PublishEventsResultSchema),
  publishWindowEvents: contract(PublishWindowEventsInputSchema, PublishEventsResultSchema),
  buildEvidenceExport: contract(BuildEvidenceExportInputSchema, ExportSummarySchema),
  failEvidenceExport: contract(FailEvidenceExportInputSchema, z.void()),
  writeDeploymentReport: contract(DeploymentReportSchema, StoredWindowReportSchema),
  publishDeploymentEvents: contract(StoredWindowReportSchema, PublishEventsResultSchema),
  sealRingRelease: contract(SealRingReleaseInputSchema, SealRingReleaseResultSchema),
  decidePromotion: contract(DecidePromotionInputSchema, DecidePromotionResultSchema),
  publishQuarantineEvents: contract(PublishQuarantineEventsInputSchema, PublishEventsResultSchema),
} as const;

export type ActivityName = keyof typeof ACTIVITY_CONTRACTS;
/** What an orchestrator passes (before defaults apply). */
export type ActivityInput<N extends ActivityName> = z.input<(typeof ACTIVITY_CONTRACTS)[N]["input"]>;
/** What the activity returns. */
export type ActivityOutput<N extends ActivityName> = z.output<(typeof ACTIVITY_CONTRACTS)[N]["output"]>;

/**
 * Why an activity refused, without a retry: a failure that would fail the same way every time. An activity returns
 * it (instead of throwing, which Durable would retry: RetryOptions cannot filter by error type) and callActivity turns
 * it into an ActivityRefusedError in the orchestrator.
 */
export const ActivityRefusalSchema = z.object({
  activityRefused: z.object({
    activity: z.string(),
    kind: z.enum([
      /** The input does not satisfy the activity's schema (a caller bug). */
      "input-invalid",
      /** An artifact the activity built does not satisfy its own schema: never stored (ArtifactSchemaError). */
      "schema-refused",
      /** Evidence or an index row exists with different bytes: write-once refuses to replace it. */
      "write-once-conflict",
    ]),
    message: z.string(),
  }),
});
export type ActivityRefusal = z.infer<typeof ActivityRefusalSchema>;
