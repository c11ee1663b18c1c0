import type { ContainerClient } from "@azure/storage-blob";
import { z } from "zod";
import { canonicalJson } from "../evidence/canonicalJson";
import { isStatus } from "../evidence/errors";
import { sha256Hex } from "../evidence/sha256";
import { Sha256HexSchema, TimestampSchema } from "../schemas/common";

// Versioned configuration documents (policy layers, maintenance windows) in the policy container.
//
// The *current* document stays where the runtime has always read it (`layers/…json`, `windows/…json`), so a save is
// what the next run resolves, with no second read path. Every save also writes a *version blob*, create-once
// (`If-None-Match: *`), under `versions/{current name without .json}/v{NNNNNN}-{sha256 prefix}.json`, and the current
// blob's metadata points at it. History is the chain of version blobs from the current pointer back through
// `previous`; nothing in it is ever overwritten. A writer that loses a race after writing its version blob leaves an
// orphan outside the chain, which is harmless (it is never named by a pointer).
//
// Optimistic concurrency: the HTTP ETag is the current blob's own ETag, and the pointer is replaced with
// `If-Match: <that ETag>`, so two writers holding the same ETag cannot both win; the loser gets StaleWriteError.

/** Who saved a version (the authenticated caller, or the import command). */
export const VersionAuthorSchema = z.strictObject({
  kind: z.enum(["apiKey", "principal", "import"]),
  id: z.string().min(1),
  name: z.string(),
});
export type VersionAuthor = z.infer<typeof VersionAuthorSchema>;

/** One stored version: the document exactly as saved, its hash, who saved it and the version it replaced. */
export const DocumentVersionSchema = z.strictObject({
  schemaVersion: z.literal(1),
  /** 1-based; a document written before versioning (a blob upload) counts as version 0. */
  version: z.number().int().min(1),
  /** The current blob this is a version of (`layers/tenants/contoso-msp.json`). */
  name: z.string().min(1),
  savedAt: TimestampSchema,
  author: VersionAuthorSchema,
  /** SHA-256 of the canonical JSON of `document`. */
  sha256: Sha256HexSchema,
  /** SHA-256 of the document this one replaced; absent for the first version. */
  previousSha256: Sha256HexSchema.optional(),
  /** Blob name of the previous version; absent for the first version (or one that replaced an unversioned upload). */
  previous: z.string().optional(),
  document: z.unknown(),
});
export type DocumentVersion = z.infer<typeof DocumentVersionSchema>;

/** The current document with what a conditional update needs. */
export interface CurrentDocument {
  document: unknown;
  /** The HTTP ETag (quoted), the current blob's own. */
  etag: string;
  /** 0 for a document uploaded as a plain blob before versioning. */
  version: number;
  sha256: string;
  /** Blob name of the current version, undefined for version 0. */
  versionBlob: string | undefined;
}

/** The write lost: the caller's ETag is not the current one (or the document appeared/vanished meanwhile). */
export class StaleWriteError extends Error {
  constructor(
    readonly documentName: string,
    readonly currentEtag: string | undefined,
  ) {
    super(`${documentName} changed since it was read (current ETag ${currentEtag ?? "none: it does not exist"})`);
    this.name = "StaleWriteError";
  }
}

/** A stored document or version that is not what we wrote (edited storage): reported, never guessed around. */
export class VersionChainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VersionChainError";
  }
}

/** SHA-256 of a document's canonical JSON: what audit entries and versions record as before/after. */
export function documentSha256(document: unknown): string {
  return sha256Hex(canonicalJson(document));
}

const META_VERSION = "ppversion";
const META_VERSION_BLOB = "ppversionblob";

function versionPrefix(name: string): string {
  return `versions/${name.replace(/\.json$/, "")}/`;
}

