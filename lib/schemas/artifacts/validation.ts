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
const RegressionEntry = z.object({ app: z.string(), check: z.string(), pre: CheckOutcome, post: CheckOutcome });

/** The seed's shape of one regression (`pattern, preSuccess, postSuccess, notes`). */
const SeedRegression = z.object({
  pattern: z.string(),
  preSuccess: z.boolean(),
  postSuccess: z.boolean(),
  notes: z.string(),
});
const SeedApplication = z.object({ name: z.string(), regressions: z.array(SeedRegression) });
export type SeedApplication = z.infer<typeof SeedApplication>;

/**
 * The regressions grouped by application, in the seed's names (`$r.applications | % { $_.name; $_.regressions }`):
 * applications in order of first appearance, each with its checks (pattern = check name, notes = the POST detail).
 */
export function regressionsByApplication(regressions: readonly z.infer<typeof RegressionEntry>[]): SeedApplication[] {
  const byApp = new Map<string, SeedApplication>();
  for (const r of regressions) {
    const app = byApp.get(r.app) ?? { name: r.app, regressions: [] };
    app.regressions.push({
      pattern: r.check,
      preSuccess: r.pre.success,
      postSuccess: r.post.success,
      notes: r.post.detail,
    });
    byApp.set(r.app, app);
  }
  return [...byApp.values()];
}

/** Compares groupings whatever their objects' key order (stored artifacts are canonical JSON: keys sorted). */
const seedShape = (apps: readonly SeedApplication[]): string =>
  JSON.stringify(
    apps.map((a) => [a.name, a.regressions.map((x) => [x.pattern, x.preSuccess, x.postSuccess, x.notes])]),
  );

export const RegressionsSchema = z
  .object({
    schemaVersion: SchemaVersion1,
    TotalRegressions: z.number().int().min(0),
    regressions: z.array(RegressionEntry),
    /** Checks already failing PRE: reported, never counted as regressions. */
    preExisting: z.array(RegressionEntry),
    /**
     * Seed-compatible alias of `regressions`, grouped by application (absent in older runs). Sealed with the artifact
     * (a Merkle leaf) and required to equal the grouping of `regressions`, so it cannot say something else.
     */
    applications: z.array(SeedApplication).optional(),
  })
  .refine((r) => r.TotalRegressions === r.regressions.length, {
    message: "TotalRegressions must equal the number of regressions listed",
    path: ["TotalRegressions"],
  })
  .refine(
    (r) =>
      r.applications === undefined || seedShape(r.applications) === seedShape(regressionsByApplication(r.regressions)),
    { message: "applications must be the regressions grouped by application", path: ["applications"] },
  );
export type Regressions = z.infer<typeof RegressionsSchema>;
