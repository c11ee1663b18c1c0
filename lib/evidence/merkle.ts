// RFC 6962 §2.1 / RFC 9162 §2.1 Merkle tree. Following the Certificate Transparency
// layout exactly (rather than an ad-hoc tree) lets third parties check our evidence
// proofs with any off-the-shelf CT/transparency-log verifier.
import { createHash } from "node:crypto";

/** SHA-256 output size; every leaf hash, node and root must be exactly this long. */
export const HASH_SIZE = 32;

// Distinct prefixes keep leaf and interior-node preimages disjoint, which is what
// stops an attacker presenting an interior node as a leaf (second-preimage attack).
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** Leaf hash SHA-256(0x00 || leaf), domain-separated from interior nodes per RFC 6962. */
export function hashLeaf(leaf: Uint8Array): Buffer {
  return createHash("sha256").update(LEAF_PREFIX).update(leaf).digest();
}

/** Interior node hash SHA-256(0x01 || left || right), domain-separated from leaves per RFC 6962. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(NODE_PREFIX).update(left).update(right).digest();
}

// Cross-realm safe (Jest runs tests in a separate vm context, where `instanceof
// Uint8Array` can be false for a perfectly good Buffer).
function isHash(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) && (value as Uint8Array).BYTES_PER_ELEMENT === 1 && value.byteLength === HASH_SIZE;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

// Only called with n >= 2; the split point k of RFC 6962 (k < n <= 2k).
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// Index access with noUncheckedIndexedAccess; callers only pass in-range indices,
// so a miss means an internal bug rather than bad input.
function leafAt(leafHashes: readonly Uint8Array[], i: number): Uint8Array {
  const h = leafHashes[i];
  if (h === undefined) throw new Error(`merkle: internal error, no leaf hash at ${i}`);
  return h;
}

// Works on index ranges instead of slices so each node is hashed once: n - 1
// hashes for n leaves and O(log n) recursion depth, with no array copying.
function subtreeRoot(leafHashes: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 1) return leafAt(leafHashes, lo);
  const k = splitPoint(n);
  return hashChildren(subtreeRoot(leafHashes, lo, lo + k), subtreeRoot(leafHashes, lo + k, hi));
}

// Feeding raw leaves where leaf hashes are expected is the easy mistake here, and
// it would silently produce a valid-looking but wrong root.
function assertLeafHashes(leafHashes: readonly Uint8Array[]): void {
  for (let i = 0; i < leafHashes.length; i++) {
    if (!isHash(leafHashes[i])) {
      throw new TypeError(`merkle: leaf hash ${i} is not a ${HASH_SIZE}-byte hash`);
    }
  }
}

/** MTH over already-hashed leaves (O(n) hashes), so callers storing leaf hashes never rehash leaf data. */
export function merkleRootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  // RFC 6962 defines the empty tree as SHA-256 of nothing, not as a leaf hash.
  if (leafHashes.length === 0) return createHash("sha256").digest();
  assertLeafHashes(leafHashes);
  // Copy so the caller never receives (and could mutate) one of its own inputs.
  return Buffer.from(subtreeRoot(leafHashes, 0, leafHashes.length));
}

/** MTH(D[n]) of RFC 6962 §2.1 over raw leaf data. */
export function merkleRoot(leaves: readonly Uint8Array[]): Buffer {
  return merkleRootFromLeafHashes(leaves.map(hashLeaf));
}

/** Audit path PATH(m, D[n]) of RFC 6962 §2.1.1, ordered leaf-to-root as CT verifiers expect. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Buffer[] {
  const n = leafHashes.length;
  if (!isCount(index) || index >= n) {
    throw new RangeError(`merkle: leaf index ${String(index)} out of range for tree size ${n}`);
  }
  assertLeafHashes(leafHashes);
  // Walk root-to-leaf (so only the sibling subtrees are hashed, O(n) in total) and
  // reverse at the end, because RFC 6962 lists the deepest sibling first.
  const path: Buffer[] = [];
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index - lo < k) {
      path.push(Buffer.from(subtreeRoot(leafHashes, lo + k, hi)));
      hi = lo + k;
    } else {
      path.push(Buffer.from(subtreeRoot(leafHashes, lo, lo + k)));
      lo += k;
    }
  }
  return path.reverse();
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

// Division instead of `>>` because bit shifts truncate to 32 bits and tree sizes
// are allowed to exceed 2^32.
function half(x: number): number {
  return Math.floor(x / 2);
}

/** RFC 9162 §2.1.3.2 inclusion verification; false (never throws) on any mismatch or malformed input, since proofs come from untrusted storage. */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    if (!isCount(index) || !isCount(treeSize) || index >= treeSize) return false;
    if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof)) return false;

    let fn = index;
    let sn = treeSize - 1;
    let r: Uint8Array = leafHash;
    for (const p of proof) {
      if (!isHash(p)) return false;
      // The path is longer than the tree is tall.
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = hashChildren(p, r);
        // A right-edge node with no right sibling is promoted unchanged, so skip the
        // levels where it has no partner.
        while (fn !== 0 && fn % 2 === 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        r = hashChildren(r, p);
      }
      fn = half(fn);
      sn = half(sn);
    }
    // sn !== 0 means the path was too short to reach the root.
    return sn === 0 && bytesEqual(r, root);
  } catch {
    return false;
  }
}

/** JSON-storable inclusion proof; hashes are lowercase hex. */
export type InclusionProof = {
  leafIndex: number;
  treeSize: number;
  /** Hex audit path, leaf-to-root order as produced by {@link inclusionProof}. */
  auditPath: string[];
  /** Hex root of the tree of size `treeSize`. */
  root: string;
};

/** Packs a binary proof for JSON storage (the root is included because a path alone proves nothing). */
export function toHexProof(
  leafIndex: number,
  treeSize: number,
  auditPath: readonly Uint8Array[],
  root: Uint8Array,
): InclusionProof {
  const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
  return { leafIndex, treeSize, auditPath: auditPath.map(hex), root: hex(root) };
}

// Buffer.from(hex) silently stops at the first bad character, which would turn a
// corrupted proof into a shorter, different one; reject instead.
function decodeHash(hex: unknown): Buffer | null {
  if (typeof hex !== "string" || !/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  return Buffer.from(hex, "hex");
}

/** Verifies a stored (hex/JSON) proof; false, never throws, on malformed or tampered data. */
export function verifyHexProof(leafHashHex: string, proof: InclusionProof): boolean {
  try {
    if (typeof proof !== "object" || proof === null || !Array.isArray(proof.auditPath)) return false;
    const leafHash = decodeHash(leafHashHex);
    const root = decodeHash(proof.root);
    if (leafHash === null || root === null) return false;
    const path: Buffer[] = [];
    for (const node of proof.auditPath) {
      const decoded = decodeHash(node);
      if (decoded === null) return false;
      path.push(decoded);
    }
    return verifyInclusion(leafHash, proof.leafIndex, proof.treeSize, path, root);
  } catch {
    return false;
  }
}
