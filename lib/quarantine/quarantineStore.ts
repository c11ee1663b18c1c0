import type { TableClient } from "@azure/data-tables";
import { isStatus } from "../evidence/errors";
import {
  QuarantineEntrySchema,
  quarantineId,
  type QuarantineEntry,
  type QuarantineLift,
  type QuarantineRequest,
} from "../schemas/quarantine";

/** The entry changed under us more often than we retry; the caller's retry takes over. */
export class QuarantineRaceError extends Error {
  constructor(
    readonly tenant: string,
    readonly id: string,
  ) {
    super(`quarantine entry ${tenant}/${id} kept changing while being written`);
    this.name = "QuarantineRaceError";
  }
}

/** What `quarantine` did: created (or re-opened a lifted entry), or found the update already quarantined. */
export interface QuarantineOutcome {
  entry: QuarantineEntry;
  created: boolean;
}

interface Row {
  partitionKey: string;
  rowKey: string;
  entry: string;
  etag: string;
}

const ATTEMPTS = 3;

/**
 * Quarantined updates in the `Quarantine` table (PK tenant, RK entry id, the entry as JSON). Quarantining is
 * idempotent: an active entry for the same scope and update is returned as it is, so a retried activity or a second
 * regressing run does not change who quarantined it or when. A lifted entry quarantined again keeps the lifted period
 * in its history. Writes go by ETag, so two writers cannot both win.
 */
export class QuarantineStore {
  constructor(private readonly table: TableClient) {}

  /** Quarantines an update for a client or the tenant, or returns the active entry that already does. */
  async quarantine(request: QuarantineRequest): Promise<QuarantineOutcome> {
    const id = quarantineId(request.scope, request.client, request.update);
    const fresh: QuarantineEntry = QuarantineEntrySchema.parse({ ...request, schemaVersion: 1, id, history: [] });
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      try {
        await this.table.createEntity({ partitionKey: request.tenant, rowKey: id, entry: JSON.stringify(fresh) });
        return { entry: fresh, created: true };
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
      }
      const existing = await this.readRow(request.tenant, id);
      if (existing === undefined) continue; // deleted between our create and our read
      const entry = parseRow(existing);
      if (entry.lifted === undefined) return { entry, created: false };
      const { lifted, history, ...was } = entry;
      const reopened: QuarantineEntry = QuarantineEntrySchema.parse({
        ...fresh,
        history: [
          ...history,
          {
            quarantinedAt: was.quarantinedAt,
            quarantinedBy: was.quarantinedBy,
            reason: was.reason,
            source: was.source,
            lifted,
          },
        ],
      });
      if (await this.replace(existing, reopened)) return { entry: reopened, created: true };
    }
    throw new QuarantineRaceError(request.tenant, id);
  }

  /** The entries in force for a client's runs: the tenant's and that client's, not lifted. */
  async activeFor(tenant: string, client: string): Promise<QuarantineEntry[]> {
    return (await this.list(tenant)).filter(
      (e) => e.lifted === undefined && (e.scope === "tenant" || e.client === client),
    );
  }

  /** Every entry of a tenant, lifted ones included, by id. */
  async list(tenant: string): Promise<QuarantineEntry[]> {
    const entries: QuarantineEntry[] = [];
    const rows = this.table.listEntities<{ entry: string }>({
      queryOptions: { filter: `PartitionKey eq '${tenant.replace(/'/g, "''")}'` },
    });
    for await (const row of rows) entries.push(parseRow(row));
    return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** One entry, or undefined when the tenant has none with that id. */
  async get(tenant: string, id: string): Promise<QuarantineEntry | undefined> {
    const row = await this.readRow(tenant, id);
    return row === undefined ? undefined : parseRow(row);
  }

  /**
   * Lifts an entry: later runs may install the update again. Undefined when there is no such entry; an entry already
   * lifted is returned unchanged (a retried lift does not move the time or the operator).
   */
  async lift(tenant: string, id: string, lift: QuarantineLift): Promise<QuarantineEntry | undefined> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const row = await this.readRow(tenant, id);
      if (row === undefined) return undefined;
      const entry = parseRow(row);
      if (entry.lifted !== undefined) return entry;
      const lifted = QuarantineEntrySchema.parse({ ...entry, lifted: lift });
      if (await this.replace(row, lifted)) return lifted;
    }
    throw new QuarantineRaceError(tenant, id);
  }

  private async readRow(tenant: string, id: string): Promise<Row | undefined> {
    try {
      return await this.table.getEntity<Row>(tenant, id);
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Replaces a row read with `etag`; false when someone else changed or removed it first. */
  private async replace(row: Row, entry: QuarantineEntry): Promise<boolean> {
    try {
      await this.table.updateEntity(
        { partitionKey: row.partitionKey, rowKey: row.rowKey, entry: JSON.stringify(entry) },
        "Replace",
        { etag: row.etag },
      );
      return true;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) return false;
      throw error;
    }
  }
}

function parseRow(row: { entry: string }): QuarantineEntry {
  return QuarantineEntrySchema.parse(JSON.parse(row.entry));
}
