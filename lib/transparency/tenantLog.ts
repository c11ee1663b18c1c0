import { RestError } from "@azure/core-rest-pipeline";
import type { TableClient, TransactionAction } from "@azure/data-tables";
import { z } from "zod";
import type { ContainerClient } from "@azure/storage-blob";
import { toTableKey } from "../evidence/keys";
import { merkleRootFromLeafHashes, inclusionProof } from "../evidence/merkle";
import { receiptBytes, receiptLeafHash } from "../evidence/receipt";
import type { RunLog, RunLogEntry } from "../evidence/runLog";
import { RunReceiptSchema, type RunReceipt } from "../schemas/artifacts/receipt";
import { Sha256HexSchema } from "../schemas/common";
import { appendLeaf, consistencyProof, rangeRoot, type CompactRange } from "./consistency";
import { formatCheckpoint, formatVerifierKey, signNote, type NoteSigner } from "./note";
import { noteSignerFor, type SigningKey } from "./signingKey";

/** Where the log keeps its rows and publishes its checkpoints, and how it signs them. */
export interface TenantLogDeps {
  /** `TransparencyLog` table: PK tenant; rows `head`, `leaf-{index}`, `run-{client/device/runId}`, `cp-{size}`. */
  table: TableClient;
  key: SigningKey;
  /** Origin prefix; a tenant's log is `{prefix}/{tenant}` (also its key name). */
  originPrefix: string;
  /**
   * Where checkpoints are also written, outside the app's normal write path: a container the app may only create
   * blobs in (locally a create-only SAS; in Azure another account with a locked immutability policy).
   */
  checkpoints?: ContainerClient;
  /** Attempts at an append whose head moved under it (optimistic concurrency) before giving up. */
  maxAttempts?: number;
}

/** A signed checkpoint as stored. */
export interface StoredCheckpoint {
  size: number;
  note: string;
}

/** A receipt as the log holds it. */
export interface LogLeaf {
  index: number;
  receipt: string;
  leafHash: string;
}

/** Two appends raced for the same head and this one kept losing. */
export class LogContentionError extends Error {}
/** A run appended again with a different receipt: the log is append-only, so it refuses. */
export class LogConflictError extends Error {}

// The log's rows, checked as they are read (table data is input like any other).
const HeadRowSchema = z.object({ size: z.number().int().min(1), nodes: z.string(), checkpoint: z.string() });
const RunRowSchema = z.object({ index: z.number().int().min(0), leafHash: Sha256HexSchema });
const LeafRowSchema = z.object({
  rowKey: z.string().regex(/^leaf-\d{12}$/),
  receipt: z.string(),
  leafHash: Sha256HexSchema,
});

const pad = (n: number): string => n.toString().padStart(12, "0");
const runKey = (r: Pick<RunReceipt, "client" | "device" | "runId">): string =>
  `run-${toTableKey(`${r.client}/${r.device}/${r.runId}`)}`;

function isStatus(error: unknown, ...codes: number[]): boolean {
  return error instanceof RestError && codes.includes(error.statusCode ?? 0);
}

/**
 * The per-tenant append-only RFC 6962 log of run receipts with C2SP-signed checkpoints. An append is one entity
 * group transaction in the tenant's partition: create the leaf, create the run's row (a retried append finds it and
 * adds nothing), create the new checkpoint and replace the head under its ETag, so concurrent appends serialise
 * (the loser re-reads the head and tries again) and the log never forks. The head keeps the tree's compact range,
 * so an append costs O(log n) hashes and no read of the leaves.
 */
export class TenantLog implements RunLog {
  private readonly signers = new Map<string, Promise<NoteSigner>>();

  constructor(private readonly deps: TenantLogDeps) {}

  origin(tenant: string): string {
    return `${this.deps.originPrefix}/${tenant}`;
  }

