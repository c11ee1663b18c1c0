import { z } from "zod";
import { TenantIdSchema } from "../common";
import { QuarantineEntrySchema, QuarantineLiftSchema } from "../quarantine";

// Contract of the quarantine routes: the entries are the store's own documents (lib/schemas/quarantine.ts).

/** Path of one entry's routes; ids hold only [A-Za-z0-9._~-] (quarantineId). */
export const QuarantineParamsSchema = z.object({
  tenant: TenantIdSchema,
  id: z.string().regex(/^[A-Za-z0-9._~-]{1,200}$/, "must be a quarantine entry id"),
});

/** `GET …/quarantine?state=`: which entries (default: those in force). */
export const QuarantineListQuerySchema = z.object({ state: z.enum(["active", "lifted", "all"]).default("active") });

export const QuarantineListResponseSchema = z.object({ entries: z.array(QuarantineEntrySchema) });

/** `POST …/quarantine/{id}/lift`: why (who and when come from the caller and the clock). */
export const QuarantineLiftRequestSchema = z.object({ reason: QuarantineLiftSchema.shape.reason }).strict();

export const QuarantineLiftResponseSchema = z.object({
  entry: QuarantineEntrySchema,
  /** True when the entry had been lifted before: nothing changed (the first lift's time and operator stand). */
  alreadyLifted: z.boolean(),
});
