import { createHash, createPublicKey } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import { CryptographyClient, KeyClient, parseKeyVaultKeyIdentifier } from "@azure/keyvault-keys";
import { SIGNATURE_TYPES } from "./note";
import type { SigningKey } from "./signingKey";

/**
 * Key Vault has no Ed25519 keys (its key types are RSA, EC on P-256/P-384/P-521/P-256K, and oct in Managed HSM), so
 * in Azure checkpoints are signed with an EC P-256 key and ES256: the signed-note spec's type 0x02 (ECDSA over
 * SHA-256 of the note text, ASN.1 DER signature, key ID = SHA-256 of the DER SPKI), the form
 * transparency-dev/witness and Sigstore's Rekor verify. The private key never leaves the vault: the app's identity
 * holds a role with keys/read and keys/sign/action only (infra/modules/checkpointKey.bicep).
 */
export function keyVaultSigningKey(keyId: string, credential: TokenCredential): SigningKey {
  const crypto = new CryptographyClient(keyId, credential);
  let spki: Promise<Buffer> | undefined;
  const publicKey = (): Promise<Buffer> =>
    (spki ??= (async () => {
      const { vaultUrl, name, version } = parseKeyVaultKeyIdentifier(keyId);
      const key = await new KeyClient(vaultUrl, credential).getKey(name, version === undefined ? {} : { version });
      const jwk = key.key;
      if (jwk?.kty !== "EC" || jwk.crv !== "P-256" || jwk.x === undefined || jwk.y === undefined)
        throw new Error(`Key Vault key ${keyId} is not an EC P-256 key (checkpoints are signed with ES256)`);
      return ecP256Spki(Buffer.from(jwk.x), Buffer.from(jwk.y));
    })());
  return {
    type: SIGNATURE_TYPES.ecdsa,
    publicKey,
    sign: async (text) => {
      const digest = createHash("sha256").update(text).digest();
      const { result } = await crypto.sign("ES256", digest);
      return jwsToDer(Buffer.from(result));
    },
  };
}

/** DER SubjectPublicKeyInfo of a P-256 public key given its coordinates (as a JWK carries them). */
export function ecP256Spki(x: Buffer, y: Buffer): Buffer {
  return createPublicKey({
    key: { kty: "EC", crv: "P-256", x: x.toString("base64url"), y: y.toString("base64url") },
    format: "jwk",
  }).export({ type: "spki", format: "der" });
}

/** An ES256 signature as Key Vault returns it (JWS: r ‖ s, 32 bytes each) as the ASN.1 DER the note spec uses. */
export function jwsToDer(signature: Buffer): Buffer {
  if (signature.length !== 64) throw new Error(`an ES256 signature is 64 bytes, got ${signature.length}`);
  const integer = (bytes: Buffer): Buffer => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let v = bytes.subarray(i);
    if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Uint8Array.of(0), v]);
    return Buffer.concat([Uint8Array.of(0x02, v.length), v]);
  };
  const body = Buffer.concat([integer(signature.subarray(0, 32)), integer(signature.subarray(32))]);
  return Buffer.concat([Uint8Array.of(0x30, body.length), body]);
}
