import { parseArtifact, type ArtifactSpec } from "../domain/artifacts";
import type { StoredArtifact } from "../evidence/blobStore";
import { toTableKey } from "../evidence/keys";
import { isInsideRun, openEvidenceSession } from "../evidence/evidenceSession";
import { recentEvidence } from "../evidence/recentEvidence";
import { putArtifact, type EvidenceDeps } from "../evidence/runEvidence";
import type { RunRef } from "../schemas/common";
import type { StoredArtifactRef } from "../schemas/deviceRun";

/** The reference a device run keeps of what it stored (no `created`: a retry must produce the same state). */
export function refOf(stored: StoredArtifact): StoredArtifactRef {
  return {
    path: stored.path,
    blobName: stored.blobName,
    sha256: stored.sha256,
    size: stored.size,
    ...(stored.versionId === undefined ? {} : { versionId: stored.versionId }),
  };
}

/**
 * Accumulates what one activity stores, on top of what the run had stored before. A path already recorded is not
 * recorded twice (a retried write of identical bytes returns the same reference).
 */
export class StoredList {
  private readonly refs: StoredArtifactRef[];

  constructor(initial: readonly StoredArtifactRef[]) {
    this.refs = [...initial];
  }

  /** Stores an artifact (create-once, schema-checked) and records it. */
  async put(deps: EvidenceDeps, run: RunRef, spec: ArtifactSpec, value: unknown): Promise<StoredArtifactRef> {
    const ref = refOf(await putArtifact(deps, run, spec, value));
    this.add(ref);
    return ref;
  }

  /** Records a reference. */
  add(ref: StoredArtifactRef): void {
    if (!this.refs.some((r) => r.path === ref.path)) this.refs.push(ref);
  }

  /** The reference stored at a path, if any. */
  find(path: string): StoredArtifactRef | undefined {
    return this.refs.find((r) => r.path === path);
  }

  /** Every reference, in the order stored. */
  list(): StoredArtifactRef[] {
    return [...this.refs];
  }
}

/**
 * Reads an artifact this run stored and checks it against the SHA-256 recorded when it was stored (the index rows are
 * only written at the seal, so the run's own references stand in for them). Undefined when it was never stored;
 * an artifact that no longer matches is an error: the run must not decide on altered evidence. Served from the
 * process's memory of recent evidence when it holds these bytes (lib/evidence/recentEvidence.ts): the steps of a run
 * read the policy and the catalog without a storage request; the finishing step still reads every artifact back.
 */
export async function readStored<T>(
  deps: EvidenceDeps,
  run: RunRef,
  refs: readonly StoredArtifactRef[],
  spec: ArtifactSpec,
): Promise<T | undefined> {
  const ref = refs.find((r) => r.path === spec.path);
  if (ref === undefined) return undefined;
  const row = { partitionKey: run.runId, rowKey: toTableKey(ref.path), merkleLeaf: true, ...ref };
  const fail = (status: string, problem?: string): Error =>
    new Error(`${spec.path} of run ${run.runId} is ${status}${problem ? ` (${problem})` : ""}`);
  // What an earlier step of this run stored (or read) in this process, by name and SHA-256, hashed again; the blob
  // is read only when it is not remembered. Either way the bytes match the run's own reference before use.
  let bytes = isInsideRun(run, row) ? recentEvidence.recall(ref.blobName, ref.sha256) : undefined;
  if (bytes === undefined || bytes.byteLength !== ref.size) {
    // Confined to the run's folder and verified like every read (the row is the run's own reference).
    const loaded = await openEvidenceSession(deps, run).readBytesAgainst(spec.path, row);
    if (loaded.bytes === undefined) throw fail(loaded.read.status, loaded.read.problem);
    bytes = loaded.bytes;
    recentEvidence.remember(ref.blobName, ref.sha256, bytes);
  }
  const parsed = parseArtifact(spec, bytes);
  if (!parsed.ok) throw fail(parsed.kind, parsed.problem);
  return parsed.value as T;
}