async function readBody(
  container: ContainerClient,
  blobName: string,
): Promise<{ text: string; etag: string; metadata: Record<string, string> } | undefined> {
  try {
    const response = await container.getBlobClient(blobName).download();
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
    return {
      text: Buffer.concat(chunks).toString("utf8"),
      etag: response.etag ?? "",
      metadata: response.metadata ?? {},
    };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, "")) as unknown;
  } catch (error) {
    throw new VersionChainError(`${where} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Versioned, ETag-guarded documents in one container. Callers validate documents before saving them. */
export class VersionedDocuments {
  constructor(private readonly container: ContainerClient) {}

  /** The current document, or undefined when none is stored. */
  async current(name: string): Promise<CurrentDocument | undefined> {
    const body = await readBody(this.container, name);
    if (body === undefined) return undefined;
    const document = parseJson(body.text, name);
    const version = Number(body.metadata[META_VERSION] ?? "0");
    if (!Number.isInteger(version) || version < 0) throw new VersionChainError(`${name}: bad version metadata`);
    return {
      document,
      etag: body.etag,
      version,
      sha256: documentSha256(document),
      versionBlob: body.metadata[META_VERSION_BLOB],
    };
  }

  /**
   * Saves a new version. `expected` is the ETag the caller read (`If-Match`), or undefined to create
   * (`If-None-Match: *`: nothing may be stored yet). Throws StaleWriteError when the current document is not the one the caller read.
   */
  async save(
    name: string,
    document: unknown,
    expected: string | undefined,
    author: VersionAuthor,
    savedAt: Date,
  ): Promise<{ before: CurrentDocument | undefined; after: CurrentDocument }> {
    const before = await this.current(name);
    if (expected === undefined ? before !== undefined : before?.etag !== expected) {
      throw new StaleWriteError(name, before?.etag);
    }
    const sha256 = documentSha256(document);
    const version = (before?.version ?? 0) + 1;
    const versionBlob = `${versionPrefix(name)}v${String(version).padStart(6, "0")}-${sha256.slice(0, 16)}.json`;
    const record: DocumentVersion = {
      schemaVersion: 1,
      version,
      name,
      savedAt: savedAt.toISOString(),
      author,
      sha256,
      ...(before === undefined ? {} : { previousSha256: before.sha256 }),
      ...(before?.versionBlob === undefined ? {} : { previous: before.versionBlob }),
      document,
    };
    const json = { blobHTTPHeaders: { blobContentType: "application/json" } };
    try {
      await this.container
        .getBlockBlobClient(versionBlob)
        .uploadData(Buffer.from(`${JSON.stringify(record, null, 2)}\n`, "utf8"), {
          ...json,
          conditions: { ifNoneMatch: "*" },
        });
    } catch (error) {
      // Another writer saved the same content as the same version from the same ETag: one of us loses below.
      if (!isStatus(error, 409)) throw error;
    }
    try {
      const response = await this.container
        .getBlockBlobClient(name)
        .uploadData(Buffer.from(`${JSON.stringify(document, null, 2)}\n`, "utf8"), {
          ...json,
          metadata: { [META_VERSION]: String(version), [META_VERSION_BLOB]: versionBlob },
          conditions: before === undefined ? { ifNoneMatch: "*" } : { ifMatch: before.etag },
        });
      return {
        before,
        after: { document, etag: response.etag ?? "", version, sha256, versionBlob },
      };
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 409)) throw new StaleWriteError(name, undefined);
      throw error;
    }
  }

  /** Every version, newest first, following the chain from the current pointer. */
  async history(name: string): Promise<DocumentVersion[]> {
    const current = await this.current(name);
    const out: DocumentVersion[] = [];
    let next = current?.versionBlob;
    while (next !== undefined) {
      const body = await readBody(this.container, next);
      if (body === undefined) throw new VersionChainError(`${name}: version blob ${next} is missing`);
      const parsed = DocumentVersionSchema.safeParse(parseJson(body.text, next));
      if (!parsed.success) throw new VersionChainError(`${next} is not a document version: ${parsed.error.message}`);
      if (parsed.data.sha256 !== documentSha256(parsed.data.document))
        throw new VersionChainError(`${next}: its document does not hash to its recorded sha256`);
      if (parsed.data.name !== name) throw new VersionChainError(`${next} is a version of ${parsed.data.name}`);
      const expectedVersion = out.length === 0 ? current?.version : (out[out.length - 1]?.version ?? 0) - 1;
      if (parsed.data.version !== expectedVersion)
        throw new VersionChainError(`${next}: version ${parsed.data.version}, expected ${String(expectedVersion)}`);
      out.push(parsed.data);
      next = parsed.data.previous;
    }
    return out;
  }

  /** Names of current documents under a prefix (blob-name order), version blobs excluded. */
  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    for await (const item of this.container.listBlobsFlat({ prefix })) names.push(item.name);
    return names.filter((n) => !n.startsWith("versions/"));
  }
}
