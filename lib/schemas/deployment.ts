import { z } from "zod";
import { KbSchema, SchemaVersion1, Sha256HexSchema, TenantIdSchema, TimestampSchema } from "./common";
import { ControlLogEntrySchema } from "./control";
import { CountOrPercentSchema } from "./policies";
import { DeviceOutcomeSchema, SkippedTargetSchema, StopReasonSchema, WindowTargetSchema } from "./window";

// An emergency deployment: these KBs / packages on this target, now, as normal device runs with each device's
// effective policy (gates, hooks, remediation) where only the approved set is replaced (restrictToDeployment.ts).

/** A deployment id: the client's own (idempotency) or generated; a slug, safe in instance ids and blob paths. */
export const DeploymentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/, "must be 1-63 letters, digits or hyphens");

/** A Linux package name, as excludePackages spells them. */
export const PackageNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/, "must be a package name");

/** What was asked, as accepted: the orchestration's input and the report's header. */
export const DeploymentSpecSchema = z.object({
  tenant: TenantIdSchema,
  id: DeploymentIdSchema,
  /** The orchestration's instance id (`deployment-{tenant}-{id}`). */
  instanceId: z.string().min(1),
  requestedBy: z.string().min(1),
  requestedAt: TimestampSchema,
  reason: z.string().max(500).optional(),
  kbs: z.array(KbSchema),
  packages: z.array(PackageNameSchema),
  maxConcurrency: CountOrPercentSchema,
  maxErrors: CountOrPercentSchema,
  /** No device starts after this (a pause that outlasts it ends the deployment). */
  cutoff: TimestampSchema,
  dryRun: z.boolean(),
  /** SHA-256 of the request body as canonical JSON: a retried POST with the same id must send the same request. */
  requestSha256: Sha256HexSchema,
});
export type DeploymentSpec = z.infer<typeof DeploymentSpecSchema>;

/** Input of the emergencyDeployment orchestration: the request and the devices the API resolved for it. */
export const DeploymentRunInputSchema = z.object({
  deployment: DeploymentSpecSchema,
  /** Every device the target named, with its client (ring: `deployment`). */
  targets: z.array(WindowTargetSchema),
  /** Resources the target named that cannot be patched, and why. */
  skipped: z.array(SkippedTargetSchema),
});
export type DeploymentRunInput = z.infer<typeof DeploymentRunInputSchema>;

/** `deployment-report.json` (`{tenant}/_deployments/{id}/{instanceId}/`): every device's run, every decision. */
export const DeploymentReportSchema = z.object({
  schemaVersion: SchemaVersion1,
  tenant: TenantIdSchema,
  deploymentId: DeploymentIdSchema,
  deployment: DeploymentSpecSchema,
  finishedAt: TimestampSchema,
  limits: z.object({ maxConcurrency: z.number().int(), maxErrors: z.number().int() }),
  outcomes: z.array(DeviceOutcomeSchema),
  stop: StopReasonSchema.optional(),
  skipped: z.array(SkippedTargetSchema),
  decisions: z.array(z.string()),
  control: z.array(ControlLogEntrySchema).optional(),
  totals: z.object({
    targets: z.number().int(),
    completed: z.number().int(),
    notStarted: z.number().int(),
    orchestrationFailed: z.number().int(),
    cancelled: z.number().int().optional(),
    byExitCode: z.record(z.string(), z.number().int()),
  }),
});
export type DeploymentReport = z.infer<typeof DeploymentReportSchema>;

/** What the orchestration returns (the report itself is evidence). */
export const DeploymentResultSchema = z.object({
  reportPath: z.string(),
  reportSha256: Sha256HexSchema,
  totals: DeploymentReportSchema.shape.totals,
  stop: StopReasonSchema.optional(),
  eventsError: z.string().optional(),
});
export type DeploymentResult = z.infer<typeof DeploymentResultSchema>;
