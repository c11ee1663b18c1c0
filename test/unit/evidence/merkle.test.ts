import * as crypto from "node:crypto";
import {
  HASH_SIZE,
  type InclusionProof,
  hashChildren,
  hashLeaf,
  inclusionProof,
  merkleRoot,
  merkleRootFromLeafHashes,
  toHexProof,
  verifyHexProof,
  verifyInclusion,
} from "../../../lib/evidence/merkle";

// Counting SHA-256 instantiations is the only deterministic way to prove the tree
// work is linear; the wrapper delegates to the real implementation.
jest.mock("node:crypto", () => {
  const actual = jest.requireActual<typeof import("node:crypto")>("node:crypto");
  return { ...actual, createHash: jest.fn(actual.createHash) };
});
const createHashMock = jest.mocked(crypto.createHash);

const h = (hex: string): Buffer => Buffer.from(hex, "hex");
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/*
 * Published RFC 6962 test vectors, copied verbatim from transparency-dev/merkle (the
 * Merkle code split out of google/trillian, also used by google/certificate-transparency-go):
 *   - testonly/constants.go (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1):
 *     LeafInputs(), NodeHashes(), RootHashes(), EmptyRootHash()
 *   - proof/verify_test.go (commit 02194e9afb6c1d95b5381350007963aa70fff472):
 *     `inclusionProofs` (1-based leaf numbers there, converted to 0-based indices here),
 *     `sha256SomeHash`, and the corruption probes of corruptInclusionProof()
 *   - proof/proof_test.go (commit 02a3e2029520f515596d5238c54fb0ac9e19bff4):
 *     TestInclusion node-ID paths for the RFC 6962 example tree, resolved to hashes via NodeHashes()
 */
const LEAF_INPUTS: readonly Buffer[] = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
].map(h);

