import { z } from "zod";
import { SchemaVersion1, Sha256HexSchema, TimestampSchema } from "../common";
import { ClassificationSchema, SeveritySchema } from "../policies";
import { deviceProvenance } from "./source";

/** One applicable update as the device reported it, with the policy decision taken in lib/domain. */
export const CatalogEntrySchema = z.object({
  /** Windows: WUA update id; Linux: package name. */
  updateId: z.string().min(1),
  revision: z.number().int().optional(),
  kb: z.string().optional(),
  title: z.string(),
  classification: ClassificationSchema,
  severity: SeveritySchema,
  /** Null when the update agent gives none (most Linux repositories): deferral then cannot apply, and the reason says so. */
  releaseDate: TimestampSchema.nullable(),
  sizeBytes: z.number().int().min(0).optional(),
  /** Linux: the exact candidate version to install, so what staging tested is what prod gets. */
  version: z.string().optional(),
  rebootBehavior: z.enum(["NeverReboots", "AlwaysRequiresReboot", "CanRequestReboot"]),
  decision: z.enum(["approved", "excluded"]),
  /** Why: e.g. "included by KB list", "classification Tools not in policy", "deferred until 2026-02-01". */
  reason: z.string(),
  /**
   * Approved by a promoted release (a ring following another, docs/releases.md): its id and SHA-256, and the run of
   * the earlier ring that installed these bits (install-summary leaf in that run's sealed Merkle tree).
   */
  release: z
    .object({
      id: z.string(),
      sha256: Sha256HexSchema,
      proof: z.object({ runId: z.string(), path: z.string(), leafIndex: z.number().int(), root: Sha256HexSchema }),
    })
    .optional(),
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

/** `03-catalog/catalog.json`. */
export const CatalogSchema = z.object({
  ...deviceProvenance,
  schemaVersion: SchemaVersion1,
  evaluatedAt: TimestampSchema,
  updates: z.array(CatalogEntrySchema),
});
export type Catalog = z.infer<typeof CatalogSchema>;

/** One line of `05-install/install-summary.jsonl`: the outcome of one approved update. */
export const InstallOutcomeSchema = z.object({
  ...deviceProvenance,
  schemaVersion: SchemaVersion1,
  updateId: z.string().min(1),
  kb: z.string().optional(),
  title: z.string(),
  version: z.string().optional(),
  installed: z.boolean(),
  result: z.enum(["Succeeded", "SucceededWithErrors", "AlreadyInstalled", "Failed", "Aborted", "NotAttempted"]),
  /** HRESULT as a signed 32-bit integer, when the update agent gave one. */
  hresult: z.number().int().optional(),
  rebootRequired: z.boolean(),
  finishedAt: TimestampSchema,
});
export type InstallOutcome = z.infer<typeof InstallOutcomeSchema>;

/**
 * What decided a reboot's outcome, strongest last: the policy alone, the reboot script's answer, the agent's status
 * through ARM, the boot probe's boot time, the post snapshot's boot time and pending-reboot flags.
 */
export const RebootEvidenceSchema = z.enum(["policy", "reboot-answer", "agent-status", "boot-probe", "post-snapshot"]);
export type RebootEvidence = z.infer<typeof RebootEvidenceSchema>;

/** `06-reboot/reboot.json`. */
export const RebootRecordSchema = z.object({
  ...deviceProvenance,
  schemaVersion: SchemaVersion1,
  policy: z.enum(["IfRequired", "Never", "Always"]),
  required: z.boolean(),
  requested: z.boolean(),
  requestedAt: TimestampSchema.optional(),
  bootTimeBefore: TimestampSchema.optional(),
  bootTimeAfter: TimestampSchema.optional(),
  rebootCount: z.number().int().min(0),
  outcome: z.enum(["NotRequired", "Completed", "NotAllowed", "TimedOut", "RebootLoopGuard", "Failed"]),
  /** Why the outcome is what it is, when a policy value or a weaker piece of evidence was overruled (issue 21). */
  reason: z.string().max(1000).optional(),
  /** The evidence that decided the outcome: the strongest one the run had (issue 21). */
  decidedBy: RebootEvidenceSchema.optional(),
});
export type RebootRecord = z.infer<typeof RebootRecordSchema>;

/** `09-diagnostics/diagnostics.json`. */
export const DiagnosticsSchema = z.object({
  ...deviceProvenance,
  schemaVersion: SchemaVersion1,
  collectedAt: TimestampSchema,
  status: z.enum(["ok", "failed"]),
  failureReason: z.string().optional(),
  eventLogErrors: z.array(
    z.object({
      log: z.string(),
      source: z.string(),
      id: z.number().int(),
      level: z.string(),
      time: TimestampSchema,
      message: z.string(),
    }),
  ),
  updateAgentErrors: z.array(
    z.object({ time: TimestampSchema, hresult: z.number().int().optional(), message: z.string() }),
  ),
  disks: z.array(
    z.object({ mount: z.string(), freeBytes: z.number().int().min(0), totalBytes: z.number().int().min(0) }),
  ),
  /** Services that terminated/restarted since boot; absent in evidence older than the section. */
  serviceRestarts: z.array(z.object({ service: z.string(), restarts: z.number().int().min(0) })).optional(),
  /** The policy's diagnostics rules, each evaluated over this document (diagnostics.rules); absent in older evidence. */
  rules: z
    .array(
      z.object({
        rule: z.string(),
        type: z.string(),
        /** unknown: a section the rule needs could not be collected (never read as "none"). */
        verdict: z.enum(["pass", "fail", "unknown", "not-applicable"]),
        /** What the rule looked at: its thresholds and the observations it counted. */
        inputs: z.record(z.string(), z.unknown()),
        detail: z.string(),
      }),
    )
    .optional(),
});
export type Diagnostics = z.infer<typeof DiagnosticsSchema>;
export type DiagnosticsRuleResult = NonNullable<Diagnostics["rules"]>[number];
