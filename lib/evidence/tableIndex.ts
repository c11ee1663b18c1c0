import type { TableClient, TableEntity } from "@azure/data-tables";
import type { z } from "zod";
import type { RunRef } from "../schemas/common";
import {
  ArtifactRowSchema,
  InstallRowSchema,
  RunRowSchema,
  type ArtifactRow,
  type InstallRow,
  type RunRow,
} from "../schemas/tableRows";
import type { StoredArtifact } from "./blobStore";
import { IndexConflictError, isStatus } from "./errors";
import { installsPartition, installsRowKey, runsPartition, toTableKey } from "./keys";

/** Azure Table transactions take at most 100 operations, all in one partition. */
const MAX_BATCH = 100;

type Row = TableEntity<Record<string, unknown>>;

/** Counts of table operations, for benchmarks and tests. */
export interface IndexStats {
  transactions: number;
  queries: number;
}

/** What the audit index records for one update outcome. */
export interface InstallIndexRecord {
  updateId: string;
  kb?: string;
  title: string;
  installed: boolean;
  result: string;
  finishedAt: string;
  line: number;
}

/** Which rows of a device's audit partition {@link EvidenceIndex.queryInstalls} returns. */
export interface InstallsFilter {
  /** The update as the RowKey holds it (KB, else update id): a RowKey range, exact match after. */
  updateKey?: string;
  /** Rows whose `updateId` field is this, whether keyed by it or by their KB: a server-side property filter. */
  updateId?: string;
  /**
   * Coarse server-side bounds on the `finishedAt` string, compared as text: `[ge, lt)`. Callers widen them enough to
   * absorb UTC offsets and filter exactly on parsed instants afterwards.
   */
  finishedAtText?: { ge: string; lt: string };
}

/** Result of {@link EvidenceIndex.queryInstalls}: valid rows, and rows that fail the schema (a damaged index). */
export interface InstallsQueryResult {
  rows: InstallRow[];
  invalid: { rowKey: string; problem: string }[];
}

/** One Artifacts row looked up by path: found (valid), absent, or present but not a valid row. */
export type ArtifactRowLookup =
  { status: "found"; row: ArtifactRow } | { status: "missing" } | { status: "invalid"; problem: string };

/**
 * The tables the index reads and writes. Declared here, not taken from lib/azure's StorageClients (which satisfies it),
 * so lib/evidence depends on the SDK's types only and lib/azure may depend on lib/evidence, never the other way.
 */
export interface EvidenceTables {
  runs: TableClient;
  artifacts: TableClient;
  installs: TableClient;
}

/** Quotes a value for an OData filter (single quotes doubled). */
function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The Artifacts row {@link EvidenceIndex.indexArtifacts} writes for a stored artifact: exactly what the table holds
 * once the create-once write succeeded (a retry that found the row compared every field), so a session that indexed
 * it can use it without reading it back.
 */
export function artifactRowOf(run: RunRef, a: StoredArtifact & { merkleLeaf: boolean }): ArtifactRow {
  return {
    partitionKey: run.runId,
    rowKey: toTableKey(a.path),
    path: a.path,
    blobName: a.blobName,
    sha256: a.sha256,
    size: a.size,
    merkleLeaf: a.merkleLeaf,
    ...(a.versionId ? { versionId: a.versionId } : {}),
  };
}

/**
 * The SHA-256 index (`Artifacts`), the audit index (`Installs`) and the run records (`Runs`). Index rows are
 * written once: a retried write of the same rows succeeds, a write that would change a row fails with
 * {@link IndexConflictError} and changes nothing.
 */
export class EvidenceIndex {
  readonly stats: IndexStats = { transactions: 0, queries: 0 };

  constructor(private readonly tables: EvidenceTables) {}

  /** Indexes stored artifacts of a run; `merkleLeaf` marks those covered by the run's Merkle root. */
  async indexArtifacts(run: RunRef, artifacts: readonly (StoredArtifact & { merkleLeaf: boolean })[]): Promise<void> {
    const rows: Row[] = artifacts.map((a) => artifactRowOf(run, a));
    await this.createOnce(this.tables.artifacts, run.runId, rows);
  }

  /** Every indexed artifact of a run, keyed by artifact path. */
  async readArtifacts(runId: string): Promise<Map<string, ArtifactRow>> {
    const rows = await this.queryPartition(this.tables.artifacts, runId, ArtifactRowSchema);
    return new Map(rows.map((r) => [r.path, r]));
  }

  /** Adds a run's update outcomes to the audit index, pointing at the artifact that proves them. */
  async indexInstalls(
    run: RunRef,
    artifact: Pick<StoredArtifact, "path" | "sha256">,
    records: readonly InstallIndexRecord[],
  ): Promise<void> {
    const partitionKey = installsPartition(run.tenant, run.device);
    const rows: Row[] = records.map((r) => ({
      partitionKey,
      rowKey: installsRowKey(r.kb ?? r.updateId, run.runId),
      tenant: run.tenant,
      client: run.client,
      device: run.device,
      runId: run.runId,
      updateId: r.updateId,
      ...(r.kb ? { kb: r.kb } : {}),
      title: r.title,
      installed: r.installed,
      result: r.result,
      finishedAt: r.finishedAt,
      artifactPath: artifact.path,
      artifactSha256: artifact.sha256,
      line: r.line,
    }));
    await this.createOnce(this.tables.installs, partitionKey, rows);
  }

  /** Audit index rows of a device (all, or one update's). */
  async readInstalls(tenant: string, device: string, updateKey?: string): Promise<InstallRow[]> {
    const rows = await this.queryPartition(this.tables.installs, installsPartition(tenant, device), InstallRowSchema);
    if (updateKey === undefined) return rows;
    const prefix = `${toTableKey(updateKey)}|`;
    return rows.filter((r) => r.rowKey.startsWith(prefix));
  }

