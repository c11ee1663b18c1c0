import { z } from "zod";
import { DeviceIdSchema, KbSchema, Sha256HexSchema, TenantIdSchema, TimestampSchema } from "../common";

/** Longest `from`..`to` window one audit query may span (a year plus a margin for fiscal years that do not align). */
export const MAX_INSTALLS_RANGE_DAYS = 400;

const DAY_MS = 86_400_000;

/** A calendar day in UTC, `YYYY-MM-DD`; 2026-02-30 is refused rather than rolled over to March. */
export const UtcDaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: "must be a day as YYYY-MM-DD", abort: true })
  .refine((day) => {
    const parsed = new Date(`${day}T00:00:00.000Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === day;
  }, "is not a calendar day");

/** A range bound: a UTC day or a full ISO 8601 timestamp with offset. */
export const RangeBoundSchema = z.union([UtcDaySchema, TimestampSchema], {
  error: "must be a day as YYYY-MM-DD or an ISO 8601 timestamp with offset",
});

/** Path parameters of `GET /api/v1/tenants/{tenant}/devices/{device}/installs`. */
export const InstallsParamsSchema = z.object({ tenant: TenantIdSchema, device: DeviceIdSchema });
export type InstallsParams = z.infer<typeof InstallsParamsSchema>;

/** Update ids are WUA GUIDs or Linux package names; bounded so a query string cannot smuggle a huge filter. */
const UpdateIdSchema = z.string().min(1).max(200);

/** Start (inclusive) of a bound: a day starts at 00:00 UTC. */
function boundStart(value: string): number {
  return Date.parse(value.length === 10 ? `${value}T00:00:00.000Z` : value);
}

/** End (exclusive) of a bound: a day as `to` includes the whole day, a timestamp is the instant itself. */
function boundEnd(value: string): number {
  return value.length === 10 ? boundStart(value) + DAY_MS : Date.parse(value);
}

/**
 * Query string of the audit route. `kb` or `updateId` picks one update (neither: every update); `on` is one UTC day,
 * `from`/`to` a window (a day as `to` includes that day); neither: every record. Unknown parameters are refused.
 */
export const InstallsQuerySchema = z
  .strictObject({
    kb: KbSchema.optional(),
    updateId: UpdateIdSchema.optional(),
    on: UtcDaySchema.optional(),
    from: RangeBoundSchema.optional(),
    to: RangeBoundSchema.optional(),
  })
  .superRefine((q, ctx) => {
    if (q.kb !== undefined && q.updateId !== undefined) {
      ctx.addIssue({ code: "custom", path: ["updateId"], message: "give kb or updateId, not both" });
    }
    if (q.on !== undefined) {
      for (const field of ["from", "to"] as const) {
        if (q[field] !== undefined) ctx.addIssue({ code: "custom", path: [field], message: "on excludes from and to" });
      }
      return;
    }
    // A window needs both ends: an open end would make the 400-day bound meaningless.
    if (q.from !== undefined && q.to === undefined)
      ctx.addIssue({ code: "custom", path: ["to"], message: "required with from" });
    if (q.to !== undefined && q.from === undefined)
      ctx.addIssue({ code: "custom", path: ["from"], message: "required with to" });
    if (q.from === undefined || q.to === undefined) return;
    // zod still runs this refinement when a bound failed its own schema; that bound already has its issue.
    if (!RangeBoundSchema.safeParse(q.from).success || !RangeBoundSchema.safeParse(q.to).success) return;
    const start = boundStart(q.from);
    const end = boundEnd(q.to);
    if (!(start < end)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
    else if (end - start > MAX_INSTALLS_RANGE_DAYS * DAY_MS) {
      ctx.addIssue({ code: "custom", path: ["to"], message: `at most ${MAX_INSTALLS_RANGE_DAYS} days after from` });
    }
  });
export type InstallsQuery = z.infer<typeof InstallsQuerySchema>;

/** The instants a valid query covers, `[start, end)` in epoch ms; absent ends are open. */
export interface InstallsWindow {
  start?: number;
  end?: number;
}

/** Resolves `on` / `from` / `to` of a parsed query into epoch-ms bounds. */
export function installsWindow(query: InstallsQuery): InstallsWindow {
  if (query.on !== undefined) return { start: boundStart(query.on), end: boundEnd(query.on) };
  return {
    ...(query.from !== undefined ? { start: boundStart(query.from) } : {}),
    ...(query.to !== undefined ? { end: boundEnd(query.to) } : {}),
  };
}

/** One recomputed check of a proof; `detail` says what differed. */
export const ProofCheckSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() });
export type ProofCheck = z.infer<typeof ProofCheckSchema>;

/** One install record with everything an auditor needs to check it without trusting PatchPilot. */
export const InstallProofSchema = z.object({
  // Strings, not the id schemas: a record refused by the scope check is still reported as the index holds it.
  runId: z.string(),
  client: z.string(),
  updateId: z.string(),
  kb: z.string().optional(),
  title: z.string(),
  installed: z.boolean(),
  result: z.string(),
  finishedAt: z.string(),
  evidence: z.object({
    artifactPath: z.string(),
    /** SHA-256 the audit index holds for the artifact. */
    sha256: Sha256HexSchema,
    size: z.number().int().min(0).optional(),
    /** 1-based line of the JSONL artifact that records this outcome. */
    line: z.number().int().min(1),
    /** SHA-256 of that line's UTF-8 bytes, without its terminating newline; absent when the line cannot be read. */
    lineSha256: Sha256HexSchema.optional(),
    href: z.string(),
  }),
  /** RFC 6962 inclusion proof of the artifact's leaf (canonical JSON {path, sha256}) in the run's sealed tree. */
  merkle: z
    .object({
      root: Sha256HexSchema,
      leafIndex: z.number().int().min(0),
      treeSize: z.number().int().min(1),
      leafHash: Sha256HexSchema,
      auditPath: z.array(Sha256HexSchema),
    })
    .optional(),
  manifest: z.object({ path: z.string(), sha256: Sha256HexSchema, sealedAt: TimestampSchema }).optional(),
  eventsChainHead: Sha256HexSchema.optional(),
  verification: z.object({
    ok: z.boolean(),
    checkedAt: TimestampSchema,
    checks: z.array(ProofCheckSchema),
  }),
});
export type InstallProof = z.infer<typeof InstallProofSchema>;

/** An Installs row that could not be read as one (a damaged index), reported rather than dropped silently. */
export const UnreadableInstallRowSchema = z.object({ rowKey: z.string(), problem: z.string() });
export type UnreadableInstallRow = z.infer<typeof UnreadableInstallRowSchema>;

/** Answer of the audit route: every matching record, each proven and verified now. */
export const InstallProofResponseSchema = z.object({
  tenant: TenantIdSchema,
  /** The device as its evidence names it (host names compare case-insensitively; the index keeps one spelling). */
  device: DeviceIdSchema,
  /** The name as asked, when it differs from the evidence's spelling only in letter case. */
  requestedDevice: DeviceIdSchema.optional(),
  query: InstallsQuerySchema,
  generatedAt: TimestampSchema,
  count: z.number().int().min(0),
  records: z.array(InstallProofSchema),
  unreadableRows: z.array(UnreadableInstallRowSchema).optional(),
});
export type InstallProofResponse = z.infer<typeof InstallProofResponseSchema>;
