import canonicalize from "canonicalize";

/**
 * RFC 8785 (JCS) canonical JSON. Every JSON artifact is stored in this form, so the same content always has the
 * same bytes and the same SHA-256: a retried activity writes identical bytes and the write-once store accepts it.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON representation");
  return text;
}

/** Canonical JSON as UTF-8 bytes. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), "utf8");
}

/** JSON Lines: one canonical JSON document per line, each line ending in a newline. */
export function canonicalJsonLinesBytes(values: readonly unknown[]): Buffer {
  return Buffer.from(values.map((v) => `${canonicalJson(v)}\n`).join(""), "utf8");
}
