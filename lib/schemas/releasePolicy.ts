import { z } from "zod";

/** A count of devices or a percentage of the ring's targeted devices ("80%"). */
const DeviceCountOrPercentSchema = z.union([
  z.number().int().min(0),
  z.string().regex(/^(100|[1-9]?[0-9])%$/, "must be a percentage like 80%"),
]);

/**
 * A window's `release` block (opt-in; docs/releases.md). Present: every ring of the window that ran seals a release
 * (the exact updates its devices installed without a 210/220, each with a proof) and the KBs its 220 runs regressed.
 * `follows`: the window's rings install only what the current release sealed by that ring allows, once the promotion
 * gates pass when the ring is about to start.
 */
export const ReleasePolicySchema = z
  .object({
    /** The ring whose current (promoted, not re-cut) release this window installs, e.g. `{ "ring": "dev" }`. */
    follows: z
      .object({ ring: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/) })
      .strict()
      .optional(),
    gates: z
      .object({
        /** Minimum minutes between the followed ring finishing and this ring starting. */
        soakMinutes: z
          .number()
          .int()
          .min(0)
          .max(60 * 24 * 90)
          .default(0),
        /** Minimum devices of the followed ring that completed without 210/220/240 (count or % of its targets). */
        minSucceeded: DeviceCountOrPercentSchema.default(1),
        /** Hold while any KB of the release regressed (a 220 attributed to it) anywhere in the tenant. */
        noOpenRegression: z.boolean().default(true),
        /** Hold until a principal with Release.Approve approved this release (POST …/releases/{id}/approvals). */
        requireApproval: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** Fleet-wide quarantine: a KB regressed at this many clients of the tenant is quarantined tenant-wide. */
    quarantineAfterClients: z.number().int().min(1).max(1000).default(2),
  })
  .strict();
export type ReleasePolicy = z.infer<typeof ReleasePolicySchema>;
