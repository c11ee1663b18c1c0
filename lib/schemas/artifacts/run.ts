import { z } from "zod";
import { DeviceKindSchema, OsFamilySchema, RunRefSchema, SchemaVersion1, TimestampSchema } from "../common";
import { EffectivePolicySchema, PolicyProvenanceSchema } from "../policyLayer";
import { QuarantineEntrySchema } from "../quarantine";

/** What started a run. */
export const RunTriggerSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("window"), windowId: z.string(), ring: z.string() }),
  z.object({ kind: z.literal("api"), requestedBy: z.string() }),
  z.object({ kind: z.literal("demo") }),
]);
/** What started a run. */
export type RunTrigger = z.infer<typeof RunTriggerSchema>;

/** `01-init/run.json`: the run record, with the effective policy and where each value came from. */
export const RunRecordSchema = z.object({
  schemaVersion: SchemaVersion1,
  run: RunRefSchema,
  target: z.object({
    resourceId: z.string().min(1),
    kind: DeviceKindSchema,
    os: OsFamilySchema,
  }),
  startedAt: TimestampSchema,
  trigger: RunTriggerSchema,
  dryRun: z.boolean(),
  /** A scan-only assessment: the run stopped after the catalog by design (absent in runs sealed before scans existed). */
  scanOnly: z.boolean().optional(),
  policy: EffectivePolicySchema,
  policyProvenance: PolicyProvenanceSchema,
  /**
   * The quarantine entries in force when the run started (lib/quarantine), already applied to `policy` as exclusions
   * (provenance `quarantine:<id>`). Absent in runs sealed before quarantines existed.
   */
  quarantine: z.array(QuarantineEntrySchema).optional(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** `01-init/lock-contention.json`: another run held the device lock, so nothing was done (170). */
export const LockContentionSchema = z.object({
  schemaVersion: SchemaVersion1,
  run: RunRefSchema,
  observedAt: TimestampSchema,
  holder: z.object({
    runId: z.string(),
    acquiredAt: TimestampSchema,
    expiresAt: TimestampSchema,
  }),
});
export type LockContention = z.infer<typeof LockContentionSchema>;

/** `{phase}/failure.json`: a phase that did not produce its artifact, and why; the raw transcript is kept beside it. */
export const PhaseFailureSchema = z.object({
  schemaVersion: SchemaVersion1,
  phase: z.string(),
  /** PolicyInvalid: the policy overlay refused the layers (01-init), so nothing ran; the message names each layer and field. */
  kind: z.enum([
    "ScriptFailed",
    "MalformedOutput",
    "Timeout",
    "AgentDisconnected",
    "SubmitFailed",
    // The agent kept refusing the command with 409 past the step's deadline: another run command (an RMM's) was in
    // flight on the machine. The device was reachable and busy: 170 before any change, never "unreachable".
    "DeviceBusy",
    "Skipped",
    "PolicyInvalid",
  ]),
  message: z.string(),
  at: TimestampSchema,
  /** Artifact paths of the raw stdout/stderr kept as evidence (hash-indexed like everything else). */
  transcripts: z.array(z.string()),
});
export type PhaseFailure = z.infer<typeof PhaseFailureSchema>;
