import { z } from "zod";
import { TimestampSchema } from "../common";
import { scriptOutputSchema } from "./envelope";

/**
 * `gates` (phase 04, read-only first stage): runs the MSP's probe scripts (backup provider, custom checks) and reports
 * each one's exit code and the first line of its stdout (the answer; the rest is dropped: it may hold secrets).
 * Disk, pending reboot and services are judged from the baseline of the same bundle, not collected twice.
 */
export const GatesDataSchema = z.object({
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema,
  probes: z
    .array(
      z.object({
        name: z.string().min(1).max(100),
        /** null when it did not run (timed out, no interpreter). */
        exitCode: z.number().int().nullable(),
        /** The first line of its stdout, at most 200 characters. */
        answer: z.string().max(800),
        timedOut: z.boolean(),
        durationMs: z.number().int().min(0),
      }),
    )
    .nullable(),
});
export type GatesData = z.infer<typeof GatesDataSchema>;

export const GatesOutputSchema = scriptOutputSchema("gates", GatesDataSchema);
export type GatesOutput = z.infer<typeof GatesOutputSchema>;