/** NodeHashes()[level][index]: complete-subtree hashes of the 8-leaf tree. */
const NODE_HASHES: readonly (readonly string[])[] = [
  [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
  ],
  [
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
  ],
  [
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
  ],
  ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

const EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** RootHashes(), indexed by tree size 0..8. */
const ROOTS: readonly string[] = [
  EMPTY_ROOT,
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const SOME_HASH = "abacaba000000000000000000000000000000000000000000060061e00123456";

type Vector = { index: number; size: number; proof: readonly string[] };

/** verify_test.go `inclusionProofs` ({1,1},{1,8},{6,8},{3,3},{2,5} with 1-based leaves). */
const PUBLISHED_INCLUSION: readonly Vector[] = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  { index: 2, size: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
  {
    index: 1,
    size: 5,
    proof: [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
];

// proof_test.go names the nodes of the example tree a..j (leaves), g,h,i (level 1), k (level 2).
const nh = (level: number, index: number): string => {
  const v = NODE_HASHES[level]?.[index];
  if (v === undefined) throw new Error(`no node hash ${level}/${index}`);
  return v;
};
const [a, b, c, d, e, f, j] = [nh(0, 0), nh(0, 1), nh(0, 2), nh(0, 3), nh(0, 4), nh(0, 5), nh(0, 6)];
const [g, hh, i] = [nh(1, 0), nh(1, 1), nh(1, 2)];
const k = nh(2, 0);
// proof_test.go's rehash(2, 4, …, j, i) folds j and i into l = hash(i, j), the right
// subtree of the 7-leaf tree, which is not a complete subtree and so not in NodeHashes().
const l = toHex(hashChildren(h(i), h(j)));

/** proof_test.go TestInclusion paths (non-error cases), resolved to node hashes. */
const STRUCTURAL_INCLUSION: readonly Vector[] = [
  { size: 2, index: 0, proof: [b] },
  { size: 2, index: 1, proof: [a] },
  { size: 3, index: 1, proof: [a, c] },
  { size: 7, index: 0, proof: [b, hh, l] },
  { size: 7, index: 1, proof: [a, hh, l] },
  { size: 7, index: 2, proof: [d, g, l] },
  { size: 7, index: 3, proof: [c, g, l] },
  { size: 7, index: 4, proof: [f, j, k] },
  { size: 7, index: 5, proof: [e, j, k] },
  { size: 7, index: 6, proof: [i, k] },
  { size: 4, index: 2, proof: [d, g] },
  { size: 5, index: 3, proof: [c, g, e] },
  { size: 6, index: 3, proof: [c, g, i] },
  { size: 6, index: 4, proof: [f, k] },
];

const LEAF_HASHES: readonly Buffer[] = LEAF_INPUTS.map(hashLeaf);
const rootOf = (size: number): Buffer => {
  const r = ROOTS[size];
  if (r === undefined) throw new Error(`no root for size ${size}`);
  return h(r);
};
const leafHashOf = (index: number): Buffer => {
  const lh = LEAF_HASHES[index];
  if (lh === undefined) throw new Error(`no leaf ${index}`);
  return lh;
};

// Independent, deliberately naive transcription of RFC 6962 §2.1 / §2.1.1 (slicing,
// Buffer.concat) used as an oracle for sizes beyond the published vectors.
const sha256 = (...parts: Uint8Array[]): Buffer => crypto.createHash("sha256").update(Buffer.concat(parts)).digest();
const refSplit = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
function refMth(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return sha256(Uint8Array.of(0), leaves[0] as Uint8Array);
  const split = refSplit(leaves.length);
  return sha256(Uint8Array.of(1), refMth(leaves.slice(0, split)), refMth(leaves.slice(split)));
}
function refPath(m: number, leaves: readonly Uint8Array[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const split = refSplit(leaves.length);
  return m < split
    ? [...refPath(m, leaves.slice(0, split)), refMth(leaves.slice(split))]
    : [...refPath(m - split, leaves.slice(split)), refMth(leaves.slice(0, split))];
}

type Probe = { desc: string; leafHash: Uint8Array; index: number; size: number; proof: Uint8Array[]; root: Uint8Array };

/** Port of verify_test.go corruptInclusionProof(): every probe must fail verification. */
function corruptions(leafHash: Buffer, index: number, size: number, proof: Buffer[], root: Buffer): Probe[] {
  const base = { leafHash, index, size, proof, root };
  const probes: Probe[] = [
    { ...base, desc: "leafIndex - 1", index: index - 1 },
    { ...base, desc: "leafIndex + 1", index: index + 1 },
    { ...base, desc: "leafIndex ^ 2", index: index ^ 2 },
    { ...base, desc: "treeSize * 2", size: size * 2 },
    { ...base, desc: "treeSize / 2", size: Math.floor(size / 2) },
    { ...base, desc: "wrong leaf (raw bytes)", leafHash: Buffer.from("WrongLeaf") },
    { ...base, desc: "wrong leaf (hash)", leafHash: hashLeaf(Buffer.from("WrongLeaf")) },
    { ...base, desc: "empty root", root: h(EMPTY_ROOT) },
    { ...base, desc: "random root", root: h(SOME_HASH) },
    { ...base, desc: "trailing garbage", proof: [...proof, Buffer.alloc(0)] },
    { ...base, desc: "trailing root", proof: [...proof, root] },
    { ...base, desc: "preceding garbage", proof: [Buffer.alloc(0), ...proof] },
    { ...base, desc: "preceding root", proof: [root, ...proof] },
  ];
  proof.forEach((_, n) => {
    // Copy every node so the published vector itself is never mutated.
    const wrong = proof.map((p, m) => {
      const copy = Buffer.from(p);
      if (m === n) copy.writeUInt8(copy.readUInt8(0) ^ 8, 0);
      return copy;
    });
    probes.push({ ...base, desc: `modified proof[${n}] bit 3`, proof: wrong });
  });
  if (proof.length > 0) probes.push({ ...base, desc: "removed component", proof: proof.slice(0, -1) });
  if (proof.length > 1) {
    probes.push({ ...base, desc: "inserted component", proof: [proof[0] as Buffer, h(SOME_HASH), ...proof.slice(1)] });
  }
  return probes;
}

describe("RFC 6962 Merkle tree against published CT/Trillian vectors", () => {
  test("leaf hashes equal NodeHashes() level 0", () => {
    expect(LEAF_HASHES.map(toHex)).toEqual(NODE_HASHES[0]);
  });

  test("the empty tree root is SHA-256 of the empty string", () => {
    expect(toHex(merkleRoot([]))).toBe(EMPTY_ROOT);
    expect(toHex(merkleRootFromLeafHashes([]))).toBe(EMPTY_ROOT);
  });

  test.each([1, 2, 3, 4, 5, 6, 7, 8])("root of the first %i leaves", (size) => {
    expect(toHex(merkleRoot(LEAF_INPUTS.slice(0, size)))).toBe(ROOTS[size]);
    expect(toHex(merkleRootFromLeafHashes(LEAF_HASHES.slice(0, size)))).toBe(ROOTS[size]);
  });

  test("every complete subtree equals NodeHashes()", () => {
    NODE_HASHES.forEach((level, lvl) => {
      level.forEach((expected, idx) => {
        const width = 2 ** lvl;
        expect(toHex(merkleRoot(LEAF_INPUTS.slice(idx * width, (idx + 1) * width)))).toBe(expected);
      });
    });
  });

  test("hashChildren combines as 0x01 || left || right", () => {
    expect(toHex(hashChildren(h(a), h(b)))).toBe(nh(1, 0));
    expect(toHex(hashChildren(h(g), h(hh)))).toBe(k);
  });

  describe.each([
    ...PUBLISHED_INCLUSION.map((v) => ({ ...v, source: "verify_test.go" })),
    ...STRUCTURAL_INCLUSION.map((v) => ({ ...v, source: "proof_test.go" })),
  ])("inclusion proof for leaf $index of $size ($source)", ({ index, size, proof }) => {
    const leafHash = leafHashOf(index);
    const root = rootOf(size);
    const expected = proof.map(h);

    test("is generated exactly as published", () => {
      expect(inclusionProof(LEAF_HASHES.slice(0, size), index).map(toHex)).toEqual(proof);
    });

    test("verifies", () => {
      expect(verifyInclusion(leafHash, index, size, expected, root)).toBe(true);
    });

    test("verifies after a JSON round trip", () => {
      const stored = JSON.parse(JSON.stringify(toHexProof(index, size, expected, root))) as InclusionProof;
      expect(stored).toEqual({ leafIndex: index, treeSize: size, auditPath: [...proof], root: ROOTS[size] });
      expect(verifyHexProof(toHex(leafHash), stored)).toBe(true);
    });

    test.each(corruptions(leafHash, index, size, expected, root))("rejects: $desc", (probe) => {
      expect(verifyInclusion(probe.leafHash, probe.index, probe.size, probe.proof, probe.root)).toBe(false);
    });
  });

  // verify_test.go TestVerifyInclusion: degenerate index/size pairs with an empty proof.
  test.each([
    [0, 0],
    [0, 1],
    [1, 0],
    [2, 1],
  ])("rejects bogus root/leaf for index %i, size %i", (index, size) => {
    expect(verifyInclusion(h(SOME_HASH), index, size, [], Buffer.alloc(0))).toBe(false);
    expect(verifyInclusion(Buffer.alloc(0), index, size, [], h(EMPTY_ROOT))).toBe(false);
    expect(verifyInclusion(h(SOME_HASH), index, size, [], h(EMPTY_ROOT))).toBe(false);
  });

  // verify_test.go TestVerifyInclusionSingleEntry: in a 1-leaf tree the root is the leaf hash.
  test("single-entry tree", () => {
    const hash = hashLeaf(Buffer.from("data"));
    const empty = Buffer.alloc(0);
    expect(verifyInclusion(hash, 0, 1, [], hash)).toBe(true);
    expect(verifyInclusion(empty, 0, 1, [], hash)).toBe(false);
    expect(verifyInclusion(hash, 0, 1, [], empty)).toBe(false);
    expect(verifyInclusion(empty, 0, 1, [], empty)).toBe(false);
  });
});

describe("input validation", () => {
  test("inclusionProof throws RangeError for an out-of-range index", () => {
    const leaves = LEAF_HASHES.slice(0, 5);
    for (const bad of [-1, 5, 6, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => inclusionProof(leaves, bad)).toThrow(RangeError);
    }
    expect(() => inclusionProof([], 0)).toThrow(RangeError);
  });

  test("tree construction rejects raw leaves passed as leaf hashes", () => {
    expect(() => merkleRootFromLeafHashes([Buffer.from("not a hash")])).toThrow(TypeError);
    expect(() => inclusionProof([leafHashOf(0), Buffer.alloc(31)], 0)).toThrow(TypeError);
  });

  test("verifyInclusion returns false instead of throwing on malformed input", () => {
    const proof = PUBLISHED_INCLUSION[2]?.proof.map(h) ?? [];
    const leaf = leafHashOf(5);
    const root = rootOf(8);
    expect(verifyInclusion(leaf, 5, 8, proof, root)).toBe(true);
    for (const index of [Number.NaN, 5.5, -5, Number.POSITIVE_INFINITY, 8, 2 ** 60]) {
      expect(verifyInclusion(leaf, index, 8, proof, root)).toBe(false);
    }
    for (const size of [Number.NaN, 8.5, 0, -8, Number.POSITIVE_INFINITY]) {
      expect(verifyInclusion(leaf, 5, size, proof, root)).toBe(false);
    }
    const shortNode = proof.map((p, n) => (n === 1 ? p.subarray(0, 31) : p));
    expect(verifyInclusion(leaf, 5, 8, shortNode, root)).toBe(false);
    const unsafe = verifyInclusion as unknown as (...args: unknown[]) => boolean;
    expect(unsafe(leaf, 5, 8, null, root)).toBe(false);
    expect(unsafe(leaf, 5, 8, [null, ...proof.slice(1)], root)).toBe(false);
    expect(unsafe(null, 5, 8, proof, root)).toBe(false);
    expect(unsafe(leaf, 5, 8, proof, "root")).toBe(false);
    expect(unsafe(leaf, "5", 8, proof, root)).toBe(false);
  });

  test("verifyHexProof rejects malformed or tampered JSON proofs", () => {
    const leaf = toHex(leafHashOf(5));
    const good = toHexProof(5, 8, inclusionProof(LEAF_HASHES, 5), rootOf(8));
    expect(verifyHexProof(leaf, good)).toBe(true);
    expect(verifyHexProof(leaf.toUpperCase(), { ...good, root: good.root.toUpperCase() })).toBe(true);

    const first = good.auditPath[0] ?? "";
    const bad: InclusionProof[] = [
      { ...good, root: good.root.slice(0, 62) },
      { ...good, root: `${good.root.slice(0, 63)}g` },
      { ...good, auditPath: [`${first.slice(0, 63)}z`, ...good.auditPath.slice(1)] },
      { ...good, auditPath: [`${first}00`, ...good.auditPath.slice(1)] },
      { ...good, auditPath: good.auditPath.slice(1) },
      { ...good, leafIndex: 4 },
      { ...good, treeSize: 7 * 2 },
    ];
    for (const p of bad) expect(verifyHexProof(leaf, p)).toBe(false);
    expect(verifyHexProof(`${leaf}00`, good)).toBe(false);
    expect(verifyHexProof("", good)).toBe(false);
    const unsafe = verifyHexProof as unknown as (...args: unknown[]) => boolean;
    expect(unsafe(leaf, null)).toBe(false);
    expect(unsafe(leaf, { ...good, auditPath: "nope" })).toBe(false);
    expect(unsafe(leaf, { ...good, auditPath: [1, 2, 3] })).toBe(false);
    expect(unsafe(42, good)).toBe(false);
  });
});

describe("property: sizes 1..70 against a naive RFC 6962 oracle", () => {
  const allLeaves = Array.from({ length: 70 }, (_, n) => Buffer.from(`leaf-${n}`));
  const allHashes = allLeaves.map(hashLeaf);

  test.each(Array.from({ length: 70 }, (_, n) => n + 1))("tree size %i", (size) => {
    const leaves = allLeaves.slice(0, size);
    const leafHashes = allHashes.slice(0, size);
    const root = merkleRootFromLeafHashes(leafHashes);
    expect(root.equals(refMth(leaves))).toBe(true);
    expect(merkleRoot(leaves).equals(root)).toBe(true);

    for (let index = 0; index < size; index++) {
      const proof = inclusionProof(leafHashes, index);
      expect(proof.map(toHex)).toEqual(refPath(index, leaves).map(toHex));
      const leafHash = leafHashes[index] as Buffer;
      expect(verifyInclusion(leafHash, index, size, proof, root)).toBe(true);
      const other = size > 1 ? (leafHashes[(index + 1) % size] as Buffer) : hashLeaf(Buffer.from("other"));
      expect(verifyInclusion(other, index, size, proof, root)).toBe(false);
    }
  });
});

describe("scaling", () => {
  test("10,000 leaves: root needs exactly n - 1 hashes and a proof at most n - 1", () => {
    const n = 10_000;
    const leaves = Array.from({ length: n }, (_, x) => Buffer.from(`entry-${x}`));
    const leafHashes = leaves.map(hashLeaf);
    createHashMock.mockClear();

    const root = merkleRootFromLeafHashes(leafHashes);
    expect(createHashMock).toHaveBeenCalledTimes(n - 1);

    for (const index of [0, 1, 4095, 8191, 8192, n - 2, n - 1]) {
      createHashMock.mockClear();
      const proof = inclusionProof(leafHashes, index);
      // The sibling subtrees are disjoint and together hold n - 1 leaves.
      expect(createHashMock.mock.calls.length).toBeLessThanOrEqual(n - 1);
      expect(verifyInclusion(leafHashes[index] as Buffer, index, n, proof, root)).toBe(true);
    }
    expect(root.equals(refMth(leaves))).toBe(true);
    expect(HASH_SIZE).toBe(root.length);
  });
});
