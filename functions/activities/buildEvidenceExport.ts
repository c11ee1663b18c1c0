import type { StorageClients } from "../../lib/azure/storageClients";
import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import { exportBlobName } from "../../lib/export/exportLink";
import { evidenceExportSource } from "../../lib/export/exportSource";
import { ExportNotFoundError, ExportStore } from "../../lib/export/exportStore";
import { HashingTap } from "../../lib/export/hashingTap";
import { listRunsInScope } from "../../lib/export/listRunsInScope";
import { writeExportPackage, type ExportPackageOptions, type PackageLog } from "../../lib/export/writeExportPackage";
import type { RunLog } from "../../lib/evidence/runLog";
import { BuildEvidenceExportInputSchema, ExportSummarySchema, type ExportSummary } from "../../lib/schemas/api/exports";

/** Block size and parallel block uploads of the package: at most 4 × 4 MiB of the zip in memory at once. */
const UPLOAD_BLOCK_BYTES = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;

/** What the build activity needs. */
export interface BuildEvidenceExportDeps {
  storage: StorageClients;
  evidence: EvidenceDeps;
  /** Clock for the record's completedAt (status, not package content); the wall clock when omitted. */
  clock?: () => Date;
  /** Package writer tuning (benchmarks). */
  packageOptions?: ExportPackageOptions;
}

/**
 * Builds the activity that builds one export package: marks it running, lists the runs in scope, streams the zip
 * into `exports/{tenant}/{exportId}.zip` (uploadStream) while hashing it, and records hash, size and counts. A
 * retry rebuilds and overwrites the package (derived data, not evidence); with the orchestration's `now` and the
 * same evidence it writes the same bytes.
 */
export function makeBuildEvidenceExport(deps: BuildEvidenceExportDeps) {
  return async function buildEvidenceExport(rawInput: unknown): Promise<ExportSummary> {
    const { tenant, exportId, now } = BuildEvidenceExportInputSchema.parse(rawInput);
    const store = new ExportStore(deps.storage.tables.exports);
    const record = await store.get(tenant, exportId);
    if (record === undefined) throw new ExportNotFoundError(tenant, exportId);
    await store.markRunning(tenant, exportId, new Date(now));
    // The log first: every run it holds is completed by then, so the listing after it includes it.
    const log = await pinLog(deps.evidence.log, tenant);
    const runs = await listRunsInScope(deps.storage.tables.runs, tenant, record.request);

    const blobName = exportBlobName(tenant, exportId);
    const zipTap = new HashingTap();
    const upload = deps.storage.exports
      .getBlockBlobClient(blobName)
      .uploadStream(zipTap, UPLOAD_BLOCK_BYTES, UPLOAD_CONCURRENCY, {
        blobHTTPHeaders: {
          blobContentType: "application/zip",
          blobContentDisposition: `attachment; filename="${exportId}.zip"`,
        },
        metadata: { tenant, exportId },
      });
    // A failed upload stops the writer (it would otherwise wait forever for the upload to read on).
    upload.catch((error: unknown) => zipTap.destroy(error instanceof Error ? error : new Error(String(error))));
    const written = writeExportPackage(
      evidenceExportSource(deps.evidence, deps.storage.evidence),
      { exportId, tenant, request: record.request, createdAt: now, runs, ...(log === undefined ? {} : { log }) },
      zipTap,
      deps.packageOptions,
    );
    const [result] = await Promise.all([written, upload]);
    const { sha256, size } = zipTap.digest;
    await store.markCompleted(
      tenant,
      exportId,
      { blobName, sha256, size, counts: result.counts },
      deps.clock?.() ?? new Date(),
    );
    return ExportSummarySchema.parse({
      tenant,
      exportId,
      blobName,
      sha256,
      size,
      counts: result.counts,
      verified: result.verified,
    });
  };
}

/** The tenant log as it is now (the checkpoint the package is built against), or undefined with no logged run. */
async function pinLog(log: RunLog | undefined, tenant: string): Promise<PackageLog | undefined> {
  const checkpoint = await log?.latest(tenant);
  if (log === undefined || checkpoint === undefined) return undefined;
  const receipts = (await log.leaves(tenant, checkpoint.size)).map((l) => l.receipt);
  return {
    key: await log.verifierKey(tenant),
    checkpoint,
    receipts,
    finish: async () => {
      const latest = (await log.latest(tenant)) ?? checkpoint;
      return { latest: latest.note, proof: await log.consistency(tenant, checkpoint.size, latest.size) };
    },
  };
}
