import { z } from "zod";
import {
  ClientIdSchema,
  RunRefSchema,
  SchemaVersion1,
  Sha256HexSchema,
  TenantIdSchema,
  TimestampSchema,
} from "./common";
import { ClassificationSchema } from "./policies";

/** A release id: `rel-{ring}-{yyyymmdd}-{8 hex}`, `-r{n}` for the n-th re-cut. Safe as a blob segment and table key. */
export const ReleaseIdSchema = z
  .string()
  .regex(/^rel-[a-z0-9-]{1,60}$/, "must be a release id like rel-dev-20261205-1a2b3c4d");

/** RFC 6962 inclusion of an artifact's leaf in a run's sealed Merkle tree (as the installs proof API gives it). */
export const MerkleInclusionSchema = z.object({
  root: Sha256HexSchema,
  leafIndex: z.number().int().min(0),
  treeSize: z.number().int().min(1),
  leafHash: Sha256HexSchema,
  auditPath: z.array(Sha256HexSchema),
});

/**
 * Why an update is in a release: one run that installed it. Its `05-install/install-summary.jsonl` (SHA-256) is a
 * leaf of the run's sealed tree (`merkle`, verifiable against `10-index/manifest.json`), and the run's receipt is a
 * leaf of the tenant's transparency log (`log`, when the log is configured).
 */
export const ReleaseProofSchema = z.object({
  run: RunRefSchema,
  artifact: z.object({ path: z.string().min(1), sha256: Sha256HexSchema }),
  merkle: MerkleInclusionSchema,
  log: z
    .object({ index: z.number().int().min(0), leafHash: Sha256HexSchema, treeSize: z.number().int().min(1) })
    .optional(),
});
export type ReleaseProof = z.infer<typeof ReleaseProofSchema>;

/** One update of a release: the exact bits (WUA id + revision, or package + version) and its proof. */
export const ReleaseUpdateSchema = z.object({
  /** KB, or the package name (Linux): what quarantine and regressions name. */
  key: z.string().min(1),
  updateId: z.string().min(1),
  kb: z.string().optional(),
  revision: z.number().int().optional(),
  version: z.string().optional(),
  title: z.string(),
  classification: ClassificationSchema,
  /** Devices of the ring that installed it in a run without 210/220/240. */
  installedOn: z.number().int().min(1),
  proof: ReleaseProofSchema,
});
export type ReleaseUpdate = z.infer<typeof ReleaseUpdateSchema>;

/** A 220 of the ring, its regressions attributed to the updates the run installed. */
export const ObservedRegressionSchema = z.object({
  client: ClientIdSchema,
  device: z.string(),
  runId: z.string(),
  /** Keys (KB or package name) the run installed. */
  keys: z.array(z.string().min(1)),
});
export type ObservedRegression = z.infer<typeof ObservedRegressionSchema>;

/** `{tenant}/_releases/{ring}/{id}/release.json`: sealed once, never changed; a re-cut is a new release. */
export const ReleaseSchema = z.object({
  schemaVersion: SchemaVersion1,
  kind: z.literal("patchpilot-release"),
  id: ReleaseIdSchema,
  tenant: TenantIdSchema,
  source: z.object({
    windowId: z.string().min(1),
    ring: z.string().min(1),
    occurrence: z.string().min(1),
    localDate: z.string(),
  }),
  /** When the ring's last device run finished (the soak counts from here). */
  ringFinishedAt: TimestampSchema,
  sealedAt: TimestampSchema,
  devices: z.object({
    targeted: z.number().int().min(0),
    completed: z.number().int().min(0),
    /** Completed without 210, 220 or 240. */
    succeeded: z.number().int().min(0),
  }),
  updates: z.array(ReleaseUpdateSchema),
  regressions: z.array(ObservedRegressionSchema),
  /** A re-cut: the release it replaces and what was taken out. */
  replaces: z
    .object({
      id: ReleaseIdSchema,
      sha256: Sha256HexSchema,
      removed: z.array(z.object({ key: z.string(), reason: z.string() })),
    })
    .optional(),
});
export type Release = z.infer<typeof ReleaseSchema>;

/** A stored evidence document: where it is and the SHA-256 it was written with. */
export const StoredDocumentSchema = z.object({ path: z.string().min(1), sha256: Sha256HexSchema });
export type StoredDocument = z.infer<typeof StoredDocumentSchema>;

/** What a device run of a following ring may install: the promoted release's exact set (in run.json). */
export const ReleaseAllowanceSchema = z.object({
  id: ReleaseIdSchema,
  sha256: Sha256HexSchema,
  promotion: StoredDocumentSchema,
  updates: z.array(
    z.object({
      key: z.string().min(1),
      updateId: z.string().min(1),
      revision: z.number().int().optional(),
      version: z.string().optional(),
      proof: z.object({ runId: z.string(), path: z.string(), leafIndex: z.number().int(), root: Sha256HexSchema }),
    }),
  ),
});
export type ReleaseAllowance = z.infer<typeof ReleaseAllowanceSchema>;

/** One promotion gate as evaluated, with what it looked at. */
export const GateResultSchema = z.object({
  gate: z.enum(["release-exists", "soak", "min-succeeded", "no-open-regression", "approval"]),
  met: z.boolean(),
  inputs: z.record(z.string(), z.unknown()),
  detail: z.string(),
});
export type GateResult = z.infer<typeof GateResultSchema>;

