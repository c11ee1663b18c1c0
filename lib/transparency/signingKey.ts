import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { keyIdOf, SIGNATURE_TYPES, type NoteSigner, type SignatureType } from "./note";

/**
 * A checkpoint signing key: the public half is published, the private half may be a file (local stack) or a Key
 * Vault key that never leaves the vault (Azure).
 */
export interface SigningKey {
  type: SignatureType;
  /** Ed25519: the 32-byte key; ECDSA: DER SubjectPublicKeyInfo. */
  publicKey(): Promise<Buffer>;
  /** The signature over the note text, in the note spec's encoding for the type. */
  sign(text: Buffer): Promise<Buffer>;
}

/** The note signer of a key under a name (the log's origin): the key ID depends on both for Ed25519. */
export async function noteSignerFor(key: SigningKey, name: string): Promise<NoteSigner> {
  const publicKey = await key.publicKey();
  return { name, type: key.type, publicKey, keyId: keyIdOf(name, key.type, publicKey), sign: (t) => key.sign(t) };
}

function rawEd25519(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new Error("not an Ed25519 public key");
  return Buffer.from(jwk.x, "base64url");
}

/**
 * An Ed25519 key kept in a PKCS#8 PEM file, created (mode 0600, exclusive create) on first use when absent: the local
 * stack's checkpoint key. Two processes starting at once end with the one file the first wrote.
 */
export function ed25519FileKey(file: string): SigningKey {
  let key: KeyObject | undefined;
  const load = (): KeyObject => {
    if (key !== undefined) return key;
    let pem: string;
    try {
      pem = readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      mkdirSync(path.dirname(file), { recursive: true });
      const created = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
      try {
        writeFileSync(file, created, { flag: "wx", mode: 0o600 });
        pem = created;
      } catch (raced) {
        if ((raced as NodeJS.ErrnoException).code !== "EEXIST") throw raced;
        pem = readFileSync(file, "utf8");
      }
    }
    const loaded = createPrivateKey(pem);
    if (loaded.asymmetricKeyType !== "ed25519") throw new Error(`${file} is not an Ed25519 private key`);
    key = loaded;
    return loaded;
  };
  return {
    type: SIGNATURE_TYPES.ed25519,
    publicKey: () => Promise.resolve(rawEd25519(createPublicKey(load()))),
    sign: (text) => Promise.resolve(sign(null, text, load())),
  };
}
