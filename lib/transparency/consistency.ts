// RFC 6962 §2.1.2 consistency proofs (generation) and RFC 9162 §2.1.4.2 (verification), over the same RFC 6962 tree
// as lib/evidence/merkle.ts, so any Certificate Transparency or Go sumdb verifier checks our proofs.
import { hashChildren, merkleRootFromLeafHashes, HASH_SIZE } from "../evidence/merkle";

function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** PROOF(m, D[n]) of RFC 6962 §2.1.2: the nodes that show the tree of size m is a prefix of the tree of size n. */
export function consistencyProof(
  leafHashes: readonly Uint8Array[],
  m: number,
  n: number = leafHashes.length,
): Buffer[] {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || n > leafHashes.length || m > n)
    throw new RangeError(`consistency: sizes ${m} → ${n} out of range for a log of ${leafHashes.length}`);
  if (m === 0 || m === n) return [];
  return subproof(leafHashes, m, 0, n, true);
}

// SUBPROOF(m, D[lo:hi], b), with index ranges instead of copies.
function subproof(leaves: readonly Uint8Array[], m: number, lo: number, hi: number, b: boolean): Buffer[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [merkleRootFromLeafHashes(leaves.slice(lo, hi))];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(leaves, m, lo, lo + k, b), merkleRootFromLeafHashes(leaves.slice(lo + k, hi))];
  return [...subproof(leaves, m - k, lo + k, hi, false), merkleRootFromLeafHashes(leaves.slice(lo, lo + k))];
}

function isHash(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) && (value as Uint8Array).byteLength === HASH_SIZE;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

/**
 * RFC 9162 §2.1.4.2: true when `proof` shows the tree of size `m` with root `oldRoot` is a prefix of the tree of size
 * `n` with root `newRoot`. Never throws: proofs come from outside.
 */
export function verifyConsistency(
  m: number,
  n: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  try {
    if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false;
    if (!isHash(oldRoot) || !isHash(newRoot) || !proof.every(isHash)) return false;
    if (m === n) return proof.length === 0 && equal(oldRoot, newRoot);
    if (m === 0) return proof.length === 0; // the empty tree is a prefix of every tree
    let path = [...proof];
    // If m is an exact power of two, the old root is the first node of the path.
    if (Number.isInteger(Math.log2(m))) path = [oldRoot, ...path];
    let fn = m - 1;
    let sn = n - 1;
    while (fn % 2 === 1) {
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    const [first, ...rest] = path;
    if (first === undefined) return false;
    let fr: Uint8Array = first;
    let sr: Uint8Array = first;
    for (const c of rest) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = hashChildren(c, fr);
        sr = hashChildren(c, sr);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        sr = hashChildren(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot);
  } catch {
    return false;
  }
}

/**
 * The right edge of a log: the roots of its perfect subtrees, largest first (one per set bit of the size). Appending
 * a leaf and computing the root need only these, so an append costs O(log n), not a read of every leaf.
 */
export interface CompactRange {
  size: number;
  /** Hex roots of the perfect subtrees, left to right. */
  nodes: string[];
}

/** The range after appending one leaf hash. */
export function appendLeaf(range: CompactRange, leafHash: Uint8Array): CompactRange {
  const nodes = [...range.nodes];
  let node: Buffer = Buffer.from(leafHash);
  // Merge while the new subtree has a left neighbour of the same size (a carry in the binary size).
  for (let size = range.size; size % 2 === 1; size = Math.floor(size / 2)) {
    const left = nodes.pop();
    if (left === undefined) throw new Error("compact range: fewer nodes than its size says");
    node = hashChildren(Buffer.from(left, "hex"), node);
  }
  nodes.push(node.toString("hex"));
  return { size: range.size + 1, nodes };
}

/** The RFC 6962 root of the range (the empty tree's root for size 0). */
export function rangeRoot(range: CompactRange): Buffer {
  if (range.nodes.length === 0) return merkleRootFromLeafHashes([]);
  let root: Buffer = Buffer.from(range.nodes.at(-1) as string, "hex");
  for (let i = range.nodes.length - 2; i >= 0; i--)
    root = hashChildren(Buffer.from(range.nodes[i] as string, "hex"), root);
  return root;
}
