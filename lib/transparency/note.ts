// C2SP signed-note (c2sp.org/signed-note) and tlog-checkpoint (c2sp.org/tlog-checkpoint), as the vendored specs say.
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";

/** Signature type bytes of the signed-note spec that PatchPilot signs and verifies. */
export const SIGNATURE_TYPES = {
  /** Ed25519 over the note text (the local key file). */
  ed25519: 0x01,
  /** ECDSA (P-256) over SHA-256 of the note text, ASN.1 DER signature, as transparency-dev/witness (Key Vault EC keys). */
  ecdsa: 0x02,
} as const;
export type SignatureType = (typeof SIGNATURE_TYPES)[keyof typeof SIGNATURE_TYPES];

/** A public key that verifies note signatures. */
export interface NoteVerifier {
  name: string;
  keyId: number;
  type: SignatureType;
  /** Ed25519: the 32-byte key; ECDSA: the DER SubjectPublicKeyInfo. */
  publicKey: Buffer;
  verify(text: Buffer, signature: Buffer): boolean;
}

/** Signs note texts; the private key may live elsewhere (Key Vault), so signing is asynchronous. */
export interface NoteSigner {
  name: string;
  keyId: number;
  type: SignatureType;
  publicKey: Buffer;
  sign(text: Buffer): Promise<Buffer>;
}

/** A key name of the spec: non-empty, no Unicode space, no plus. */
export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name);
}

/**
 * The key ID. Ed25519: SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] (the spec's recommendation, required for
 * Ed25519). ECDSA: SHA-256(DER SPKI)[:4] (the spec: "the truncated SHA-256 hash of the DER encoded public key").
 */
export function keyIdOf(name: string, type: SignatureType, publicKey: Buffer): number {
  const hash =
    type === SIGNATURE_TYPES.ecdsa
      ? createHash("sha256").update(publicKey).digest()
      : createHash("sha256")
          .update(Buffer.from(`${name}\n`, "utf8"))
          .update(Uint8Array.of(type))
          .update(publicKey)
          .digest();
  return hash.readUInt32BE(0);
}

/** `<key name>+hex(key ID)+base64(type ‖ public key)`: the published verifier key. */
export function formatVerifierKey(key: Pick<NoteVerifier, "name" | "keyId" | "type" | "publicKey">): string {
  return `${key.name}+${key.keyId.toString(16).padStart(8, "0")}+${Buffer.concat([Uint8Array.of(key.type), key.publicKey]).toString("base64")}`;
}

/** A verifier from a published key; throws (with the reason) when it is not a well-formed key of a known type. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // The base64 key may itself contain plus signs: split at the first two only.
  const match = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(vkey.trim());
  if (match === null) throw new Error("a verifier key is <name>+<hex key ID>+<base64 key>");
  const [, name, idHex, keyB64] = match as unknown as [string, string, string, string];
  if (!isKeyName(name)) throw new Error("the key name is empty or has a space or plus");
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new Error("the key ID is not 8 lowercase hex digits");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyB64)) throw new Error("the key is not base64");
  const bytes = Buffer.from(keyB64, "base64");
  const type = bytes[0];
  const publicKey = bytes.subarray(1);
  let key: KeyObject;
  if (type === SIGNATURE_TYPES.ed25519) {
    if (publicKey.length !== 32) throw new Error("an Ed25519 key is 32 bytes");
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: publicKey.toString("base64url") }, format: "jwk" });
  } else if (type === SIGNATURE_TYPES.ecdsa) {
    key = createPublicKey({ key: publicKey, format: "der", type: "spki" });
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (key.asymmetricKeyType !== "ec" || !["prime256v1", "secp384r1", "secp521r1"].includes(curve ?? ""))
      throw new Error("an ECDSA key must be on P-256, P-384 or P-521");
  } else {
    throw new Error(`signature type ${String(type)} is not supported (Ed25519 0x01 and ECDSA 0x02 are)`);
  }
  const keyId = Number.parseInt(idHex, 16);
  if (keyIdOf(name, type, publicKey) !== keyId) throw new Error("the key ID does not match the key");
  return {
    name,
    keyId,
    type,
    publicKey: Buffer.from(publicKey),
    verify: (text, signature) => {
      try {
        return type === SIGNATURE_TYPES.ed25519
          ? verifySignature(null, text, key, signature)
          : verifySignature("sha256", text, { key, dsaEncoding: "der" }, signature);
      } catch {
        return false;
      }
    },
  };
}

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u;

/** Appends one signature line per signer to the note text (which must end in a newline). */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  if (!text.endsWith("\n")) throw new Error("a note text ends with a newline");
  checkNoteText(text);
  const bytes = Buffer.from(text, "utf8");
  const lines: string[] = [];
  for (const s of signers) {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyId, 0);
    lines.push(`\u2014 ${s.name} ${Buffer.concat([id, await s.sign(bytes)]).toString("base64")}\n`);
  }
  return `${text}\n${lines.join("")}`;
}

