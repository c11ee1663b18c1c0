import { z } from "zod";
import { ExitCodeNameSchema, ExitCodeSchema } from "../artifacts/outcome";
import {
  ClientIdSchema,
  DeviceIdSchema,
  RunIdSchema,
  Sha256HexSchema,
  TenantIdSchema,
  TimestampSchema,
} from "../common";

/** `POST /api/v1/tenants/{tenant}/runs`: patch one device now. Unknown fields are refused, so a typo is not ignored. */
export const StartRunRequestSchema = z.strictObject({
  client: ClientIdSchema,
  device: DeviceIdSchema,
  /** Baseline, validation and catalog only: nothing is installed and the device is not rebooted. */
  dryRun: z.boolean().default(false),
});
export type StartRunRequest = z.infer<typeof StartRunRequestSchema>;

/** Path parameters of the run routes. */
export const RunParamsSchema = z.object({ tenant: TenantIdSchema, runId: RunIdSchema });

/** Longest a status request may block (App Service closes idle requests at 230 s; RMM scripts loop). */
export const MAX_WAIT_SECONDS = 120;

/** `GET …/runs/{runId}?waitSeconds=N`: block until the exit code exists or N seconds pass. */
export const RunStatusQuerySchema = z.strictObject({
  waitSeconds: z.coerce.number().int().min(0).max(MAX_WAIT_SECONDS).default(0),
});

/** Where a run is. `failed`: the orchestration itself failed (the evidence says what is known). */
export const RunLifecycleSchema = z.enum(["queued", "running", "sealed", "completed", "failed"]);
export type RunLifecycle = z.infer<typeof RunLifecycleSchema>;

/** A link to one artifact of the run, with the hash the index holds for it. */
export const EvidenceLinkSchema = z.object({
  path: z.string(),
  sha256: Sha256HexSchema,
  size: z.number().int().min(0),
  href: z.string(),
});
export type EvidenceLink = z.infer<typeof EvidenceLinkSchema>;

/** A run as an RMM tool or an engineer sees it. */
export const RunStatusSchema = z.object({
  tenant: TenantIdSchema,
  client: ClientIdSchema,
  device: DeviceIdSchema,
  runId: RunIdSchema,
  status: RunLifecycleSchema,
  dryRun: z.boolean().optional(),
  startedAt: TimestampSchema.optional(),
  /** Device-run stage while running (pre, catalog, install, reboot, …, finishing). */
  stage: z.string().optional(),
  /** 0-1, by stage. */
  progress: z.number().min(0).max(1).optional(),
  exitCode: ExitCodeSchema.optional(),
  exitCodeName: ExitCodeNameSchema.optional(),
  /** Every rule that matched, in priority order (from exit-code.json, verified against its hash). */
  reasons: z.array(z.string()).optional(),
  merkleRoot: Sha256HexSchema.optional(),
  eventsChainHead: Sha256HexSchema.optional(),
  /** When done: every indexed artifact. */
  evidence: z.array(EvidenceLinkSchema).optional(),
  links: z.object({ self: z.string(), verify: z.string(), evidence: z.string() }),
});
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** `202` answer to a started run (Location: the status URL). */
export const StartRunResponseSchema = RunStatusSchema.pick({
  tenant: true,
  client: true,
  device: true,
  runId: true,
  status: true,
  dryRun: true,
  links: true,
});
export type StartRunResponse = z.infer<typeof StartRunResponseSchema>;
