import { Readable } from "node:stream";

/** Chunk size a generated text file is cut into (many small strings would each cost a zlib call). */
const CHUNK = 64 * 1024;

/** A generated text file as a stream: pulled as the zip needs it, in ~64 KiB UTF-8 chunks, never whole. */
export function textStream(parts: Iterable<string> | AsyncIterable<string>): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    let pending: string[] = [];
    let length = 0;
    for await (const part of parts) {
      pending.push(part);
      length += part.length;
      if (length >= CHUNK) {
        yield Buffer.from(pending.join(""), "utf8");
        pending = [];
        length = 0;
      }
    }
    if (length > 0) yield Buffer.from(pending.join(""), "utf8");
  }
  return Readable.from(chunks(), { objectMode: false });
}