  /**
   * Audit index rows of a device matching `filter`, in ONE query: a RowKey range for an update key (Azure serves it
   * from the partition's key order instead of reading every row of the device), property filters otherwise.
   */
  async queryInstalls(tenant: string, device: string, filter: InstallsFilter = {}): Promise<InstallsQueryResult> {
    const clauses = [`PartitionKey eq ${odataString(installsPartition(tenant, device))}`];
    if (filter.updateKey !== undefined) {
      const key = toTableKey(filter.updateKey);
      // "}" is the character after "|": the range holds exactly the row keys that start with "KEY|".
      clauses.push(`RowKey ge ${odataString(`${key}|`)}`, `RowKey lt ${odataString(`${key}}`)}`);
    }
    if (filter.updateId !== undefined) clauses.push(`updateId eq ${odataString(filter.updateId)}`);
    if (filter.finishedAtText !== undefined) {
      clauses.push(
        `finishedAt ge ${odataString(filter.finishedAtText.ge)}`,
        `finishedAt lt ${odataString(filter.finishedAtText.lt)}`,
      );
    }
    this.stats.queries += 1;
    const result: InstallsQueryResult = { rows: [], invalid: [] };
    for await (const entity of this.tables.installs.listEntities({ queryOptions: { filter: clauses.join(" and ") } })) {
      const parsed = InstallRowSchema.safeParse(entity);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        result.invalid.push({
          rowKey: String(entity.rowKey),
          problem: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
        });
        continue;
      }
      // An update id may itself contain "|", so the range can hold a longer key's rows; keep only exact matches.
      if (filter.updateKey !== undefined && (parsed.data.kb ?? parsed.data.updateId) !== filter.updateKey) continue;
      result.rows.push(parsed.data);
    }
    return result;
  }

  /** One Artifacts row by run and path: a point read, the cheapest lookup Table storage serves. */
  async getArtifact(runId: string, path: string): Promise<ArtifactRowLookup> {
    let entity: Record<string, unknown>;
    try {
      this.stats.queries += 1;
      entity = await this.tables.artifacts.getEntity(runId, toTableKey(path));
    } catch (error) {
      if (isStatus(error, 404)) return { status: "missing" };
      throw error;
    }
    const parsed = ArtifactRowSchema.safeParse(entity);
    if (parsed.success) return { status: "found", row: parsed.data };
    const issue = parsed.error.issues[0];
    return { status: "invalid", problem: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}` };
  }

  /** Creates or updates a run's status row (the one mutable record: it tracks progress, it is not evidence). */
  async upsertRun(
    run: RunRef,
    fields: Pick<RunRow, "status"> & Partial<Omit<RunRow, "partitionKey" | "rowKey" | "device">>,
  ): Promise<void> {
    this.stats.transactions += 1;
    await this.tables.runs.upsertEntity(
      { partitionKey: runsPartition(run.tenant, run.client), rowKey: run.runId, device: run.device, ...fields },
      "Merge",
    );
  }

  /** A run's status row, or undefined. */
  async getRun(tenant: string, client: string, runId: string): Promise<RunRow | undefined> {
    try {
      this.stats.queries += 1;
      const entity = await this.tables.runs.getEntity(runsPartition(tenant, client), runId);
      return RunRowSchema.parse(entity);
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private async queryPartition<S extends z.ZodType>(
    table: TableClient,
    partitionKey: string,
    schema: S,
  ): Promise<z.infer<S>[]> {
    return (await this.listPartition(table, partitionKey)).map((entity) => schema.parse(entity));
  }

  private async listPartition(table: TableClient, partitionKey: string): Promise<Record<string, unknown>[]> {
    this.stats.queries += 1;
    const out: Record<string, unknown>[] = [];
    const filter = `PartitionKey eq '${partitionKey.replace(/'/g, "''")}'`;
    for await (const entity of table.listEntities({ queryOptions: { filter } })) out.push(entity);
    return out;
  }

  private async createOnce(table: TableClient, partitionKey: string, rows: readonly Row[]): Promise<void> {
    for (let i = 0; i < rows.length; i += MAX_BATCH) {
      const chunk = rows.slice(i, i + MAX_BATCH);
      try {
        this.stats.transactions += 1;
        await table.submitTransaction(chunk.map((row) => ["create", row]));
        continue;
      } catch (error) {
        // 409 EntityAlreadyExists: some rows were written by an earlier attempt. Anything else is not ours to absorb.
        if (!isStatus(error, 409)) throw error;
      }
      await this.createMissing(table, partitionKey, chunk);
    }
  }

  /** Reconciles a retried batch: identical rows are fine, differing rows are a conflict, absent rows are created. */
  private async createMissing(table: TableClient, partitionKey: string, chunk: readonly Row[]): Promise<void> {
    const existing = new Map((await this.listPartition(table, partitionKey)).map((e) => [String(e.rowKey), e]));
    const missing: Row[] = [];
    for (const row of chunk) {
      const found = existing.get(row.rowKey);
      if (found === undefined) {
        missing.push(row);
        continue;
      }
      for (const [key, value] of Object.entries(row)) {
        if (found[key] !== value) {
          throw new IndexConflictError(
            table.tableName,
            partitionKey,
            row.rowKey,
            `${key} is ${JSON.stringify(found[key])}, not ${JSON.stringify(value)}`,
          );
        }
      }
    }
    if (missing.length > 0) {
      this.stats.transactions += 1;
      await table.submitTransaction(missing.map((row) => ["create", row]));
    }
  }
}
