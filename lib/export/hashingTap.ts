import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

/** What went through a {@link HashingTap}. */
export interface TapResult {
  sha256: string;
  size: number;
  /** The bytes, when capture was asked for and they fit the cap. */
  bytes?: Buffer;
}

/**
 * A pass-through that hashes (SHA-256) and counts every byte as it goes, so a streamed artifact or package is hashed
 * exactly as written without a second read. Optionally keeps the bytes up to a cap (for schema checks of small JSON
 * artifacts); past the cap it drops them and keeps only hashing, so memory stays bounded whatever the size.
 */
export class HashingTap extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private size = 0;
  private chunks: Buffer[] | undefined;
  private result: TapResult | undefined;

  constructor(private readonly captureLimit = 0) {
    super();
    this.chunks = captureLimit > 0 ? [] : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.byteLength;
    if (this.chunks !== undefined) {
      if (this.size <= this.captureLimit) this.chunks.push(chunk);
      else this.chunks = undefined;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = {
      sha256: this.hash.digest("hex"),
      size: this.size,
      ...(this.chunks === undefined ? {} : { bytes: joined(this.chunks, this.size) }),
    };
    this.chunks = undefined;
    callback();
  }

  /** Hash, size (and captured bytes) once every byte has passed; throws before that. */
  get digest(): TapResult {
    if (this.result === undefined) throw new Error("HashingTap: the stream has not ended");
    return this.result;
  }

  /** The digest, after which the tap lets go of the captured bytes (the caller owns them now). */
  takeDigest(): TapResult {
    const result = this.digest;
    this.result = { sha256: result.sha256, size: result.size };
    return result;
  }
}

/** The chunks as one Buffer: a single chunk (most small artifacts) as it is, otherwise one unpooled copy. */
function joined(chunks: readonly Buffer[], size: number): Buffer {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = Buffer.allocUnsafeSlow(size);
  let offset = 0;
  for (const chunk of chunks) offset += chunk.copy(out, offset);
  return out;
}
