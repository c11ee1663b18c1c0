import { ExportStatusSchema, type ExportDownload, type ExportStatus } from "../schemas/api/exports";
import type { ExportRecord } from "./exportStore";

/** The API's view of an export record; the link only for a completed export, the error only for a failed one. */
export function exportStatusOf(record: ExportRecord, download?: ExportDownload): ExportStatus {
  return ExportStatusSchema.parse({
    exportId: record.exportId,
    tenant: record.tenant,
    status: record.status,
    request: record.request,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    ...(record.completedAt === undefined ? {} : { completedAt: record.completedAt }),
    ...(record.status === "completed" && record.counts !== undefined ? { counts: record.counts } : {}),
    ...(record.status === "completed" && record.sha256 !== undefined
      ? { sha256: record.sha256, size: record.size }
      : {}),
    ...(record.status === "completed" && download !== undefined ? { download } : {}),
    ...(record.status === "failed" && record.error !== undefined ? { error: record.error } : {}),
  });
}