/** `{tenant}/_promotions/{window}/{occurrence}/{ring}-{attempt}.json`: every promotion decision, sealed. */
export const PromotionDecisionSchema = z.object({
  schemaVersion: SchemaVersion1,
  kind: z.literal("patchpilot-promotion"),
  tenant: TenantIdSchema,
  windowId: z.string(),
  occurrence: z.string(),
  ring: z.string(),
  follows: z.string(),
  attempt: z.number().int().min(1),
  decidedAt: TimestampSchema,
  release: z.object({ id: ReleaseIdSchema, sha256: Sha256HexSchema, path: z.string() }).optional(),
  gates: z.array(GateResultSchema),
  approvals: z.array(z.object({ principal: z.string(), at: TimestampSchema, sha256: Sha256HexSchema })),
  promoted: z.boolean(),
  /** When a gate that only needs time will be met (the window waits for it when it falls before the cutoff). */
  recheckAt: TimestampSchema.optional(),
  reason: z.string(),
});
export type PromotionDecision = z.infer<typeof PromotionDecisionSchema>;

/** `approvals/{n}.json` beside a release: who approved it, when (create-once). */
export const ReleaseApprovalSchema = z.object({
  schemaVersion: SchemaVersion1,
  kind: z.literal("patchpilot-release-approval"),
  tenant: TenantIdSchema,
  release: z.object({ id: ReleaseIdSchema, sha256: Sha256HexSchema }),
  principal: z.string().min(1),
  at: TimestampSchema,
  comment: z.string().max(2000).optional(),
});
export type ReleaseApproval = z.infer<typeof ReleaseApprovalSchema>;

/** Input of the sealRingRelease activity: the ring's runs as the window saw them; everything else is read back. */
export const SealRingReleaseInputSchema = z.object({
  tenant: TenantIdSchema,
  windowId: z.string().min(1),
  occurrence: z.object({ instanceId: z.string().min(1), localDate: z.string() }),
  ring: z.string().min(1),
  targeted: z.number().int().min(0),
  /** The ring's device runs that completed (their exit codes are read back from evidence, not taken from here). */
  runs: z.array(RunRefSchema),
  /** The orchestrator's time when the ring's last run finished: the release's ringFinishedAt and sealedAt. */
  finishedAt: TimestampSchema,
  quarantineAfterClients: z.number().int().min(1),
});
export type SealRingReleaseInput = z.infer<typeof SealRingReleaseInputSchema>;

/** `{tenant}/_quarantine/tenant/{id}/quarantine.json`: the fleet rule's decision to quarantine a key tenant-wide. */
export const QuarantineDecisionSchema = z.object({
  schemaVersion: SchemaVersion1,
  kind: z.literal("patchpilot-quarantine-decision"),
  tenant: TenantIdSchema,
  scope: z.literal("tenant"),
  key: z.string().min(1),
  /** The quarantine store's entry id. */
  entryId: z.string().min(1),
  reason: z.string(),
  quarantinedAt: TimestampSchema,
  clients: z.array(ClientIdSchema),
  runs: z.array(z.string()),
  threshold: z.number().int().min(1),
  window: z.object({ windowId: z.string(), occurrence: z.string(), ring: z.string() }),
  /** The releases whose observed regressions were counted, with their SHA-256. */
  releases: z.array(z.object({ id: ReleaseIdSchema, sha256: Sha256HexSchema })),
  recut: z.array(z.object({ id: ReleaseIdSchema, replaces: ReleaseIdSchema })),
});
export type QuarantineDecision = z.infer<typeof QuarantineDecisionSchema>;

export const SealRingReleaseResultSchema = z.object({
  release: StoredDocumentSchema.extend({
    id: ReleaseIdSchema,
    updates: z.number().int(),
    regressions: z.number().int(),
  }),
  /** Keys quarantined tenant-wide by this ring's regressions (N clients or more). */
  quarantined: z.array(z.string()),
  /** Releases re-cut without a quarantined key. */
  recut: z.array(z.object({ id: ReleaseIdSchema, replaces: ReleaseIdSchema, removed: z.array(z.string()) })),
  /** Sealed quarantine decisions this ring made (their CloudEvents are published from them). */
  quarantineDecisions: z.array(StoredDocumentSchema),
  decisions: z.array(z.string()),
});

/** Input of publishQuarantineEvents: the sealed decisions, as sealRingRelease returned them. */
export const PublishQuarantineEventsInputSchema = z.object({ decisions: z.array(StoredDocumentSchema).min(1) });
export type SealRingReleaseResult = z.infer<typeof SealRingReleaseResultSchema>;

/** Input of the decidePromotion activity. */
export const DecidePromotionInputSchema = z.object({
  tenant: TenantIdSchema,
  windowId: z.string().min(1),
  occurrence: z.string().min(1),
  ring: z.string().min(1),
  follows: z.string().min(1),
  gates: z.object({
    soakMinutes: z.number().int().min(0),
    minSucceeded: z.union([z.number().int().min(0), z.string()]),
    noOpenRegression: z.boolean(),
    requireApproval: z.boolean(),
  }),
  attempt: z.number().int().min(1),
  now: TimestampSchema,
});
export type DecidePromotionInput = z.infer<typeof DecidePromotionInputSchema>;

export const DecidePromotionResultSchema = z.object({
  promoted: z.boolean(),
  reason: z.string(),
  recheckAt: TimestampSchema.optional(),
  decision: StoredDocumentSchema,
  allowance: ReleaseAllowanceSchema.optional(),
});
export type DecidePromotionResult = z.infer<typeof DecidePromotionResultSchema>;
