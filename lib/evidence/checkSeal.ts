import type { ArtifactIndex, Manifest } from "../schemas/artifacts/integrity";
import type { ArtifactRow } from "../schemas/tableRows";
import { canonicalJsonBytes } from "./canonicalJson";
import { verifyEvents } from "./hashChain";
import { ARTIFACT_INDEX_LIST_PATH, artifactIndexListBytes, merkleRootHex, sortByPath } from "./seal";
import { sha256Hex } from "./sha256";

/**
 * Checks a run's seal against its index: the manifest's Merkle root over the index rows marked as leaves, the
 * artifact index it names, and the event chain head. Returns the problems found (empty when the seal holds).
 */
export function checkSeal(
  runId: string,
  manifest: Manifest,
  rows: ReadonlyMap<string, ArtifactRow>,
  artifactIndex: ArtifactIndex | undefined,
  events: readonly unknown[] | undefined,
): string[] {
  const problems: string[] = [];
  const leaves = sortByPath([...rows.values()].filter((r) => r.merkleLeaf));
  const root = merkleRootHex(leaves);
  if (root !== manifest.merkle.root)
    problems.push(`Merkle root of the index is ${root}, manifest says ${manifest.merkle.root}`);
  if (leaves.length !== manifest.merkle.leafCount) {
    problems.push(`index has ${leaves.length} sealed artifacts, manifest says ${manifest.merkle.leafCount}`);
  }
  if (artifactIndex !== undefined) {
    const indexSha = sha256Hex(canonicalJsonBytes(artifactIndex));
    if (indexSha !== manifest.artifactIndexSha256)
      problems.push("artifact-index.json is not the one the manifest sealed");
    const listed = artifactIndex.entries.map((e) => `${e.path}:${e.sha256}`).join("\n");
    const indexed = leaves.map((r) => `${r.path}:${r.sha256}`).join("\n");
    if (listed !== indexed) problems.push("artifact-index.json and the table index list different artifacts");
    // The seed-shaped list alias: sealed by its SHA-256 in the manifest, which must be the one of these entries.
    if (manifest.artifactIndexListSha256 !== undefined) {
      if (sha256Hex(artifactIndexListBytes(artifactIndex)) !== manifest.artifactIndexListSha256)
        problems.push("manifest's artifactIndexListSha256 is not the hash of artifact-index.json's entries");
      const row = rows.get(ARTIFACT_INDEX_LIST_PATH);
      if (row !== undefined && row.sha256 !== manifest.artifactIndexListSha256)
        problems.push(`${ARTIFACT_INDEX_LIST_PATH} is not the list the manifest sealed`);
    }
  }
  if (events !== undefined) {
    const chain = verifyEvents(events, runId);
    problems.push(...chain.problems.map((p) => `events.jsonl ${p}`));
    if (chain.head !== manifest.events.chainHead)
      problems.push(`event chain head is ${chain.head}, manifest says ${manifest.events.chainHead}`);
    if (chain.count !== manifest.events.count)
      problems.push(`events.jsonl has ${chain.count} events, manifest says ${manifest.events.count}`);
  }
  return problems;
}