  private signer(tenant: string): Promise<NoteSigner> {
    const origin = this.origin(tenant);
    let signer = this.signers.get(origin);
    if (signer === undefined) {
      signer = noteSignerFor(this.deps.key, origin);
      this.signers.set(origin, signer);
    }
    return signer;
  }

  /** The tenant log's published verifier key (`name+keyid+base64(type‖key)`). */
  async verifierKey(tenant: string): Promise<string> {
    return formatVerifierKey(await this.signer(tenant));
  }

  async append(receipt: RunReceipt): Promise<RunLogEntry> {
    const parsed = RunReceiptSchema.parse(receipt);
    const tenant = parsed.tenant;
    const leafHash = receiptLeafHash(parsed).toString("hex");
    const { table } = this.deps;
    for (let attempt = 1; attempt <= (this.deps.maxAttempts ?? 50); attempt++) {
      const existing = await this.runEntry(tenant, parsed, leafHash);
      if (existing !== undefined) return existing;
      const head = await this.head(tenant);
      const range: CompactRange = head?.range ?? { size: 0, nodes: [] };
      const next = appendLeaf(range, Buffer.from(leafHash, "hex"));
      const note = await this.sign(tenant, next.size, rangeRoot(next));
      const headEntity = {
        partitionKey: tenant,
        rowKey: "head",
        size: next.size,
        nodes: JSON.stringify(next.nodes),
        checkpoint: note,
      };
      const actions: TransactionAction[] = [
        [
          "create",
          {
            partitionKey: tenant,
            rowKey: `leaf-${pad(range.size)}`,
            receipt: receiptBytes(parsed).toString("utf8"),
            leafHash,
          },
        ],
        ["create", { partitionKey: tenant, rowKey: runKey(parsed), index: range.size, leafHash }],
        ["create", { partitionKey: tenant, rowKey: `cp-${pad(next.size)}`, note }],
        head === undefined ? ["create", headEntity] : ["update", headEntity, "Replace", { etag: head.etag }],
      ];
      try {
        await table.submitTransaction(actions);
      } catch (error) {
        // 409: another append created these rows first (or the head); 412: the head moved. Re-read and try again.
        if (isStatus(error, 409, 412)) continue;
        throw error;
      }
      await this.publish(tenant, next.size, note);
      return { index: range.size, leafHash, checkpoint: note, size: next.size };
    }
    throw new LogContentionError(`the transparency log of ${tenant} stayed contended; the append will be retried`);
  }

