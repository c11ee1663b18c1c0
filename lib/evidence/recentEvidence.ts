import { sha256Hex } from "./sha256";

/**
 * Evidence bytes this process wrote or read verified, by blob name and SHA-256: a bounded, least-recently-used memory
 * of immutable content. Evidence blobs are create-once, so a blob name with a given SHA-256 has exactly these bytes
 * for as long as it exists; a lookup is by both, and the bytes are hashed again before they are served, so nothing
 * unverified is ever used. It spares a device run's later steps the read of what an earlier step of the same run
 * stored (run.json's policy, the catalog, the baseline) when the same process serves them (locally always; in Azure
 * when the activity lands on the same instance, otherwise the blob is read as before).
 *
 * Only the advance's decision inputs use it (lib/deviceRun/storedArtifacts.ts `readStored`). The exit code, the
 * report and `patchpilot verify` read the stored blobs back: what a run is judged on is what storage holds, so a blob
 * altered or lost after it was written is still caught before the run's exit code is decided. (What the deciding
 * activity call wrote itself is served from that write instead: lib/evidence/writtenBytes.ts.)
 */
export class RecentEvidence {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly maxBytes: number) {}

  /** Remembers bytes stored (or read and verified) at `blobName` with SHA-256 `sha256`. */
  remember(blobName: string, sha256: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.maxBytes / 16) return; // large blobs would crowd out the small ones that are reused
    // A run command's transcripts and status records are never a step's decision input (the steps read the parsed
    // artifacts: the policy, the catalog, the baseline), yet they are most of what a run writes: remembered, they
    // evicted the policy and catalog of runs in flight before their next advance (a 5,000-device window read 2.5
    // more blobs per run from storage than a 1,000-device one).
    if (blobName.includes("/transcripts/")) return;
    const key = `${sha256}\u0000${blobName}`;
    const known = this.entries.get(key);
    if (known !== undefined) {
      this.entries.delete(key);
      this.bytes -= known.byteLength;
    }
    // Its own allocation: Buffer.from copies a small blob into Node's shared 8 KiB pool, and one remembered slice
    // would keep its whole slab alive (measured: 75 MiB of slabs behind a 32 MiB budget in a 1,000-device window).
    const own = Buffer.allocUnsafeSlow(bytes.byteLength);
    own.set(bytes);
    this.entries.set(key, own);
    this.bytes += bytes.byteLength;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.byteLength;
    }
  }

  /** The bytes at `blobName` whose SHA-256 is `sha256`, hashed again here; undefined when not remembered. */
  recall(blobName: string, sha256: string): Buffer | undefined {
    const key = `${sha256}\u0000${blobName}`;
    const bytes = this.entries.get(key);
    if (bytes === undefined || sha256Hex(bytes) !== sha256) {
      this.stats.misses += 1;
      return undefined;
    }
    // Most recently used last: the Map's order is the eviction order.
    this.entries.delete(key);
    this.entries.set(key, bytes);
    this.stats.hits += 1;
    return Buffer.from(bytes);
  }

  /** Forgets everything (tests). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** The process's memory of recent evidence: 32 MiB, blobs up to 2 MiB. */
export const recentEvidence = new RecentEvidence(32 * 2 ** 20);
