import { z } from "zod";
import { Sha256HexSchema } from "./common";

/** A row of the `Artifacts` table (PK runId, RK encoded artifact path). */
export const ArtifactRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  path: z.string(),
  blobName: z.string(),
  sha256: Sha256HexSchema,
  size: z.number().int().min(0),
  /** True for artifacts that are leaves of the run's Merkle tree (sealed in phase 10). */
  merkleLeaf: z.boolean(),
  versionId: z.string().optional(),
});
export type ArtifactRow = z.infer<typeof ArtifactRowSchema>;

/** A row of the `Installs` audit table (PK tenant|device, RK update|runId). */
export const InstallRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  tenant: z.string(),
  client: z.string(),
  device: z.string(),
  runId: z.string(),
  updateId: z.string(),
  kb: z.string().optional(),
  title: z.string(),
  installed: z.boolean(),
  result: z.string(),
  finishedAt: z.string(),
  artifactPath: z.string(),
  artifactSha256: Sha256HexSchema,
  /** 1-based line of install-summary.jsonl that records this outcome. */
  line: z.number().int().min(1),
});
export type InstallRow = z.infer<typeof InstallRowSchema>;

/** A row of the `Runs` table (PK tenant|client, RK runId): the run's current status, mutable. */
export const RunRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  device: z.string(),
  /** queued (accepted by the API) → running (phase 01 began) → sealed (phase 10) → completed (exit code). */
  status: z.enum(["queued", "running", "sealed", "completed"]),
  startedAt: z.string(),
  /** The device-run orchestration, for live stage and progress while it runs. */
  instanceId: z.string().optional(),
  dryRun: z.boolean().optional(),
  merkleRoot: z.string().optional(),
  eventsChainHead: z.string().optional(),
  exitCode: z.number().int().optional(),
  exitCodeName: z.string().optional(),
  exitCodeSha256: z.string().optional(),
  /** SHA-256 of `11-report/receipt.json` and its leaf index in the tenant's transparency log. */
  receiptSha256: z.string().optional(),
  logIndex: z.number().int().min(0).optional(),
});
export type RunRow = z.infer<typeof RunRowSchema>;

/** A row of the `Locks` table (PK tenant, RK device): the device lease a run holds from phase 01 to its end. */
export const LockRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  runId: z.string(),
  client: z.string(),
  acquiredAt: z.string(),
  expiresAt: z.string(),
  etag: z.string(),
});
export type LockRow = z.infer<typeof LockRowSchema>;
