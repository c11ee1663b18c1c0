import { z } from "zod";
import { Sha256HexSchema } from "../common";
import { ScriptErrorSchema, ScriptIdSchema, SemverSchema } from "../device/envelope";

/** Which device script produced an artifact, by the SHA-256 of the exact text sent, and which run command ran it. */
export const ScriptSourceSchema = z.object({
  scriptId: ScriptIdSchema,
  scriptVersion: SemverSchema,
  scriptSha256: Sha256HexSchema,
  runCommandName: z.string().min(1).max(36),
  /** Artifact path of the raw stdout kept as evidence. */
  transcript: z.string().min(1),
});
export type ScriptSource = z.infer<typeof ScriptSourceSchema>;

/** Provenance fields every device-derived artifact carries (optional so backend-built samples stay valid). */
export const deviceProvenance = {
  source: ScriptSourceSchema.optional(),
  /** Sections the script could not collect (they appear as empty lists in the artifact): "could not look", not "none". */
  collectionErrors: z.array(ScriptErrorSchema).optional(),
};
