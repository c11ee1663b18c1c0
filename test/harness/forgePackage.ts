import { ARTIFACTS } from "../../lib/domain/artifacts";
import { canonicalJsonBytes } from "../../lib/evidence/canonicalJson";
import { inclusionProof, merkleRootFromLeafHashes } from "../../lib/evidence/merkle";
import {
  ARTIFACT_INDEX_LIST_PATH,
  artifactIndexListBytes,
  buildArtifactIndex,
  merkleLeafHashes,
  merkleRootHex,
  sortByPath,
} from "../../lib/evidence/seal";
import { sha256Hex } from "../../lib/evidence/sha256";
import type { PackageIndex, PackageManifest, PackageProofs } from "../../lib/export/packageLayout";
import type { Manifest } from "../../lib/schemas/artifacts/integrity";
import type { RunReceipt } from "../../lib/schemas/artifacts/receipt";
import { readZip, writeZip } from "./zipFiles";

/**
 * A forger with write access to a package and every tool PatchPilot has: edits files, then recomputes whatever a
 * self-consistent package needs (index.json rows, and with `reseal` the run's artifact index, manifest, root, proofs,
 * receipt and export.json's root), and SHA256SUMS last. What it cannot make is a signature of the log's key.
 */
export class PackageForger {
  private constructor(readonly files: Map<string, Buffer>) {}

  static async open(zip: string): Promise<PackageForger> {
    return new PackageForger(await readZip(zip));
  }

  json<T>(path: string): T {
    const bytes = this.files.get(path);
    if (bytes === undefined) throw new Error(`no ${path} in the package`);
    return JSON.parse(bytes.toString("utf8")) as T;
  }

  text(path: string): string {
    return (this.files.get(path) ?? Buffer.alloc(0)).toString("utf8");
  }

  set(path: string, bytes: Buffer | string): this {
    this.files.set(path, typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes);
    return this;
  }

  /** Pretty JSON as the export writes its own files. */
  setJson(path: string, value: unknown): this {
    return this.set(path, `${JSON.stringify(value, null, 2)}\n`);
  }

  /** Canonical JSON as the evidence store writes artifacts. */
  setCanonical(path: string, value: unknown): this {
    return this.set(path, canonicalJsonBytes(value));
  }

  remove(prefix: string): this {
    for (const path of [...this.files.keys()]) if (path.startsWith(prefix)) this.files.delete(path);
    return this;
  }

  /** Rewrites a run's index.json rows (hash and size) from the files as they now are; rows of removed files go. */
  reindex(folder: string): this {
    const indexPath = `${folder}index.json`;
    const index = this.json<PackageIndex>(indexPath);
    index.rows = index.rows
      .filter((r) => this.files.has(`${folder}${r.path}`))
      .map((r) => {
        const bytes = this.files.get(`${folder}${r.path}`) as Buffer;
        return { ...r, sha256: sha256Hex(bytes), size: bytes.length };
      });
    return this.setJson(indexPath, index);
  }

  /** Re-seals a run over its files as they now are: artifact index, manifest, proofs, receipt, export.json's root. */
  reseal(folder: string): this {
    this.reindex(folder);
    const index = this.json<PackageIndex>(`${folder}index.json`);
    const leaves = sortByPath(index.rows.filter((r) => r.merkleLeaf));
    const manifestPath = `${folder}${ARTIFACTS.manifest.path}`;
    const manifest = this.json<Manifest>(manifestPath);
    const artifactIndex = buildArtifactIndex(manifest.run.runId, leaves);
    this.setCanonical(`${folder}${ARTIFACTS.artifactIndex.path}`, artifactIndex);
    const events = this.text(`${folder}${ARTIFACTS.events.path}`)
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { hash: string });
    const sealed: Manifest = {
      ...manifest,
      merkle: { ...manifest.merkle, leafCount: leaves.length, root: merkleRootHex(leaves) },
      artifactIndexSha256: sha256Hex(canonicalJsonBytes(artifactIndex)),
      events: { count: events.length, chainHead: events.at(-1)?.hash ?? "0".repeat(64) },
    };
    // A forger who knows the format recomputes the seed-compatible aliases and the index list too.
    if (manifest.merkleRoot !== undefined) sealed.merkleRoot = sealed.merkle.root;
    if (manifest.eventsChainHead !== undefined) sealed.eventsChainHead = sealed.events.chainHead;
    if (manifest.artifactIndexListSha256 !== undefined) {
      const list = artifactIndexListBytes(artifactIndex);
      if (this.files.has(`${folder}${ARTIFACT_INDEX_LIST_PATH}`))
        this.files.set(`${folder}${ARTIFACT_INDEX_LIST_PATH}`, list);
      sealed.artifactIndexListSha256 = sha256Hex(list);
    }
    this.setCanonical(manifestPath, sealed);
    this.reindex(folder);
    // The index lists the new artifact index and manifest; the Merkle leaves (artifact index excluded) are unchanged.
    const rows = this.json<PackageIndex>(`${folder}index.json`).rows;
    const leafRows = sortByPath(rows.filter((r) => r.merkleLeaf));
    const hashes = merkleLeafHashes(leafRows);
    const proofsPath = `${folder}proofs.json`;
    const proofs = this.json<PackageProofs>(proofsPath);
    this.setJson(proofsPath, {
      ...proofs,
      treeSize: leafRows.length,
      root: merkleRootFromLeafHashes(hashes).toString("hex"),
      proofs: leafRows.map((r, i) => ({
        path: r.path,
        sha256: r.sha256,
        leafIndex: i,
        leafHash: (hashes[i] as Buffer).toString("hex"),
        auditPath: inclusionProof(hashes, i).map((h) => h.toString("hex")),
      })),
    });
    const receiptPath = `${folder}${ARTIFACTS.receipt.path}`;
    if (this.files.has(receiptPath)) {
      const receipt = this.json<RunReceipt>(receiptPath);
      const sha = (p: string): string => sha256Hex(this.files.get(`${folder}${p}`) ?? Buffer.alloc(0));
      this.setCanonical(receiptPath, {
        ...receipt,
        merkleRoot: sealed.merkle.root,
        manifestSha256: sha(ARTIFACTS.manifest.path),
        exitCode: { ...receipt.exitCode, sha256: sha(ARTIFACTS.exitCode.path) },
        files: receipt.files.map((f) => ({
          ...f,
          sha256: sha(f.path),
          size: (this.files.get(`${folder}${f.path}`) ?? Buffer.alloc(0)).length,
        })),
      });
      this.reindex(folder);
    }
    const exportJson = this.json<PackageManifest>("export.json");
    for (const r of exportJson.runs)
      if (r.folder === folder)
        Object.assign(r, { merkleRoot: sealed.merkle.root, eventsChainHead: sealed.events.chainHead });
    return this.setJson("export.json", exportJson);
  }

  /** Rewrites SHA256SUMS over every other file and writes the zip. */
  async write(to: string): Promise<void> {
    this.files.delete("SHA256SUMS");
    const lines = [...this.files].map(([path, bytes]) => `${sha256Hex(bytes)}  ${path}\n`).join("");
    this.files.set("SHA256SUMS", Buffer.from(lines, "utf8"));
    await writeZip(to, this.files);
  }
}
