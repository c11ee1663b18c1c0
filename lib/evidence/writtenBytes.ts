import type { EvidenceStore } from "./blobStore";
import type { EvidenceDeps } from "./evidenceSession";

/**
 * The evidence dependencies of one activity call, whose store remembers the bytes this call wrote and serves a read
 * of them from memory instead of reading them back. Sound because every evidence write is create-once: the put
 * succeeds only when the blob holds exactly these bytes (written now, or identical bytes written before); different
 * bytes are a conflict and nothing is remembered. Readers still verify what they get against the index row or the
 * run's recorded SHA-256, so an index that disagrees is still caught. Lives as long as the call (the advance that ends
 * a run shares it with its finish: lib/deviceRun/advanceRun.ts); never shared between calls (another activity reads
 * the stored blob, as an auditor would).
 */
export function rememberingWrites<D extends EvidenceDeps>(deps: D): D {
  const store = deps.store;
  const written = new Map<string, Buffer>();
  // A view of the same store (its stats and container included), with put and readBlob wrapped; get() reaches
  // readBlob through `this`, so it is served the same way.
  const remembering = Object.create(store) as EvidenceStore;
  remembering.put = async (run, path, bytes, contentType) => {
    const stored = await store.put(run, path, bytes, contentType);
    written.set(stored.blobName, Buffer.from(bytes));
    return stored;
  };
  remembering.readBlob = async (blobName) => {
    const bytes = written.get(blobName);
    return bytes === undefined ? store.readBlob(blobName) : Buffer.from(bytes);
  };
  return { ...deps, store: remembering };
}
