import type { TableClient } from "@azure/data-tables";
import { z } from "zod";
import { canonicalJson } from "../evidence/canonicalJson";
import { isStatus } from "../evidence/errors";
import { Sha256HexSchema, TenantIdSchema, TimestampSchema } from "../schemas/common";
import {
  ExportIdSchema,
  ExportLifecycleSchema,
  ExportRequestSchema,
  type ExportCounts,
  type ExportLifecycle,
  type ExportRequest,
} from "../schemas/api/exports";

/** Longest error message kept on a failed export (Table properties are capped at 64 KiB; a message needs far less). */
const MAX_ERROR_LENGTH = 2000;

/** A row of the `Exports` table (PK tenant, RK exportId). Table storage has no nested values: the request is JSON. */
const ExportRowSchema = z.object({
  partitionKey: TenantIdSchema,
  rowKey: ExportIdSchema,
  status: ExportLifecycleSchema,
  request: z.string(),
  createdAt: TimestampSchema,
  createdBy: z.string().min(1),
  startedAt: TimestampSchema.optional(),
  completedAt: TimestampSchema.optional(),
  blobName: z.string().optional(),
  sha256: Sha256HexSchema.optional(),
  size: z.number().int().min(0).optional(),
  runs: z.number().int().min(0).optional(),
  artifacts: z.number().int().min(0).optional(),
  bytes: z.number().int().min(0).optional(),
  error: z.string().optional(),
});

/** An export as recorded: its request, who asked, where it is and, once built, where the package is. */
export interface ExportRecord {
  tenant: string;
  exportId: string;
  status: ExportLifecycle;
  request: ExportRequest;
  createdAt: string;
  createdBy: string;
  startedAt?: string;
  completedAt?: string;
  blobName?: string;
  sha256?: string;
  size?: number;
  counts?: ExportCounts;
  error?: string;
}

/** What a finished build recorded. */
export interface CompletedExport {
  blobName: string;
  sha256: string;
  size: number;
  counts: ExportCounts;
}

/** The export id is taken by a different request (ids are random: this is a bug or a replayed POST with other content). */
export class ExportIdConflictError extends Error {
  constructor(
    readonly tenant: string,
    readonly exportId: string,
  ) {
    super(`export ${tenant}/${exportId} already exists with a different request`);
    this.name = "ExportIdConflictError";
  }
}

/** An export that was never created (or was created for another tenant). */
export class ExportNotFoundError extends Error {
  constructor(
    readonly tenant: string,
    readonly exportId: string,
  ) {
    super(`export ${tenant}/${exportId} does not exist`);
    this.name = "ExportNotFoundError";
  }
}

/**
 * Export records in the `Exports` table, one partition per tenant, so a tenant's exports are a partition scan and
 * no read can cross tenants. The record is mutable status (queued → running → completed | failed), not evidence.
 */
export class ExportStore {
  constructor(private readonly table: TableClient) {}

  /** Records a new export as queued. Creating the same export again (an SDK or client retry) is a no-op. */
  async create(
    tenant: string,
    exportId: string,
    request: ExportRequest,
    createdBy: string,
    now: Date,
  ): Promise<ExportRecord> {
    const parsedRequest = ExportRequestSchema.parse(request);
    const row = ExportRowSchema.parse({
      partitionKey: tenant,
      rowKey: exportId,
      status: "queued",
      request: canonicalJson(parsedRequest),
      createdAt: now.toISOString(),
      createdBy,
    });
    try {
      await this.table.createEntity(row);
      return toRecord(row);
    } catch (error) {
      // 409 EntityAlreadyExists: our own earlier attempt, or a different request under the same id.
      if (!isStatus(error, 409)) throw error;
    }
    const existing = await this.get(tenant, exportId);
    if (existing === undefined || canonicalJson(existing.request) !== row.request || existing.createdBy !== createdBy) {
      throw new ExportIdConflictError(tenant, exportId);
    }
    return existing;
  }

  /** The export, or undefined when this tenant has no export with that id. */
  async get(tenant: string, exportId: string): Promise<ExportRecord | undefined> {
    try {
      const entity = await this.table.getEntity(tenant, exportId);
      return toRecord(ExportRowSchema.parse(entity));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** The build started (or restarted, on a retry). */
  async markRunning(tenant: string, exportId: string, now: Date): Promise<void> {
    await this.merge(tenant, exportId, { status: "running", startedAt: now.toISOString() });
  }

  /** The package is stored: where, its hash and size, and what it holds. */
  async markCompleted(tenant: string, exportId: string, done: CompletedExport, now: Date): Promise<void> {
    await this.merge(tenant, exportId, {
      status: "completed",
      completedAt: now.toISOString(),
      blobName: done.blobName,
      sha256: done.sha256,
      size: done.size,
      runs: done.counts.runs,
      artifacts: done.counts.artifacts,
      bytes: done.counts.bytes,
    });
  }

  /** The build gave up; the message says why. */
  async markFailed(tenant: string, exportId: string, message: string, now: Date): Promise<void> {
    await this.merge(tenant, exportId, {
      status: "failed",
      completedAt: now.toISOString(),
      error: message.slice(0, MAX_ERROR_LENGTH),
    });
  }

  private async merge(
    tenant: string,
    exportId: string,
    fields: Partial<z.input<typeof ExportRowSchema>>,
  ): Promise<void> {
    ExportRowSchema.partial().parse(fields);
    try {
      // Merge with If-Match *: an update, never a create, so a status change cannot conjure an export.
      await this.table.updateEntity({ partitionKey: tenant, rowKey: exportId, ...fields }, "Merge");
    } catch (error) {
      if (isStatus(error, 404)) throw new ExportNotFoundError(tenant, exportId);
      throw error;
    }
  }
}

function toRecord(row: z.infer<typeof ExportRowSchema>): ExportRecord {
  const request = ExportRequestSchema.parse(JSON.parse(row.request));
  const counts =
    row.runs !== undefined && row.artifacts !== undefined && row.bytes !== undefined
      ? { runs: row.runs, artifacts: row.artifacts, bytes: row.bytes }
      : undefined;
  return {
    tenant: row.partitionKey,
    exportId: row.rowKey,
    status: row.status,
    request,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    ...(row.startedAt === undefined ? {} : { startedAt: row.startedAt }),
    ...(row.completedAt === undefined ? {} : { completedAt: row.completedAt }),
    ...(row.blobName === undefined ? {} : { blobName: row.blobName }),
    ...(row.sha256 === undefined ? {} : { sha256: row.sha256 }),
    ...(row.size === undefined ? {} : { size: row.size }),
    ...(counts === undefined ? {} : { counts }),
    ...(row.error === undefined ? {} : { error: row.error }),
  };
}
