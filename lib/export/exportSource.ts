import type { Readable } from "node:stream";
import type { ContainerClient } from "@azure/storage-blob";
import { isStatus } from "../evidence/errors";
import type { EvidenceDeps } from "../evidence/runEvidence";
import type { ArtifactRow, InstallRow } from "../schemas/tableRows";

/** Where an export reads evidence from: the index, the audit index and the evidence blobs, streamed. */
export interface ExportSource {
  /** A run's Artifacts rows, keyed by artifact path. */
  readArtifacts(runId: string): Promise<Map<string, ArtifactRow>>;
  /** Names of every blob under a prefix. */
  listBlobNames(prefix: string): Promise<string[]>;
  /** A blob's bytes as a stream, or undefined when the blob does not exist. */
  openBlob(blobName: string, signal: AbortSignal): Promise<Readable | undefined>;
  /** A device's Installs (audit index) rows. */
  readInstalls(tenant: string, device: string): Promise<InstallRow[]>;
}

/** The export source over the evidence index and the evidence container. */
export function evidenceExportSource(evidence: EvidenceDeps, container: ContainerClient): ExportSource {
  return {
    readArtifacts: (runId) => evidence.index.readArtifacts(runId),
    listBlobNames: (prefix) => evidence.store.listBlobNames(prefix),
    readInstalls: (tenant, device) => evidence.index.readInstalls(tenant, device),
    async openBlob(blobName, signal) {
      try {
        // One GET; the SDK's stream re-requests the remaining range if the connection drops mid-body.
        const response = await container.getBlobClient(blobName).download(0, undefined, { abortSignal: signal });
        const body = response.readableStreamBody;
        if (body === undefined) throw new Error(`download of ${blobName} returned no body stream`);
        return body as Readable;
      } catch (error) {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }
    },
  };
}
