import { AnonymousCredential, AppendBlobClient } from "@azure/storage-blob";

// Azurite and Azure both accept append blocks of up to 4 MiB.
const MAX_APPEND_BLOCK = 4 * 1024 * 1024;

/** Writes a stream the way the Run Command agent does: an append blob through the SAS URI it was given. */
export async function writeAppendBlob(sasUrl: string, content: string): Promise<void> {
  const blob = new AppendBlobClient(sasUrl, new AnonymousCredential());
  await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: "text/plain; charset=utf-8" } });
  const bytes = Buffer.from(content, "utf8");
  for (let offset = 0; offset < bytes.length; offset += MAX_APPEND_BLOCK) {
    const block = bytes.subarray(offset, offset + MAX_APPEND_BLOCK);
    await blob.appendBlock(block, block.length);
  }
}
