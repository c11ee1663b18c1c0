import { z } from "zod";
import { ArtifactReadSchema } from "../artifacts/outcome";
import { RunRefSchema, Sha256HexSchema, TimestampSchema } from "../common";

/** `GET …/runs/{runId}/verify`: lib/evidence/verifyRun.ts's report, plus when it was made. */
export const VerificationReportSchema = z.object({
  run: RunRefSchema,
  ok: z.boolean(),
  merkleRoot: Sha256HexSchema.optional(),
  eventsChainHead: Sha256HexSchema.optional(),
  artifacts: z.array(ArtifactReadSchema),
  seal: z.object({ ok: z.boolean(), problems: z.array(z.string()) }),
  /** Blobs under the run's folder that the index does not list (reported, not failures). */
  unindexed: z.array(z.string()),
  checkedAt: TimestampSchema,
});
export type VerificationReportBody = z.infer<typeof VerificationReportSchema>;