  async find(run: { tenant: string; client: string; device: string; runId: string }): Promise<RunLogEntry | undefined> {
    let row: { index: number; leafHash: string };
    try {
      row = RunRowSchema.parse(await this.deps.table.getEntity(run.tenant, runKey(run)));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
    const checkpoint = await this.checkpoint(run.tenant, row.index + 1);
    if (checkpoint === undefined) return undefined;
    return { index: row.index, leafHash: row.leafHash, checkpoint: checkpoint.note, size: checkpoint.size };
  }

  /** The run's entry when it is already in the log (the retried append), with the checkpoint that included it. */
  private async runEntry(tenant: string, receipt: RunReceipt, leafHash: string): Promise<RunLogEntry | undefined> {
    let row: { index: number; leafHash: string };
    try {
      row = RunRowSchema.parse(await this.deps.table.getEntity(tenant, runKey(receipt)));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
    if (row.leafHash !== leafHash)
      throw new LogConflictError(`run ${receipt.runId} is already in the log of ${tenant} with another receipt`);
    const checkpoint = await this.checkpoint(tenant, row.index + 1);
    if (checkpoint === undefined) throw new Error(`the log of ${tenant} has no checkpoint of size ${row.index + 1}`);
    // A crash between the transaction and the publication left it unpublished: publish it now (create-once).
    await this.publish(tenant, checkpoint.size, checkpoint.note);
    return { index: row.index, leafHash, checkpoint: checkpoint.note, size: checkpoint.size };
  }

  private async head(tenant: string): Promise<{ range: CompactRange; etag: string; checkpoint: string } | undefined> {
    try {
      const entity = await this.deps.table.getEntity(tenant, "head");
      const e = HeadRowSchema.parse(entity);
      const nodes = z.array(Sha256HexSchema).parse(JSON.parse(e.nodes));
      return { range: { size: e.size, nodes }, etag: entity.etag, checkpoint: e.checkpoint };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private async sign(tenant: string, size: number, root: Buffer): Promise<string> {
    return signNote(formatCheckpoint({ origin: this.origin(tenant), size, root }), [await this.signer(tenant)]);
  }

  private async publish(tenant: string, size: number, note: string): Promise<void> {
    const container = this.deps.checkpoints;
    if (container === undefined) return;
    const blob = container.getBlockBlobClient(`${tenant}/checkpoint-${pad(size)}.txt`);
    const bytes = Buffer.from(note, "utf8");
    try {
      await blob.uploadData(bytes, {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: "text/plain; charset=utf-8" },
      });
    } catch (error) {
      // Already published (a retry): the same bytes are fine; anything else is a forked log and must be seen. A
      // create-only SAS answers 403 (not 409) to a write over an existing blob, so 403 is checked the same way.
      if (!isStatus(error, 403, 409, 412)) throw error;
      let existing: Buffer;
      try {
        existing = await blob.downloadToBuffer();
      } catch (readError) {
        if (isStatus(readError, 404)) throw error;
        throw readError;
      }
      if (!existing.equals(bytes))
        throw new LogConflictError(`a different checkpoint of size ${size} is already published for ${tenant}`);
    }
  }

  /** The latest signed checkpoint (undefined for a tenant with no sealed run yet). */
  async latest(tenant: string): Promise<StoredCheckpoint | undefined> {
    const head = await this.head(tenant);
    return head === undefined ? undefined : { size: head.range.size, note: head.checkpoint };
  }

  /** The checkpoint signed at a tree size. */
  async checkpoint(tenant: string, size: number): Promise<StoredCheckpoint | undefined> {
    try {
      const e = z.object({ note: z.string() }).parse(await this.deps.table.getEntity(tenant, `cp-${pad(size)}`));
      return { size, note: e.note };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** The first `size` leaves, in order. */
  async leaves(tenant: string, size: number): Promise<LogLeaf[]> {
    const out: LogLeaf[] = [];
    if (size === 0) return out;
    const filter = `PartitionKey eq '${tenant.replace(/'/g, "''")}' and RowKey ge 'leaf-' and RowKey lt 'leaf-${pad(size)}'`;
    for await (const entity of this.deps.table.listEntities({ queryOptions: { filter } })) {
      const e = LeafRowSchema.parse(entity);
      out.push({ index: Number(e.rowKey.slice(5)), receipt: e.receipt, leafHash: e.leafHash });
    }
    out.sort((a, b) => a.index - b.index);
    if (out.length !== size || out.some((l, i) => l.index !== i))
      throw new Error(`the log of ${tenant} does not hold leaves 0..${size - 1}`);
    return out;
  }

  /** RFC 6962 consistency proof between two tree sizes (hex nodes), from the stored leaves. */
  async consistency(tenant: string, from: number, to: number): Promise<string[]> {
    const leaves = (await this.leaves(tenant, to)).map((l) => Buffer.from(l.leafHash, "hex"));
    return consistencyProof(leaves, from, to).map((h) => h.toString("hex"));
  }

  /** RFC 6962 inclusion proof of a leaf in the tree of a size. */
  async inclusion(tenant: string, index: number, size: number): Promise<{ root: string; auditPath: string[] }> {
    const leaves = (await this.leaves(tenant, size)).map((l) => Buffer.from(l.leafHash, "hex"));
    return {
      root: merkleRootFromLeafHashes(leaves).toString("hex"),
      auditPath: inclusionProof(leaves, index).map((h) => h.toString("hex")),
    };
  }
}
