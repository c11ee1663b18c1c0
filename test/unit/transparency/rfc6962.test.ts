import { readFileSync } from "node:fs";
import path from "node:path";
import { hashLeaf, merkleRootFromLeafHashes, verifyInclusion } from "../../../lib/evidence/merkle";
import {
  appendLeaf,
  consistencyProof,
  rangeRoot,
  verifyConsistency,
  type CompactRange,
} from "../../../lib/transparency/consistency";

// Outside truth: responses of Google's Argon 2020 Certificate Transparency log, as vendored by the Go sumdb tlog package
// (test/fixtures/reference/golang-mod-sumdb-tlog/README.md says where from).
const CT = path.resolve(__dirname, "../../fixtures/reference/golang-mod-sumdb-tlog/argon2020");
const read = <T>(file: string): T => JSON.parse(readFileSync(path.join(CT, file), "utf8")) as T;
const b64 = (s: string): Buffer => Buffer.from(s, "base64");

describe("RFC 6962 against a real Certificate Transparency log (Argon 2020)", () => {
  const sth = read<{ tree_size: number; sha256_root_hash: string }>("sth.json");
  const older = read<{ tree_size: number; sha256_root_hash: string }>("older-sth.json");
  const entry = read<{ entries: { leaf_input: string }[] }>("entries.json").entries[0] as { leaf_input: string };
  const proof = read<{ leaf_index: number; audit_path: string[] }>("proof.json");
  const consistency = read<{ consistency: string[] }>("consistency.json").consistency.map(b64);

  it("verifies the log's inclusion proof of entry 10000 in its tree of 961,984,013 leaves", () => {
    const leaf = hashLeaf(b64(entry.leaf_input));
    const audit = proof.audit_path.map(b64);
    const root = b64(sth.sha256_root_hash);
    expect(verifyInclusion(leaf, proof.leaf_index, sth.tree_size, audit, root)).toBe(true);
    expect(verifyInclusion(leaf, proof.leaf_index + 1, sth.tree_size, audit, root)).toBe(false);
  });

  it("verifies the log's consistency proof from size 3,654,490 and refuses it for a wrong root or size", () => {
    const oldRoot = b64(older.sha256_root_hash);
    const newRoot = b64(sth.sha256_root_hash);
    expect(verifyConsistency(older.tree_size, sth.tree_size, oldRoot, newRoot, consistency)).toBe(true);
    expect(verifyConsistency(older.tree_size, sth.tree_size, newRoot, newRoot, consistency)).toBe(false);
    expect(verifyConsistency(older.tree_size + 1, sth.tree_size, oldRoot, newRoot, consistency)).toBe(false);
    expect(verifyConsistency(older.tree_size, sth.tree_size, oldRoot, newRoot, consistency.slice(1))).toBe(false);
  });
});

describe("consistency proofs and the compact range over our own trees", () => {
  const leaves = Array.from({ length: 70 }, (_, i) => hashLeaf(Buffer.from(`leaf ${i}`)));

  it("proves every pair of sizes up to 70 leaves, and no proof passes for a different old tree", () => {
    for (let n = 1; n <= leaves.length; n++) {
      const newRoot = merkleRootFromLeafHashes(leaves.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const oldRoot = merkleRootFromLeafHashes(leaves.slice(0, m));
        const p = consistencyProof(leaves, m, n);
        expect(verifyConsistency(m, n, oldRoot, newRoot, p)).toBe(true);
        if (m < n && !oldRoot.equals(newRoot)) expect(verifyConsistency(m, n, newRoot, newRoot, p)).toBe(false);
      }
    }
    // A forked old tree (leaf 3 replaced) is not a prefix.
    const forked = [...leaves.slice(0, 3), hashLeaf(Buffer.from("forged")), ...leaves.slice(4, 10)];
    const p = consistencyProof(leaves, 10, 40);
    expect(
      verifyConsistency(10, 40, merkleRootFromLeafHashes(forked), merkleRootFromLeafHashes(leaves.slice(0, 40)), p),
    ).toBe(false);
  });

  it("matches the RFC 6962 root at every size when leaves are appended to the compact range", () => {
    let range: CompactRange = { size: 0, nodes: [] };
    expect(rangeRoot(range).equals(merkleRootFromLeafHashes([]))).toBe(true);
    for (let i = 0; i < leaves.length; i++) {
      range = appendLeaf(range, leaves[i] as Buffer);
      expect(rangeRoot(range).toString("hex")).toBe(merkleRootFromLeafHashes(leaves.slice(0, i + 1)).toString("hex"));
      // One node per set bit of the size.
      expect(range.nodes.length).toBe((i + 1).toString(2).replace(/0/g, "").length);
    }
  });
});
