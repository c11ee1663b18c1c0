import type { TableClient } from "@azure/data-tables";
import { z } from "zod";
import { isStatus } from "../../evidence/errors";
import { sha256Hex } from "../../evidence/sha256";

function etagOf(etag: string | undefined): string {
  if (etag === undefined) throw new Error("Table storage answered without an ETag");
  return etag;
}

/** Another delivery of the same event holds a fresh claim: answer non-2xx so Event Grid redelivers later. */
export class EventInFlightError extends Error {
  constructor(readonly eventId: string) {
    super(`event ${eventId} is being ingested by another delivery; retry later`);
    this.name = "EventInFlightError";
  }
}

const LedgerRowSchema = z.object({
  status: z.enum(["claimed", "ingested"]),
  claimedAt: z.string(),
  eventId: z.string(),
});

/** What a delivery should do with an event; `etag` identifies this delivery's claim (to release it). */
export type LedgerClaim = { kind: "ingest"; etag: string } | { kind: "already-ingested" };

/** Options of {@link IngestionLedger}. */
export interface IngestionLedgerOptions {
  /** How long a claim keeps other deliveries off before it counts as abandoned (a crashed attempt). Default 2 min. */
  leaseMs?: number;
  clock?: () => Date;
}

/**
 * Which events have been ingested, so a redelivered event (Event Grid delivers at least once; our own publisher
 * retries with the same id) adds no second row. An event is claimed before its upload and marked after it: a
 * delivery that finds it marked acks without uploading; one that finds a fresh claim is refused (Event Grid
 * retries); a failed upload releases its claim; a claim older than the lease belonged to a crashed attempt and is
 * taken over under its ETag. The one
 * duplicate left is an upload that succeeded whose mark did not; the KQL dedupes on EventId for that.
 */
export class IngestionLedger {
  private readonly leaseMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly table: TableClient,
    options: IngestionLedgerOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 120_000;
    this.clock = options.clock ?? (() => new Date());
  }

  private key(source: string, id: string): { partitionKey: string; rowKey: string } {
    // CloudEvents identity is source + id; ids may hold characters table keys refuse.
    return { partitionKey: sha256Hex(Buffer.from(`${source}\n${id}`, "utf8")), rowKey: "event" };
  }

  /** Claims an event for ingestion, or says it was ingested already; throws {@link EventInFlightError}. */
  async claim(source: string, id: string): Promise<LedgerClaim> {
    const key = this.key(source, id);
    const now = this.clock().toISOString();
    try {
      const created = await this.table.createEntity({ ...key, status: "claimed", claimedAt: now, eventId: id });
      return { kind: "ingest", etag: etagOf(created.etag) };
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
    }
    const entity = await this.table.getEntity(key.partitionKey, key.rowKey);
    const row = LedgerRowSchema.parse(entity);
    if (row.status === "ingested") return { kind: "already-ingested" };
    if (this.clock().getTime() - Date.parse(row.claimedAt) < this.leaseMs) throw new EventInFlightError(id);
    try {
      const updated = await this.table.updateEntity(
        { ...key, status: "claimed", claimedAt: now, eventId: id },
        "Replace",
        { etag: entity.etag },
      );
      return { kind: "ingest", etag: etagOf(updated.etag) };
    } catch (error) {
      // Another delivery took the abandoned claim over first.
      if (isStatus(error, 412)) throw new EventInFlightError(id);
      throw error;
    }
  }

  /**
   * Gives up this delivery's claim after a failed upload, so Event Grid's next retry (10 s later) ingests at once
   * instead of waiting out the lease: a held claim would push the row, and the 220 alert, past five minutes.
   */
  async release(source: string, id: string, etag: string): Promise<void> {
    const key = this.key(source, id);
    try {
      await this.table.deleteEntity(key.partitionKey, key.rowKey, { etag });
    } catch (error) {
      // 412: another delivery took the claim over meanwhile; it is theirs now.
      if (isStatus(error, 412)) return;
      throw error;
    }
  }

  /** Marks a claimed event as ingested, with what was sent. */
  async markIngested(source: string, id: string, rows: number): Promise<void> {
    await this.table.updateEntity(
      { ...this.key(source, id), status: "ingested", ingestedAt: this.clock().toISOString(), rows },
      "Merge",
    );
  }
}
