import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { Readable, type Writable } from "node:stream";
import { ZipFile } from "yazl";
import { HashingTap, type TapResult } from "./hashingTap";
import { PACKAGE_FILES } from "./packageLayout";

/** Options of {@link PackageZip}. */
export interface PackageZipOptions {
  /** Modification time of every entry: the export's createdAt, so the same content gives the same zip bytes. */
  mtime: Date;
  /** Stream entries added but not yet fully written before {@link PackageZip.room} waits (bounds memory). */
  maxPendingStreams?: number;
}

/**
 * A zip written as it is built (yazl), straight into a Writable: entries are appended in order and never held
 * whole. Every entry is hashed as its bytes go in, and {@link finish} appends `SHA256SUMS` (sha256sum -c format)
 * over all of them as the last entry.
 */
export class PackageZip {
  private readonly zip = new ZipFile();
  private readonly sums: string[] = [];
  private readonly pending: Promise<unknown>[] = [];
  /** Rejecters of the streamed entries not written yet: a failed zip fails each of them. */
  private readonly unfinished = new Set<(error: Error) => void>();
  private readonly written: Promise<void>;
  private readonly failure: Promise<never>;
  private rejectFailure: (error: Error) => void = () => undefined;
  private error: Error | undefined;

  constructor(
    out: Writable,
    private readonly options: PackageZipOptions,
  ) {
    this.failure = new Promise<never>((_resolve, reject) => {
      this.rejectFailure = reject;
    });
    this.failure.catch(() => undefined);
    this.zip.on("error", (error: Error) => this.failWith(error));
    // pipeline ends `out` after the central directory, and destroys it if the zip side fails.
    this.written = pipeline(this.zip.outputStream as Readable, out);
    this.written.catch((error: unknown) => this.failWith(error instanceof Error ? error : new Error(String(error))));
  }

  /** Adds a small file held in memory (per-run metadata, reports). */
  addBuffer(path: string, bytes: Buffer): void {
    this.sums.push(sumLine(createHash("sha256").update(bytes).digest("hex"), path));
    // As a stream, not yazl's addBuffer: yazl keeps every entry until the central directory is written, and an
    // addBuffer entry keeps its compressed bytes with it, which would grow with the number of runs.
    this.enqueue(path, Readable.from([bytes], { objectMode: false }));
  }

  /**
   * Adds a streamed file; resolves with its hash and size (and the bytes, up to `captureLimit`) once the zip has
   * consumed it. A failing source fails the whole zip: a package with a truncated file must never be completed.
   */
  addStream(path: string, source: Readable, captureLimit = 0): Promise<TapResult> {
    if (this.error !== undefined) return Promise.reject(this.error);
    const tap = new HashingTap(captureLimit);
    // Its SHA256SUMS line is filled in when the bytes are through, at the place the entry has in the zip.
    const index = this.sums.length;
    this.sums.push("");
    // Settled by the entry itself or by the zip failing, never raced against a long-lived promise: each race leaves a
    // reaction on it, which would keep every settled entry (and its captured bytes) alive until the end.
    const done = new Promise<TapResult>((resolve, reject) => {
      this.unfinished.add(reject);
      const fail = (error: Error): void => {
        this.unfinished.delete(reject);
        const wrapped = new Error(`${path}: ${error.message}`, { cause: error });
        reject(wrapped);
        this.failWith(wrapped);
      };
      source.once("error", fail);
      tap.once("error", fail);
      // The download may already have failed while it waited its turn (read-ahead): it will not emit again.
      if (source.errored !== null) fail(source.errored);
      // 'end' fires once the zip has read every byte: the entry is written, its hash final.
      tap.once("end", () => {
        this.unfinished.delete(reject);
        try {
          const digest = tap.takeDigest();
          this.sums[index] = sumLine(digest.sha256, path);
          resolve(digest);
        } catch (error) {
          fail(error as Error);
        }
      });
    });
    done.catch(() => undefined);
    source.pipe(tap);
    this.enqueue(path, tap);
    this.pending.push(done);
    return done;
  }

  /** Waits until at most `maxPendingStreams` streamed entries are still being written; rejects once the zip failed. */
  async room(): Promise<void> {
    if (this.error !== undefined) throw this.error;
    const max = this.options.maxPendingStreams ?? 8;
    while (this.pending.length > max) await this.pending.shift();
  }

  /** Rejects as soon as the zip or its output fails (to race once against other work). */
  get failed(): Promise<never> {
    return this.failure;
  }

  /** Waits for every entry, appends SHA256SUMS, ends the zip and waits until the output has taken every byte. */
  async finish(): Promise<{ files: number }> {
    if (this.error !== undefined) throw this.error;
    await Promise.all(this.pending);
    this.pending.length = 0;
    const files = this.sums.length;
    this.enqueue(PACKAGE_FILES.sums, Readable.from([Buffer.from(this.sums.join(""), "utf8")], { objectMode: false }));
    this.zip.end();
    await Promise.race([this.written, this.failure]);
    return { files: files + 1 };
  }

  /** Fails the zip: {@link failed} and every unfinished entry reject with the first error. */
  private failWith(error: Error): void {
    if (this.error !== undefined) return;
    this.error = error;
    this.rejectFailure(error);
    for (const reject of this.unfinished) reject(error);
    this.unfinished.clear();
  }

  private enqueue(path: string, stream: Readable): void {
    this.zip.addReadStreamLazy(path, { mtime: this.options.mtime }, handOverOnce(stream));
  }
}

/**
 * Gives yazl the stream when it reaches the entry, then forgets it. yazl keeps every entry (and the function that
 * supplied its stream) until the central directory is written; a stream still reachable from there would keep its
 * whole download (request, response, socket state) alive, some KiB per file. Defined at module level so the
 * returned function's closure holds nothing but `pending`.
 */
function handOverOnce(stream: Readable): (callback: (error: Error | null, stream: Readable) => void) => void {
  let pending: Readable | undefined = stream;
  return (callback) => {
    const next = pending;
    pending = undefined;
    if (next === undefined) callback(new Error("zip entry stream requested twice"), Readable.from([]));
    else callback(null, next);
  };
}

/** A `sha256sum` line (text mode: two spaces). */
function sumLine(sha256: string, path: string): string {
  return `${sha256}  ${path}\n`;
}
