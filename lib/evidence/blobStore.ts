import type { Readable } from "node:stream";
import type { ContainerClient } from "@azure/storage-blob";
import type { RunRef } from "../schemas/common";
import { EvidenceConflictError, isStatus } from "./errors";
import { artifactBlobName } from "./keys";
import { sha256Hex } from "./sha256";

/** What a write stored (or found already stored, on a retry with identical bytes). */
export interface StoredArtifact {
  path: string;
  blobName: string;
  sha256: string;
  size: number;
  /** Blob version id where the account has versioning (Azure); absent on Azurite. */
  versionId?: string;
  /** False when identical bytes were already there (a retried write). */
  created: boolean;
}

/** Options of {@link EvidenceStore}. */
export interface EvidenceStoreOptions {
  /** Per-blob immutability (days, Unlocked mode) set with the create; 0 = off. Azure only. */
  immutabilityDays?: number;
  /** Clock for the immutability expiry; injectable for tests. */
  now?: () => Date;
}

/** Counts of storage operations, for benchmarks and tests. */
export interface StoreStats {
  blobWrites: number;
  blobReads: number;
}

/**
 * Write-once artifact storage. Creates use `If-None-Match: *`, so an existing blob is never replaced: a retried
 * write of identical bytes is a success, a write of different bytes is an {@link EvidenceConflictError}. In Azure
 * the container's version-level immutability adds WORM on top; Azurite ignores immutability, so locally write-once
 * rests on the conditional create alone.
 */
export class EvidenceStore {
  readonly stats: StoreStats = { blobWrites: 0, blobReads: 0 };

  constructor(
    private readonly container: ContainerClient,
    private readonly options: EvidenceStoreOptions = {},
  ) {}

  /** Stores an artifact of a run under `{tenant}/{client}/{device}/{runId}/{path}`. */
  async put(run: RunRef, path: string, bytes: Uint8Array, contentType: string): Promise<StoredArtifact> {
    const blobName = artifactBlobName(run, path);
    const sha256 = sha256Hex(bytes);
    const blob = this.container.getBlockBlobClient(blobName);
    const days = this.options.immutabilityDays ?? 0;
    try {
      this.stats.blobWrites += 1;
      const response = await blob.uploadData(bytes, {
        conditions: { ifNoneMatch: "*" },
        metadata: { sha256 },
        blobHTTPHeaders: { blobContentType: contentType },
        ...(days > 0
          ? {
              immutabilityPolicy: {
                expiriesOn: new Date((this.options.now?.() ?? new Date()).getTime() + days * 86_400_000),
                policyMode: "Unlocked" as const,
              },
            }
          : {}),
      });
      return { path, blobName, sha256, size: bytes.byteLength, versionId: response.versionId, created: true };
    } catch (error) {
      // 409 BlobAlreadyExists: the only failure that can be a retry of our own earlier write.
      if (!isStatus(error, 409)) throw error;
    }
    const existing = await this.readBlob(blobName);
    const existingSha = existing === undefined ? "(deleted meanwhile)" : sha256Hex(existing);
    if (existingSha !== sha256) throw new EvidenceConflictError(blobName, existingSha, sha256);
    return { path, blobName, sha256, size: bytes.byteLength, created: false };
  }

  /** Reads an artifact's bytes; undefined when no such blob exists. */
  async get(run: RunRef, path: string): Promise<Buffer | undefined> {
    return this.readBlob(artifactBlobName(run, path));
  }

  /** Reads a blob by full name; undefined when it does not exist. */
  async readBlob(blobName: string): Promise<Buffer | undefined> {
    try {
      this.stats.blobReads += 1;
      // One GET; downloadToBuffer() would first send a HEAD for the length.
      const response = await this.container.getBlobClient(blobName).download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** A blob's bytes as a stream (one GET, resumed by the SDK if the connection drops); undefined when it does not exist. */
  async openStream(blobName: string, signal: AbortSignal): Promise<Readable | undefined> {
    try {
      this.stats.blobReads += 1;
      const response = await this.container.getBlobClient(blobName).download(0, undefined, { abortSignal: signal });
      const body = response.readableStreamBody;
      if (body === undefined) throw new Error(`download of ${blobName} returned no body stream`);
      return body as Readable;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Names of every blob under a prefix (to find evidence that was stored but never indexed). */
  async listBlobNames(prefix: string): Promise<string[]> {
    const names: string[] = [];
    for await (const item of this.container.listBlobsFlat({ prefix })) names.push(item.name);
    return names;
  }
}