function checkNoteText(text: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new Error("a note has no control characters but newline");
}

/** Result of opening a signed note: its text once a trusted key's signature verified, or why not. */
export type OpenedNote =
  { ok: true; text: string; verifiedBy: string[] } | { ok: false; problem: string; text?: string };

/**
 * Opens a signed note (c2sp.org/signed-note): splits the text from the signatures at the last blank line, ignores
 * signatures of unknown keys (name and ID must both match), rejects the note when a known key's signature fails, and
 * when no known key's signature verifies.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  try {
    checkNoteText(note);
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
  if (!note.endsWith("\n")) return { ok: false, problem: "a signed note ends with a newline" };
  const split = note.lastIndexOf("\n\n");
  if (split < 0) return { ok: false, problem: "no blank line separates the text from the signatures" };
  const text = note.slice(0, split + 1);
  const signatureLines = note.slice(split + 2, -1).split("\n");
  const verifiedBy: string[] = [];
  if (signatureLines.length > 100) return { ok: false, problem: "too many signatures", text };
  for (const line of signatureLines) {
    const match = SIGNATURE_LINE.exec(line);
    if (match === null) return { ok: false, problem: `malformed signature line: ${JSON.stringify(line)}`, text };
    const [, name, b64] = match as unknown as [string, string, string];
    const sig = Buffer.from(b64, "base64");
    if (sig.length < 5) return { ok: false, problem: "a signature is shorter than its key ID", text };
    const keyId = sig.readUInt32BE(0);
    const known = verifiers.find((v) => v.name === name && v.keyId === keyId);
    if (known === undefined) continue;
    if (!known.verify(Buffer.from(text, "utf8"), sig.subarray(4)))
      return {
        ok: false,
        problem: `the signature of ${name} (key ${keyId.toString(16).padStart(8, "0")}) does not verify`,
        text,
      };
    verifiedBy.push(name);
  }
  if (verifiedBy.length === 0)
    return { ok: false, problem: "no signature of a trusted key (name and key ID) is on the note", text };
  return { ok: true, text, verifiedBy };
}

/** The text of a signed note (up to its last blank line), without checking any signature. */
export function noteText(note: string): string {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new Error("no blank line separates the text from the signatures");
  return note.slice(0, split + 1);
}

/** The body of a checkpoint (c2sp.org/tlog-checkpoint): origin, tree size, root hash. */
export interface Checkpoint {
  origin: string;
  size: number;
  /** The RFC 6962 root, 32 bytes. */
  root: Buffer;
}

/** The checkpoint's note text: origin, decimal size without leading zeros, base64 root, each on its own line. */
export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin === "" || /[\s+]/u.test(cp.origin))
    throw new Error("a checkpoint origin is non-empty, no space or plus");
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new Error("a tree size is a non-negative integer");
  if (cp.root.length !== 32) throw new Error("a root hash is 32 bytes");
  return `${cp.origin}\n${cp.size}\n${cp.root.toString("base64")}\n`;
}

/** Parses a checkpoint's note text (extension lines are allowed and ignored, as the spec says they are opaque). */
export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split("\n");
  if (lines.at(-1) !== "" || lines.length < 4)
    throw new Error("a checkpoint has at least three lines, each ending in a newline");
  const [origin, size, root] = lines as [string, string, string];
  if (origin === "") throw new Error("the checkpoint's origin line is empty");
  if (!/^(0|[1-9][0-9]*)$/.test(size))
    throw new Error("the checkpoint's tree size is not a decimal without leading zeros");
  if (!/^[A-Za-z0-9+/]{43}=$/.test(root)) throw new Error("the checkpoint's root hash is not base64 of 32 bytes");
  for (const extension of lines.slice(3, -1))
    if (extension === "") throw new Error("a checkpoint extension line is empty");
  const n = Number(size);
  if (!Number.isSafeInteger(n)) throw new Error("the checkpoint's tree size is too large");
  return { origin, size: n, root: Buffer.from(root, "base64") };
}
