import { z } from "zod";
import { TimestampSchema } from "../common";
import { ScriptSourceSchema } from "./source";

/** A gate's verdict: `could-not-look` (the evidence was unreadable or absent) never passes. */
export const GateVerdictSchema = z.enum(["pass", "fail", "could-not-look", "refused"]);
export type GateVerdict = z.infer<typeof GateVerdictSchema>;

/** One gate as judged before anything was installed. */
export const GateResultSchema = z.object({
  gate: z.enum(["minFreeDiskMb", "minFreeDiskPercent", "noPendingReboot", "requiredService", "backup", "custom"]),
  /** The service or custom check name; the gate's own name otherwise. */
  name: z.string().min(1).max(256),
  verdict: GateVerdictSchema,
  /** What was observed against what the policy asks, in words. */
  detail: z.string().max(2000),
  /** The policy layer that set the gate (run.json's policyProvenance). */
  setBy: z.string().optional(),
});
export type GateResult = z.infer<typeof GateResultSchema>;

/**
 * `04-pre-validation/gates.json`: the pre-patch gates of the run's effective policy, judged from the verified baseline
 * and the gates script's probes. `passed` is true only when every gate passed.
 */
export const GateReportSchema = z.object({
  schemaVersion: z.literal(1),
  evaluatedAt: TimestampSchema,
  passed: z.boolean(),
  results: z.array(GateResultSchema),
  /** The baseline the disk, reboot and service gates read (by its SHA-256), absent when there was none. */
  baselineSha256: z.string().optional(),
  /** The gates script's run (its transcript under 04-pre-validation/transcripts/). */
  source: ScriptSourceSchema.optional(),
});
export type GateReport = z.infer<typeof GateReportSchema>;
