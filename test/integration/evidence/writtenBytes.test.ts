// Within one activity call, an artifact the call stored create-once is not read back from storage: its bytes are
// served from memory (no blob request). What the call did not write, or failed to write, is still read from Azurite,
// and a reader still verifies the bytes against the index row.
import diagnosticsChannel from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { EvidenceStore } from "../../../lib/evidence/blobStore";
import { openEvidenceSession } from "../../../lib/evidence/evidenceSession";
import { EvidenceConflictError } from "../../../lib/evidence/errors";
import { toTableKey } from "../../../lib/evidence/keys";
import { sha256Hex } from "../../../lib/evidence/sha256";
import { EvidenceIndex } from "../../../lib/evidence/tableIndex";
import { rememberingWrites } from "../../../lib/evidence/writtenBytes";
import type { RunRef } from "../../../lib/schemas/common";
import { testStorage, uniqueRunId } from "../../harness/storage";

/** Blob GETs sent to Azurite while `body` runs (the source outside our code: the HTTP requests themselves). */
async function blobGets(body: () => Promise<void>): Promise<string[]> {
  const gets: string[] = [];
  const on = (message: unknown): void => {
    const request = (message as { request?: ClientRequest }).request;
    if (request !== undefined && request.method === "GET" && request.path.includes("/evidence/"))
      gets.push(decodeURIComponent(request.path.split("?")[0] ?? ""));
  };
  diagnosticsChannel.subscribe("http.client.request.start", on);
  try {
    await body();
  } finally {
    diagnosticsChannel.unsubscribe("http.client.request.start", on);
  }
  return gets;
}

describe("rememberingWrites (one activity call's own writes)", () => {
  const run = (): RunRef => ({ tenant: "t-written", client: "c1", device: "WIN-01", runId: uniqueRunId() });
  const bytes = Buffer.from('{"schemaVersion":1}');

  it("reads back what the call stored without a blob request; other blobs are still read from storage", async () => {
    const clients = await testStorage();
    const plain = new EvidenceStore(clients.evidence);
    const r = run();
    await plain.put(r, "02-baseline/other.txt", Buffer.from("before"), "text/plain");
    const deps = rememberingWrites({ store: plain, index: new EvidenceIndex(clients.tables) });
    await deps.store.put(r, "02-baseline/mine.txt", bytes, "text/plain");
    let mine: Buffer | undefined;
    let other: Buffer | undefined;
    const gets = await blobGets(async () => {
      mine = await deps.store.get(r, "02-baseline/mine.txt");
      other = await deps.store.get(r, "02-baseline/other.txt");
    });
    expect(mine?.equals(bytes)).toBe(true);
    expect(other?.toString()).toBe("before");
    expect(gets).toEqual([expect.stringContaining("02-baseline/other.txt")]);
    // The store itself (another call) reads it from Azurite.
    expect((await plain.get(r, "02-baseline/mine.txt"))?.equals(bytes)).toBe(true);
  });

  it("remembers nothing for a refused write: different bytes under a stored name stay a conflict", async () => {
    const clients = await testStorage();
    const plain = new EvidenceStore(clients.evidence);
    const r = run();
    await plain.put(r, "02-baseline/mine.txt", Buffer.from("first"), "text/plain");
    const deps = rememberingWrites({ store: plain, index: new EvidenceIndex(clients.tables) });
    await expect(deps.store.put(r, "02-baseline/mine.txt", bytes, "text/plain")).rejects.toBeInstanceOf(
      EvidenceConflictError,
    );
    expect((await deps.store.get(r, "02-baseline/mine.txt"))?.toString()).toBe("first");
  });

  it("still verifies remembered bytes against the index row", async () => {
    const clients = await testStorage();
    const r = run();
    const deps = rememberingWrites({
      store: new EvidenceStore(clients.evidence),
      index: new EvidenceIndex(clients.tables),
    });
    const spec = ARTIFACTS.baseline;
    const stored = await deps.store.put(r, spec.path, bytes, spec.contentType);
    const session = openEvidenceSession(deps, r);
    const row = { partitionKey: r.runId, rowKey: toTableKey(spec.path), merkleLeaf: true, ...stored };
    const wrong = { ...row, sha256: sha256Hex(Buffer.from("something else")) };
    expect((await session.readAgainst(spec, wrong)).read.status).not.toBe("verified");
  });
});
