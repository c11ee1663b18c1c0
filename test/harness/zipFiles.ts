import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { ZipFile } from "yazl";
import { sha256Hex } from "../../lib/evidence/sha256";

/** Every file of a zip, in zip order (test packages are small enough to hold). */
export async function readZip(file: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  const files = new Map<string, Buffer>();
  try {
    for await (const entry of zip.eachEntry()) {
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      files.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
  return files;
}

/** Writes files (in the map's order) as a zip; `compress: false` stores them as they are. */
export async function writeZip(
  file: string,
  files: ReadonlyMap<string, Buffer>,
  options: { compress?: boolean } = {},
): Promise<void> {
  const zip = new ZipFile();
  const mtime = new Date("2026-01-01T00:00:00Z");
  for (const [name, bytes] of files) zip.addBuffer(bytes, name, { mtime, compress: options.compress ?? true });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(file));
}

/** What to do to one file: new bytes, `null` to remove it, undefined to keep it. */
export type ZipEdit = (path: string, bytes: Buffer) => Buffer | null | undefined;

/**
 * Copies a zip entry by entry, applying `edit`; with `resum`, rewrites SHA256SUMS over the result (a forger who
 * also fixes the sums), otherwise keeps it as it was.
 */
export async function rewriteZip(
  from: string,
  to: string,
  edit: ZipEdit,
  options: { resum?: boolean; add?: [string, Buffer][] } = {},
): Promise<void> {
  const out = new Map<string, Buffer>();
  for (const [path, bytes] of await readZip(from)) {
    const edited = edit(path, bytes);
    if (edited === null) continue;
    out.set(path, edited ?? bytes);
  }
  for (const [path, bytes] of options.add ?? []) out.set(path, bytes);
  if (options.resum) {
    const sums = out.get("SHA256SUMS");
    out.delete("SHA256SUMS");
    const lines = [...out].map(([path, bytes]) => `${sha256Hex(bytes)}  ${path}\n`).join("");
    if (sums !== undefined) out.set("SHA256SUMS", Buffer.from(lines, "utf8"));
  }
  await writeZip(to, out);
}

/** Flips one bit of a byte (at `offset`, negative from the end) of a buffer. */
export function flipByte(bytes: Buffer, offset = Math.floor(bytes.length / 2)): Buffer {
  const copy = Buffer.from(bytes);
  const i = offset < 0 ? copy.length + offset : offset;
  copy[i] = (copy[i] ?? 0) ^ 0x01;
  return copy;
}
