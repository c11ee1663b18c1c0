import { z } from "zod";
import { ClientIdSchema, KbSchema, RunIdSchema, SchemaVersion1, TenantIdSchema, TimestampSchema } from "./common";

/** What is quarantined: a Windows KB, or a Linux package by name (every version, until lifted). */
export const QuarantinedUpdateSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("kb"), kb: KbSchema }),
  z.object({ kind: z.literal("package"), name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/) }),
]);
export type QuarantinedUpdate = z.infer<typeof QuarantinedUpdateSchema>;

/**
 * Where a quarantine applies: one client (a regression remediated in one of its runs, issue 20) or the whole MSP
 * tenant (a KB that regressed at several clients, issue 23).
 */
export const QuarantineScopeSchema = z.enum(["client", "tenant"]);
export type QuarantineScope = z.infer<typeof QuarantineScopeSchema>;

/** Why it was quarantined: the runs (and so the clients) whose evidence showed the regression. */
export const QuarantineSourceSchema = z.object({
  runs: z.array(RunIdSchema),
  clients: z.array(ClientIdSchema),
});

/** An operator's lift: who, when, why (the API call is in the audit log too). */
export const QuarantineLiftSchema = z.object({
  at: TimestampSchema,
  by: z.string().min(1).max(200),
  reason: z.string().min(1).max(1000),
});
export type QuarantineLift = z.infer<typeof QuarantineLiftSchema>;

/** One quarantine period of an entry, kept when the entry is lifted and quarantined again. */
export const QuarantinePeriodSchema = z.object({
  quarantinedAt: TimestampSchema,
  quarantinedBy: z.string(),
  reason: z.string(),
  source: QuarantineSourceSchema,
  lifted: QuarantineLiftSchema,
});

/**
 * A quarantined update (table `Quarantine`, PK tenant, RK id). While not lifted, every run of its scope excludes the
 * update (lib/domain/policy/applyQuarantine.ts) and its catalog says why. The id is derived from scope and update,
 * so quarantining the same update twice finds the first entry.
 */
export const QuarantineEntrySchema = z
  .object({
    schemaVersion: SchemaVersion1,
    id: z.string().min(1),
    tenant: TenantIdSchema,
    scope: QuarantineScopeSchema,
    /** The client of a client-scope entry; absent for tenant scope. */
    client: ClientIdSchema.optional(),
    update: QuarantinedUpdateSchema,
    reason: z.string().min(1).max(2000),
    source: QuarantineSourceSchema,
    quarantinedAt: TimestampSchema,
    /** `patchpilot` when a rule quarantined it, else the principal. */
    quarantinedBy: z.string().min(1).max(200),
    lifted: QuarantineLiftSchema.optional(),
    /** Earlier periods of the same entry, oldest first. */
    history: z.array(QuarantinePeriodSchema),
  })
  .refine((e) => (e.scope === "client") === (e.client !== undefined), {
    message: "client is required for scope client and absent for scope tenant",
    path: ["client"],
  });
export type QuarantineEntry = z.infer<typeof QuarantineEntrySchema>;

/** What a caller asks to quarantine (the store adds id, schema version and history). */
export type QuarantineRequest = Omit<QuarantineEntry, "schemaVersion" | "id" | "lifted" | "history">;

/** `+` and `:` (legal in package names) as `~2b` / `~3a`, so an id holds only [A-Za-z0-9._~-]. */
const encodeName = (name: string): string =>
  name.replace(/[^A-Za-z0-9._-]/g, (c) => `~${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/**
 * The entry id for a scope and update: stable, and only [A-Za-z0-9._~-], so it is safe as a table row key and as a
 * URL path segment (no `:` to clash with `…/{id}:lift`).
 */
export function quarantineId(scope: QuarantineScope, client: string | undefined, update: QuarantinedUpdate): string {
  const where = scope === "tenant" ? "tenant" : `client.${client ?? ""}`;
  const what = update.kind === "kb" ? `kb.${update.kb}` : `package.${encodeName(update.name)}`;
  return `${where}.${what}`;
}
