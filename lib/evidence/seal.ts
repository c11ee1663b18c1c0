import type { ArtifactIndex, IndexEntry, Manifest } from "../schemas/artifacts/integrity";
import type { RunRef } from "../schemas/common";
import { canonicalJsonBytes } from "./canonicalJson";
import { hashLeaf, merkleRootFromLeafHashes } from "./merkle";
import { sha256Hex } from "./sha256";

/** Leaf data of an artifact in the run's Merkle tree: binds its path and its SHA-256. */
export function merkleLeafData(entry: Pick<IndexEntry, "path" | "sha256">): Buffer {
  return canonicalJsonBytes({ path: entry.path, sha256: entry.sha256 });
}

/** Leaf hashes, in artifact-path order (the order of `artifact-index.json`). */
export function merkleLeafHashes(entries: readonly Pick<IndexEntry, "path" | "sha256">[]): Buffer[] {
  return sortByPath(entries).map((e) => hashLeaf(merkleLeafData(e)));
}

/** RFC 6962 Merkle root (hex) over the entries sorted by path. */
export function merkleRootHex(entries: readonly Pick<IndexEntry, "path" | "sha256">[]): string {
  return merkleRootFromLeafHashes(merkleLeafHashes(entries)).toString("hex");
}

/** Entries sorted by path with plain code-unit order (locale-independent, so every verifier agrees). */
export function sortByPath<T extends { path: string }>(entries: readonly T[]): T[] {
  return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Builds `artifact-index.json` for the artifacts being sealed. */
export function buildArtifactIndex(runId: string, entries: readonly IndexEntry[]): ArtifactIndex {
  const paths = new Set<string>();
  for (const e of entries) {
    if (paths.has(e.path)) throw new Error(`artifact ${e.path} listed twice in the seal`);
    paths.add(e.path);
  }
  return {
    schemaVersion: 1,
    runId,
    entries: sortByPath(entries).map((e) => ({ path: e.path, sha256: e.sha256, size: e.size })),
  };
}

/**
 * `10-index/artifact-index.list.json`: the index's entries as a bare JSON list, the shape the seed's scripts read
 * (`Get-Content artifact-index.json | ConvertFrom-Json | Where-Object { $_.path -like … }`). The manifest seals its
 * SHA-256 (`artifactIndexListSha256`), which anyone can recompute from artifact-index.json's entries.
 */
export const ARTIFACT_INDEX_LIST_PATH = "10-index/artifact-index.list.json";

/** The bytes of {@link ARTIFACT_INDEX_LIST_PATH} for an index (canonical JSON of its entries). */
export function artifactIndexListBytes(index: ArtifactIndex): Buffer {
  return canonicalJsonBytes(index.entries);
}

/** Builds `manifest.json`: the Merkle root over the index and the head of the event chain. */
export function buildManifest(
  run: RunRef,
  sealedAt: string,
  index: ArtifactIndex,
  events: { count: number; chainHead: string },
): Manifest {
  return {
    schemaVersion: 1,
    run,
    sealedAt,
    merkle: { algorithm: "rfc6962-sha256", leafCount: index.entries.length, root: merkleRootHex(index.entries) },
    artifactIndexSha256: sha256Hex(canonicalJsonBytes(index)),
    events,
    // Seed-compatible aliases (see ManifestSchema), sealed with the manifest.
    merkleRoot: merkleRootHex(index.entries),
    eventsChainHead: events.chainHead,
    timestamp: sealedAt,
    artifactIndexListSha256: sha256Hex(artifactIndexListBytes(index)),
  };
}
