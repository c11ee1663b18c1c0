import { createHash } from "node:crypto";

/** RFC 9562 §6.6: the name space for fully qualified domain names. */
export const DNS_NAMESPACE = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, "hex");
}

/**
 * A name-based UUID (version 5, SHA-1; RFC 9562 §5.5): the same name in the same name space is always the same
 * UUID, so an OSCAL document rebuilt from the same evidence has the same identifiers (re-exports are reproducible).
 */
export function uuidV5(name: string, namespace: string): string {
  const digest = createHash("sha1")
    .update(uuidBytes(namespace))
    .update(Buffer.from(name, "utf8"))
    .digest()
    .subarray(0, 16);
  digest[6] = ((digest[6] as number) & 0x0f) | 0x50;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  const hex = digest.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** PatchPilot's name space for OSCAL identifiers: the v5 UUID of its domain name. */
export const OSCAL_NAMESPACE = uuidV5("oscal.patchpilot.dev", DNS_NAMESPACE);
