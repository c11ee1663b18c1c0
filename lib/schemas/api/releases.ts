import { z } from "zod";
import { Sha256HexSchema, TenantIdSchema, TimestampSchema } from "../common";
import { ReleaseIdSchema } from "../release";

/** Path of a release's routes. */
export const ReleaseParamsSchema = z.object({ tenant: TenantIdSchema, releaseId: ReleaseIdSchema });

/** `POST …/releases/{releaseId}/approvals`: an optional comment; the approver is the authenticated caller. */
export const ApproveReleaseBodySchema = z.object({ comment: z.string().max(2000).optional() }).strict();

/** One release as listed: enough to choose which one to approve. */
export const ReleaseSummarySchema = z.object({
  id: ReleaseIdSchema,
  ring: z.string(),
  windowId: z.string(),
  sealedAt: TimestampSchema,
  sha256: Sha256HexSchema,
  updates: z.array(z.string()),
  /** False when a re-cut replaced it. */
  current: z.boolean(),
  replaces: ReleaseIdSchema.optional(),
});

export const ReleaseListResponseSchema = z.object({ releases: z.array(ReleaseSummarySchema) });

export const ApprovalResponseSchema = z.object({
  release: z.object({ id: ReleaseIdSchema, sha256: Sha256HexSchema }),
  principal: z.string(),
  at: TimestampSchema,
  /** The sealed approval document (create-once beside the release). */
  evidence: z.object({ path: z.string(), sha256: Sha256HexSchema }),
  created: z.boolean(),
});
