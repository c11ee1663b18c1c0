import type { ContainerClient } from "@azure/storage-blob";
import type { z } from "zod";
import { isStatus } from "../evidence/errors";
import { PolicyDocumentError, toDocumentIssues } from "./policyDocumentError";

/** Reads a blob's text; undefined when it does not exist (other storage errors propagate, to be retried). */
async function readText(container: ContainerClient, blobName: string): Promise<string | undefined> {
  try {
    const response = await container.getBlobClient(blobName).download();
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks).toString("utf8");
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Validates a document against its schema, or throws PolicyDocumentError naming the blob and the bad fields. */
export function parseDocument<S extends z.ZodType>(schema: S, blobName: string, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new PolicyDocumentError(blobName, toDocumentIssues(result.error.issues));
  return result.data;
}

/** Reads and validates one JSON document; undefined when the blob does not exist. */
export async function readDocument<S extends z.ZodType>(
  container: ContainerClient,
  blobName: string,
  schema: S,
): Promise<z.infer<S> | undefined> {
  const text = await readText(container, blobName);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new PolicyDocumentError(blobName, [
      { path: "", message: `not JSON: ${error instanceof Error ? error.message : String(error)}` },
    ]);
  }
  return parseDocument(schema, blobName, json);
}

/** Writes a JSON document, replacing what is there: policies are mutable configuration, unlike evidence. */
export async function writeDocument(container: ContainerClient, blobName: string, value: unknown): Promise<void> {
  const bytes = Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
  await container
    .getBlockBlobClient(blobName)
    .uploadData(bytes, { blobHTTPHeaders: { blobContentType: "application/json" } });
}
