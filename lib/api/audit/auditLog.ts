import type { TableClient, TransactionAction } from "@azure/data-tables";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { canonicalJson } from "../../evidence/canonicalJson";
import { isStatus } from "../../evidence/errors";
import { GENESIS_HASH, type ChainVerification } from "../../evidence/hashChain";
import { sha256Hex } from "../../evidence/sha256";
import { Sha256HexSchema, TenantIdSchema, TimestampSchema } from "../../schemas/common";

/** Who made the call: the authenticated caller's kind, id (key id or object id) and display name. */
export const AuditActorSchema = z.strictObject({
  kind: z.enum(["apiKey", "principal"]),
  id: z.string().min(1),
  name: z.string(),
});
export type AuditActor = z.infer<typeof AuditActorSchema>;

/**
 * One API call that read or exported evidence. Strict, so a field added to a stored event is refused rather than
 * silently dropped before the hash is recomputed.
 */
export const AuditEventSchema = z.strictObject({
  schemaVersion: z.literal(1),
  tenant: TenantIdSchema,
  /** 0-based position in the tenant's chain. */
  seq: z.number().int().min(0),
  at: TimestampSchema,
  actor: AuditActorSchema,
  /** What was done, e.g. `installs.prove`, `runs.verify`, `exports.create`, `artifacts.read`. */
  action: z
    .string()
    .regex(/^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$/, "must be dotted lower camel case, e.g. runs.verify"),
  /** The request path. */
  resource: z.string().min(1),
  /** HTTP status answered. */
  outcome: z.number().int().min(100).max(599),
  requestId: z.string().min(1),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  prevHash: Sha256HexSchema,
  /** SHA-256 of the canonical JSON of the event without `hash`. */
  hash: Sha256HexSchema,
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** What the route records; tenant, sequence, chaining and hashing are added by {@link AuditLog.append}. */
export type AuditEventInput = Omit<AuditEvent, "schemaVersion" | "tenant" | "seq" | "prevHash" | "hash">;

/** How hard {@link AuditLog.append} tries when other appends to the same tenant keep winning. */
export interface AppendOptions {
  /** Attempts before giving up (default 20). */
  maxAttempts?: number;
  /** Upper bound of the first retry's random delay, doubled per attempt up to 32x (default 10 ms). */
  backoffMs?: number;
}

/** Other appends to the tenant's chain won every attempt; nothing was written by this one. */
export class AuditContentionError extends Error {
  constructor(
    readonly tenant: string,
    readonly attempts: number,
  ) {
    super(`audit log of ${tenant}: ${attempts} attempts to append all lost to concurrent appends; nothing was written`);
    this.name = "AuditContentionError";
  }
}

/** A stored audit row that is not an audit event (edited or damaged storage). */
export class AuditRowError extends Error {
  constructor(
    readonly tenant: string,
    readonly rowKey: string,
    readonly reason: string,
  ) {
    super(`audit log of ${tenant}, row ${rowKey}: ${reason}`);
    this.name = "AuditRowError";
  }
}

/** The chain's last event, as the head row records it. */
export interface AuditHead {
  seq: number;
  hash: string;
}

const HEAD_ROW_KEY = "head";
const SEQ_DIGITS = 12;
const LAST_SEQ_KEY = "9".repeat(SEQ_DIGITS);
const rowKeyOf = (seq: number): string => String(seq).padStart(SEQ_DIGITS, "0");

const HeadRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.literal(HEAD_ROW_KEY),
  seq: z.number().int().min(0),
  hash: Sha256HexSchema,
  etag: z.string(),
});

const EventRowSchema = z.object({ partitionKey: z.string(), rowKey: z.string(), event: z.string() });

/** SHA-256 over the canonical JSON of an audit event without its `hash` field. */
export function auditEventHash(event: Omit<AuditEvent, "hash">): string {
  return sha256Hex(canonicalJson(event));
}

/**
 * The `AuditLog` table: one hash chain per tenant (PK tenant, RK seq zero-padded to 12 digits) and a `head` row
 * with the last seq and hash. Each append writes its event and moves the head in ONE entity-group transaction,
 * conditional on the head it read (create when there is none, else If-Match its ETag): two concurrent appends
 * cannot both take a seq, and a losing one re-reads the head and tries again, so appends are linearizable and the
 * chain has no gaps or forks.
 */
export class AuditLog {
  constructor(private readonly table: TableClient) {}

