import { z } from "zod";
import { ClientIdSchema, DeviceIdSchema, KbSchema, Sha256HexSchema, TenantIdSchema, TimestampSchema } from "../common";
import { ControlActionSchema, ControlCommandSchema, ControlStateSchema } from "../control";
import { DeploymentIdSchema, DeploymentReportSchema, PackageNameSchema } from "../deployment";
import { CountOrPercentSchema } from "../policies";
import { SkippedTargetSchema, StopReasonSchema } from "../window";

// Contract of the emergency-deployment routes and of pause / resume / cancel (windows and deployments).

/** Path of a deployment's routes. */
export const DeploymentParamsSchema = z.object({ tenant: TenantIdSchema, deploymentId: DeploymentIdSchema });

/** Which devices: a client's, named devices, devices with given tags — combined, every given part must match. */
export const DeploymentTargetSchema = z
  .object({
    client: ClientIdSchema.optional(),
    /** Host names (case-insensitive, as startRun finds them); every one must exist in the tenant. */
    devices: z.array(DeviceIdSchema).min(1).max(1000).optional(),
    /** Resource tags that must all match exactly (e.g. {"role": "web"}). */
    tags: z.record(z.string().min(1).max(512), z.string().max(256)).optional(),
  })
  .strict()
  .refine((t) => t.client !== undefined || t.devices !== undefined || t.tags !== undefined, {
    message: "name a client, devices or tags",
  });
export type DeploymentTarget = z.infer<typeof DeploymentTargetSchema>;

/** `POST …/deployments`. */
export const DeploymentRequestSchema = z
  .object({
    /**
     * The caller's id for this deployment (or the Idempotency-Key header): a retried POST with the same id and the
     * same body starts nothing new and answers with the deployment already started; a different body is a 409.
     */
    deploymentId: DeploymentIdSchema.optional(),
    target: DeploymentTargetSchema,
    kbs: z.array(KbSchema).max(50).default([]),
    packages: z.array(PackageNameSchema).max(50).default([]),
    maxConcurrency: CountOrPercentSchema.default(10),
    maxErrors: CountOrPercentSchema.default(0),
    /** No device starts later than this many minutes after the request (a paused deployment ends then). */
    cutoffMinutes: z
      .number()
      .int()
      .min(15)
      .max(7 * 24 * 60)
      .default(24 * 60),
    dryRun: z.boolean().default(false),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .refine((r) => r.kbs.length + r.packages.length > 0, { message: "name at least one KB or package", path: ["kbs"] });
export type DeploymentRequest = z.infer<typeof DeploymentRequestSchema>;

/** Links of a deployment. */
export const DeploymentLinksSchema = z.object({
  self: z.string(),
  pause: z.string(),
  resume: z.string(),
  cancel: z.string(),
});

/** What `POST …/deployments` answers (202; also to a retried POST with the same id and body). */
export const DeploymentAcceptedSchema = z.object({
  tenant: TenantIdSchema,
  deploymentId: DeploymentIdSchema,
  requestSha256: Sha256HexSchema,
  /** True when this POST repeated an earlier one: nothing new was started. */
  replayed: z.boolean(),
  targets: z.array(z.object({ client: ClientIdSchema, device: DeviceIdSchema })),
  skipped: z.array(SkippedTargetSchema),
  links: DeploymentLinksSchema,
});
export type DeploymentAccepted = z.infer<typeof DeploymentAcceptedSchema>;

/** `GET …/deployments/{id}`. */
export const DeploymentStatusResponseSchema = z.object({
  tenant: TenantIdSchema,
  deploymentId: DeploymentIdSchema,
  /** The Durable runtime status (Pending, Running, Completed, Failed, Terminated). */
  runtimeStatus: z.string(),
  control: ControlStateSchema.optional(),
  requestedBy: z.string(),
  requestedAt: TimestampSchema,
  kbs: z.array(z.string()),
  packages: z.array(z.string()),
  cutoff: TimestampSchema,
  progress: z
    .object({
      targets: z.number().int(),
      started: z.number().int(),
      finished: z.number().int(),
      pending: z.number().int(),
      errors: z.number().int(),
    })
    .optional(),
  /** Once completed: the report's path and hash, read back and verified, and what it says. */
  report: z
    .object({
      path: z.string(),
      sha256: Sha256HexSchema,
      stop: StopReasonSchema.optional(),
      totals: DeploymentReportSchema.shape.totals,
      outcomes: DeploymentReportSchema.shape.outcomes,
      control: DeploymentReportSchema.shape.control,
    })
    .optional(),
  links: DeploymentLinksSchema,
});
export type DeploymentStatusResponse = z.infer<typeof DeploymentStatusResponseSchema>;

/** The action segment of a control route. */
export const ControlActionParamsSchema = z.object({ action: ControlActionSchema });

/** `POST …:pause|resume|cancel` body (optional). */
export const ControlRequestSchema = z.object({ reason: z.string().max(500).optional() }).strict();

/** What a control route answers (202: raised; applied at the next wave boundary). */
export const ControlAcceptedSchema = z.object({
  command: ControlCommandSchema,
  /** The orchestrations the command was raised to (the window or deployment, and a window's running rollouts). */
  raisedTo: z.array(z.string()),
  note: z.string(),
});
