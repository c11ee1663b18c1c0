import { z } from "zod";
import { SchemaVersion1, TimestampSchema } from "../common";
import { deviceProvenance } from "./source";

/** One try of one check. */
export const CheckAttemptSchema = z.object({
  at: TimestampSchema,
  success: z.boolean(),
  detail: z.string().max(4000),
});

/** The outcome of one check after its attempts. */
export const CheckResultSchema = z.object({
  app: z.string(),
  check: z.string(),
  type: z.enum(["http", "service", "tcp", "process", "script", "eventlog"]),
  success: z.boolean(),
  attempts: z.array(CheckAttemptSchema).min(1),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

/** `04-pre-validation/pre-validation.json` and `08-post-validation/post-validation.json`. */
export const ValidationReportSchema = z.object({
  ...deviceProvenance,
  schemaVersion: SchemaVersion1,
  stage: z.enum(["pre", "post"]),
  startedAt: TimestampSchema,
  results: z.array(CheckResultSchema),
});
export type ValidationReport = z.infer<typeof ValidationReportSchema>;

const CheckOutcome = z.object({ success: z.boolean(), detail: z.string() });

/**
 * `08-post-validation/regressions.json`: checks that passed PRE and fail POST (after their attempts).
 * `TotalRegressions` keeps the seed engine's field name, so existing RMM checks (`$r.TotalRegressions`) still work;
 * it must equal the number of regressions, or the artifact is invalid.
 */
export const RegressionsSchema = z
  .object({
    schemaVersion: SchemaVersion1,
    TotalRegressions: z.number().int().min(0),
    regressions: z.array(z.object({ app: z.string(), check: z.string(), pre: CheckOutcome, post: CheckOutcome })),
    /** Checks already failing PRE: reported, never counted as regressions. */
    preExisting: z.array(z.object({ app: z.string(), check: z.string(), pre: CheckOutcome, post: CheckOutcome })),
  })
  .refine((r) => r.TotalRegressions === r.regressions.length, {
    message: "TotalRegressions must equal the number of regressions listed",
    path: ["TotalRegressions"],
  });
export type Regressions = z.infer<typeof RegressionsSchema>;
