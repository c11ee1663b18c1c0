import type { TableClient, TableEntity } from "@azure/data-tables";
import type { z } from "zod";
import type { StorageClients } from "../azure/storageClients";
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

/**
 * The SHA-256 index (`Artifacts`), the audit index (`Installs`) and the run records (`Runs`). Index rows are
 * written once: a retried write of the same rows succeeds, a write that would change a row fails with
 * {@link IndexConflictError} and changes nothing.
 */
export class EvidenceIndex {
  readonly stats: IndexStats = { transactions: 0, queries: 0 };

  constructor(private readonly tables: StorageClients["tables"]) {}

  /** Indexes stored artifacts of a run; `merkleLeaf` marks those covered by the run's Merkle root. */
  async indexArtifacts(run: RunRef, artifacts: readonly (StoredArtifact & { merkleLeaf: boolean })[]): Promise<void> {
    const rows: Row[] = artifacts.map((a) => ({
      partitionKey: run.runId,
      rowKey: toTableKey(a.path),
      path: a.path,
      blobName: a.blobName,
      sha256: a.sha256,
      size: a.size,
      merkleLeaf: a.merkleLeaf,
      ...(a.versionId ? { versionId: a.versionId } : {}),
    }));
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

  private async queryPartition<S extends z.ZodType>(table: TableClient, partitionKey: string, schema: S): Promise<z.infer<S>[]> {
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
