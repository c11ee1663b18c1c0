import type { TableEntity } from "@azure/data-tables";
import type { StorageClients } from "../../lib/azure/storageClients";
import { createEvidenceDeps } from "../../lib/evidence/createEvidenceDeps";
import { toTableKey } from "../../lib/evidence/keys";
import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import { evidenceExportSource, type ExportSource } from "../../lib/export/exportSource";
import type { RunInScope } from "../../lib/export/listRunsInScope";
import type { RunRef } from "../../lib/schemas/common";
import type { ArtifactRow } from "../../lib/schemas/tableRows";
import { testConfig, testStorage } from "./storage";

/**
 * Evidence in the test Azurite for tests of code above the store (the export writer): the real EvidenceDeps and
 * export source, the runs a test wrote, and the few direct edits a test needs to stage damage (a blob gone, a
 * foreign blob, an index row that points elsewhere) that the write-once store itself would never allow.
 */
export class AzuriteEvidence {
  private readonly written: RunRef[] = [];

  private constructor(
    private readonly storage: StorageClients,
    private readonly evidence: EvidenceDeps,
  ) {}

  /** Connects to the Azurite the Jest global setup started. */
  static async connect(): Promise<AzuriteEvidence> {
    const config = testConfig();
    const storage = await testStorage(config);
    return new AzuriteEvidence(storage, createEvidenceDeps(config, storage));
  }

  /** The real evidence dependencies; note each run written through them with {@link track}. */
  deps(): EvidenceDeps {
    return this.evidence;
  }

  /** Remembers a run the test wrote, for {@link inScope}. */
  track(run: RunRef): void {
    this.written.push(run);
  }

  /** The export source over the test Azurite. */
  source(): ExportSource {
    return evidenceExportSource(this.evidence, this.storage.evidence);
  }

  /** The tracked runs as listRunsInScope gives them, from their Runs rows (other tests share the tenant). */
  async inScope(): Promise<RunInScope[]> {
    const out: RunInScope[] = [];
    for (const run of this.written) {
      const row = await this.evidence.index.getRun(run.tenant, run.client, run.runId);
      if (row === undefined) throw new Error(`run ${run.runId} has no Runs row`);
      out.push({
        run,
        status: row.status,
        startedAt: row.startedAt,
        ...(row.merkleRoot === undefined ? {} : { merkleRoot: row.merkleRoot }),
        ...(row.eventsChainHead === undefined ? {} : { eventsChainHead: row.eventsChainHead }),
      });
    }
    return out.sort((a, b) => (`${a.run.client}/${a.run.device}` < `${b.run.client}/${b.run.device}` ? -1 : 1));
  }

  /** Deletes a stored blob (damage no API path could do). */
  async deleteBlob(blobName: string): Promise<void> {
    await this.storage.evidence.deleteBlob(blobName);
  }

  /** Stores bytes under any name (a foreign tenant's blob). */
  async putBlob(blobName: string, bytes: Buffer): Promise<void> {
    await this.storage.evidence.getBlockBlobClient(blobName).uploadData(bytes);
  }

  /** Writes an Artifacts index row as given, replacing one with the same path (a forged row). */
  async putArtifactRow(runId: string, row: Omit<ArtifactRow, "partitionKey" | "rowKey">): Promise<void> {
    const entity: TableEntity<Record<string, unknown>> = { partitionKey: runId, rowKey: toTableKey(row.path), ...row };
    await this.storage.tables.artifacts.upsertEntity(entity, "Replace");
  }
}
