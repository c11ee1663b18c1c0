import { z } from "zod";
import { Sha256HexSchema, TenantIdSchema } from "../common";

/** Path of the transparency routes. */
export const TransparencyParamsSchema = z.object({ tenant: TenantIdSchema });

const size = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** `?size=N`: a checkpoint of that tree size; the latest when absent. */
export const CheckpointQuerySchema = z.object({ size: size.optional() }).strict();

/** `?from=M&to=N`: the consistency proof between two checkpoints; `to` is the latest when absent. */
export const ConsistencyQuerySchema = z.object({ from: size, to: size.optional() }).strict();

/** An RFC 6962 §2.1.2 consistency proof between two tree sizes of a tenant's log. */
export const ConsistencyProofSchema = z.object({
  origin: z.string(),
  algorithm: z.literal("rfc6962-sha256"),
  from: z.number().int().min(0),
  to: z.number().int().min(0),
  /** Hex nodes, in the order RFC 6962's PROOF(m, D[n]) lists them. */
  proof: z.array(Sha256HexSchema),
});
export type ConsistencyProof = z.infer<typeof ConsistencyProofSchema>;