  /** Appends one event to the tenant's chain and returns it as stored. */
  async append(tenant: string, input: AuditEventInput, options: AppendOptions = {}): Promise<AuditEvent> {
    TenantIdSchema.parse(tenant);
    const maxAttempts = options.maxAttempts ?? 20;
    const backoffMs = options.backoffMs ?? 10;
    for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
      if (attempt > 0) await sleep(Math.random() * backoffMs * 2 ** Math.min(attempt - 1, 5));
      const head = await this.readHead(tenant);
      const seq = head === undefined ? 0 : head.seq + 1;
      const body: Omit<AuditEvent, "hash"> = {
        schemaVersion: 1,
        tenant,
        seq,
        at: input.at,
        actor: input.actor,
        action: input.action,
        resource: input.resource,
        outcome: input.outcome,
        requestId: input.requestId,
        ...(input.details === undefined ? {} : { details: input.details }),
        prevHash: head === undefined ? GENESIS_HASH : head.hash,
      };
      // Validates the caller's input before anything is written (a bad event must not enter the chain).
      const event = AuditEventSchema.parse({ ...body, hash: auditEventHash(body) });
      const headRow = { partitionKey: tenant, rowKey: HEAD_ROW_KEY, seq, hash: event.hash };
      const actions: TransactionAction[] = [
        [
          "create",
          {
            partitionKey: tenant,
            rowKey: rowKeyOf(seq),
            event: canonicalJson(event),
            at: event.at,
            action: event.action,
            actorId: event.actor.id,
          },
        ],
        head === undefined ? ["create", headRow] : ["update", headRow, "Replace", { etag: head.etag }],
      ];
      try {
        await this.table.submitTransaction(actions);
        return event;
      } catch (error) {
        // 409: the seq row (or the first head) exists; 412: the head moved. Another append won; read it again.
        if (!isStatus(error, 409) && !isStatus(error, 412)) throw error;
      }
    }
    throw new AuditContentionError(tenant, maxAttempts);
  }

  /** The tenant's events in seq order, from `fromSeq` (default 0), at most `limit`. */
  async read(tenant: string, options: { fromSeq?: number; limit?: number } = {}): Promise<AuditEvent[]> {
    const validTenant = TenantIdSchema.parse(tenant);
    const fromSeq = options.fromSeq ?? 0;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const out: AuditEvent[] = [];
    if (limit <= 0) return out;
    // The head row's key sorts after every digit string, so the range below holds only events.
    const filter = `PartitionKey eq '${validTenant}' and RowKey ge '${rowKeyOf(fromSeq)}' and RowKey le '${LAST_SEQ_KEY}'`;
    for await (const entity of this.table.listEntities({ queryOptions: { filter } })) {
      out.push(this.parseRow(validTenant, entity));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The tenant's head row (last seq and hash), or undefined when nothing was appended yet. */
  async head(tenant: string): Promise<AuditHead | undefined> {
    const row = await this.readHead(tenant);
    return row === undefined ? undefined : { seq: row.seq, hash: row.hash };
  }

  private async readHead(tenant: string): Promise<z.infer<typeof HeadRowSchema> | undefined> {
    try {
      return HeadRowSchema.parse(await this.table.getEntity(tenant, HEAD_ROW_KEY));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private parseRow(tenant: string, entity: unknown): AuditEvent {
    const row = EventRowSchema.safeParse(entity);
    if (!row.success) throw new AuditRowError(tenant, "(unknown)", "not an audit row");
    let json: unknown;
    try {
      json = JSON.parse(row.data.event);
    } catch {
      throw new AuditRowError(tenant, row.data.rowKey, "event is not JSON");
    }
    const event = AuditEventSchema.safeParse(json);
    if (!event.success) {
      throw new AuditRowError(
        tenant,
        row.data.rowKey,
        `not an audit event (${event.error.issues[0]?.message ?? "invalid"})`,
      );
    }
    return event.data;
  }
}

/** Re-derives every hash and link of a tenant's audit events (from seq 0); never throws. */
export function verifyAuditChain(tenant: string, events: readonly unknown[]): ChainVerification {
  const problems: string[] = [];
  let prevHash = GENESIS_HASH;
  for (const [i, parsed] of events.entries()) {
    const result = AuditEventSchema.safeParse(parsed);
    if (!result.success) {
      problems.push(`event ${i}: not an audit event (${result.error.issues[0]?.message ?? "invalid"})`);
      return { ok: false, count: events.length, head: prevHash, problems };
    }
    const { hash, ...body } = result.data;
    if (body.seq !== i) problems.push(`event ${i}: seq ${body.seq}, expected ${i}`);
    if (body.tenant !== tenant) problems.push(`event ${i}: belongs to another tenant`);
    if (body.prevHash !== prevHash) problems.push(`event ${i}: prevHash does not match the previous event`);
    const recomputed = auditEventHash(body);
    if (recomputed !== hash) problems.push(`event ${i}: hash ${hash} does not match content (${recomputed})`);
    prevHash = hash;
  }
  return { ok: problems.length === 0, count: events.length, head: prevHash, problems };
}
