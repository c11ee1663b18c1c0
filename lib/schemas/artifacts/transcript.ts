import { z } from "zod";
import { SchemaVersion1, Sha256HexSchema, TimestampSchema } from "../common";
import { ScriptIdSchema, SemverSchema } from "../device/envelope";

/** One raw stream of a run command as kept in evidence; `path` is absent when the stream was empty (nothing stored). */
export const TranscriptStreamSchema = z.object({
  path: z.string().min(1).optional(),
  size: z.number().int().min(0),
  sha256: Sha256HexSchema,
});
export type TranscriptStream = z.infer<typeof TranscriptStreamSchema>;

/**
 * `{phase}/transcripts/{runCommandName}.status.json`: how a run command ended, beside its raw transcripts. It lets a
 * retried activity rebuild the phase's artifacts after the run command itself was deleted.
 */
export const TranscriptStatusSchema = z.object({
  schemaVersion: SchemaVersion1,
  /** What the command did for the run (baseline, preValidation, bootProbe, ...). */
  role: z.string().min(1),
  runCommandName: z.string().min(1).max(36),
  script: z.object({ id: ScriptIdSchema, version: SemverSchema, sha256: Sha256HexSchema }),
  submittedAt: TimestampSchema,
  /** Run Command's execution state (Succeeded, Failed, TimedOut, Canceled, ...) as ARM reported it. */
  executionState: z.string().min(1),
  exitCode: z.number().int().nullable(),
  executionMessage: z.string(),
  startTime: z.string().nullable(),
  endTime: z.string().nullable(),
  /** Set when PatchPilot cancelled the command itself (its deadline passed): when, and why. */
  canceled: z.object({ at: TimestampSchema, reason: z.string() }).optional(),
  stdout: TranscriptStreamSchema,
  stderr: TranscriptStreamSchema,
});
export type TranscriptStatus = z.infer<typeof TranscriptStatusSchema>;
