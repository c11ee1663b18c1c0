import { createHash } from "node:crypto";
import { RecentEvidence } from "../../../lib/evidence/recentEvidence";

// The memory of recent evidence serves bytes only under the SHA-256 they hash to (node:crypto's, not ours), and stays
// within its byte budget, dropping the least recently used first.
const sha = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

describe("RecentEvidence", () => {
  it("recalls remembered bytes by blob name and SHA-256, as a copy", () => {
    const memory = new RecentEvidence(1024 * 1024);
    const bytes = Buffer.from('{"policy":"x"}');
    memory.remember("t/c/d/r/01-init/run.json", sha(bytes), bytes);
    const recalled = memory.recall("t/c/d/r/01-init/run.json", sha(bytes));
    expect(recalled?.equals(bytes)).toBe(true);
    recalled?.fill(0);
    expect(memory.recall("t/c/d/r/01-init/run.json", sha(bytes))?.equals(bytes)).toBe(true);
  });

  it("holds each remembered blob in an allocation of its own, not a slice of Node's shared buffer pool", () => {
    const memory = new RecentEvidence(1024 * 1024);
    const bytes = Buffer.from('{"small":"blob"}'); // from the pool: its ArrayBuffer is an 8 KiB slab
    expect(bytes.buffer.byteLength).toBeGreaterThan(bytes.byteLength);
    memory.remember("run/02-baseline/baseline.json", sha(bytes), bytes);
    const held = [...(memory as unknown as { entries: Map<string, Buffer> }).entries.values()];
    expect(held.map((b) => b.buffer.byteLength)).toEqual([bytes.byteLength]);
  });

  it("answers nothing for another name, another SHA-256, or bytes that do not hash to the SHA-256 they were filed under", () => {
    const memory = new RecentEvidence(1024 * 1024);
    const bytes = Buffer.from("catalog");
    const other = Buffer.from("catalog, altered");
    memory.remember("run/03-catalog/catalog.json", sha(bytes), bytes);
    expect(memory.recall("other-run/03-catalog/catalog.json", sha(bytes))).toBeUndefined();
    expect(memory.recall("run/03-catalog/catalog.json", sha(other))).toBeUndefined();
    // Filed under a SHA-256 that is not theirs (a caller's bug): hashed again at recall, never served.
    memory.remember("run/02-baseline/baseline.json", sha(bytes), other);
    expect(memory.recall("run/02-baseline/baseline.json", sha(bytes))).toBeUndefined();
  });

  it("does not remember a run command's transcripts or status records: no step decides on them", () => {
    const memory = new RecentEvidence(1024 * 1024);
    const policy = Buffer.from('{"policy":"x"}');
    const transcript = Buffer.from("##patchpilot-section:baseline##\n{}");
    memory.remember("t/c/d/r/01-init/run.json", sha(policy), policy);
    for (const name of ["pp-1-1-pre.stdout.txt", "pp-1-1-pre.stderr.txt", "pp-1-1.status.json"]) {
      const blob = `t/c/d/r/02-baseline/transcripts/${name}`;
      memory.remember(blob, sha(transcript), transcript);
      expect(memory.recall(blob, sha(transcript))).toBeUndefined();
    }
    expect(memory.recall("t/c/d/r/01-init/run.json", sha(policy))?.equals(policy)).toBe(true);
    expect((memory as unknown as { bytes: number }).bytes).toBe(policy.byteLength);
  });

  it("keeps within its budget, dropping the least recently used first", () => {
    const memory = new RecentEvidence(16 * 100); // entries up to 100 bytes
    const blobs = Array.from({ length: 20 }, (_, i) => Buffer.alloc(100, i));
    blobs.slice(0, 16).forEach((b, i) => memory.remember(`b${i}`, sha(b), b));
    // b0 used again: b1 becomes the oldest.
    expect(memory.recall("b0", sha(blobs[0] as Buffer))).toBeDefined();
    memory.remember("b16", sha(blobs[16] as Buffer), blobs[16] as Buffer);
    expect(memory.recall("b1", sha(blobs[1] as Buffer))).toBeUndefined();
    expect(memory.recall("b0", sha(blobs[0] as Buffer))).toBeDefined();
    expect(memory.recall("b16", sha(blobs[16] as Buffer))).toBeDefined();
    // Larger than a sixteenth of the budget: not remembered at all.
    const large = Buffer.alloc(101, 7);
    memory.remember("large", sha(large), large);
    expect(memory.recall("large", sha(large))).toBeUndefined();
  });
});
