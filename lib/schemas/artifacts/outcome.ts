import { z } from "zod";
import { EXIT_CODE_NAMES_ASCENDING, EXIT_CODES_ASCENDING } from "../../domain/exitCode/exitCodeTable";
import { RunRefSchema, SchemaVersion1, Sha256HexSchema, TimestampSchema } from "../common";

/** The exit codes of DESIGN.md (lib/domain/exitCode/exitCodeTable.ts), ascending. */
export const ExitCodeSchema = z.union(EXIT_CODES_ASCENDING.map((code) => z.literal(code)));
export type ExitCode = z.infer<typeof ExitCodeSchema>;

/** Their names, in the same order. */
export const ExitCodeNameSchema = z.enum(EXIT_CODE_NAMES_ASCENDING);
export type ExitCodeName = z.infer<typeof ExitCodeNameSchema>;

/** How an artifact looked when a decision read it back. */
export const ArtifactReadStatusSchema = z.enum([
  "verified",
  "missing",
  "not-indexed",
  "hash-mismatch",
  "unreadable",
  "schema-invalid",
]);
export type ArtifactReadStatus = z.infer<typeof ArtifactReadStatusSchema>;

/** An artifact a decision read: its path, the hash the index promised and what was found. */
export const ArtifactReadSchema = z.object({
  path: z.string(),
  status: ArtifactReadStatusSchema,
  indexedSha256: Sha256HexSchema.optional(),
  actualSha256: Sha256HexSchema.optional(),
  problem: z.string().optional(),
});
export type ArtifactRead = z.infer<typeof ArtifactReadSchema>;

/** `11-report/exit-code.json`: the decision, the rule that fired, and every artifact read to reach it. */
export const ExitCodeRecordSchema = z.object({
  schemaVersion: SchemaVersion1,
  run: RunRefSchema,
  exitCode: ExitCodeSchema,
  name: ExitCodeNameSchema,
  /** Id of the rule that fired, e.g. "220.regressions". */
  rule: z.string(),
  reasons: z.array(z.string()).min(1),
  decidedAt: TimestampSchema,
  /** Merkle root of the sealed run this decision was computed against. */
  merkleRoot: Sha256HexSchema.optional(),
  artifactsRead: z.array(ArtifactReadSchema),
});
export type ExitCodeRecord = z.infer<typeof ExitCodeRecordSchema>;

/** `11-report/final-report.json`: the run's outcome for RMM tools, dashboards and auditors. */
export const FinalReportSchema = z.object({
  schemaVersion: SchemaVersion1,
  run: RunRefSchema,
  generatedAt: TimestampSchema,
  exitCode: ExitCodeSchema,
  exitCodeName: ExitCodeNameSchema,
  reasons: z.array(z.string()),
  updates: z.object({
    applicable: z.number().int().min(0),
    approved: z.number().int().min(0),
    installed: z.number().int().min(0),
    failed: z.number().int().min(0),
  }),
  regressions: z.number().int().min(0),
  /** Issue 20: what was done about the regression (from 12-remediation/remediation.json), in runs that remediated. */
  remediation: z
    .object({
      mode: z.enum(["none", "uninstall", "restoreSnapshot"]),
      outcome: z.enum(["recovered", "still-failing", "not-possible"]),
      reason: z.string(),
      regressionsAfter: z.number().int().min(0).optional(),
    })
    .optional(),
  reboot: z.string(),
  compliance: z.array(
    z.object({
      framework: z.enum(["NIST SP 800-40r4", "NIST SP 800-53r5", "CIS Controls v8"]),
      control: z.string(),
      artifacts: z.array(z.object({ path: z.string(), sha256: Sha256HexSchema })),
    }),
  ),
  evidence: z.object({
    merkleRoot: Sha256HexSchema,
    eventsChainHead: Sha256HexSchema,
    exitCodeSha256: Sha256HexSchema,
  }),
});
export type FinalReport = z.infer<typeof FinalReportSchema>;
