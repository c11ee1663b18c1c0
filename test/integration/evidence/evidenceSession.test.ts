import { createHash } from "node:crypto";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { createEvidenceDeps } from "../../../lib/evidence/createEvidenceDeps";
import { EvidenceConflictError } from "../../../lib/evidence/errors";
import { ArtifactSchemaError, openEvidenceSession, OUTSIDE_RUN_PROBLEM } from "../../../lib/evidence/evidenceSession";
import { toTableKey } from "../../../lib/evidence/keys";
import { readRunEvidence } from "../../../lib/evidence/readRun";
import { readVerified } from "../../../lib/evidence/runEvidence";
import type { RunRef } from "../../../lib/schemas/common";
import { plantOutsideRow } from "../../harness/outsideRunRow";
import { countEvidenceRequests, EvidenceRequestTally } from "../../../local/run/storageRequests";
import { testConfig, testStorage, uniqueRunId } from "../../harness/storage";

const REGRESSIONS = { schemaVersion: 1, TotalRegressions: 0, regressions: [], preExisting: [] };

async function setup() {
  const config = testConfig();
  const storage = await testStorage(config);
  const deps = createEvidenceDeps(config, storage);
  const run: RunRef = { tenant: "t-session", client: "c1", device: "WIN-01", runId: uniqueRunId("sess") };
  return { storage, deps, run };
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

describe("EvidenceSession (run-bound, against Azurite)", () => {
  it("reads an indexed artifact back verified: the SHA-256 node:crypto computes over the stored bytes", async () => {
    const { storage, deps, run } = await setup();
    const session = openEvidenceSession(deps, run);
    const stored = await session.put(ARTIFACTS.regressions, REGRESSIONS);
    await session.index([{ ...stored, merkleLeaf: true }]);

    const reading = await openEvidenceSession(deps, run).read(ARTIFACTS.regressions);

    const blob = await storage.evidence
      .getBlobClient(`${run.tenant}/${run.client}/${run.device}/${run.runId}/${ARTIFACTS.regressions.path}`)
      .downloadToBuffer();
    expect(reading.read).toEqual({
      path: ARTIFACTS.regressions.path,
      status: "verified",
      indexedSha256: sha256(blob),
      actualSha256: sha256(blob),
    });
    expect(reading.value).toEqual(REGRESSIONS);
  });

  it("refuses a row of its run that points into another tenant's run folder, without reading that blob", async () => {
    const { storage, deps } = await setup();
    const planted = await plantOutsideRow(storage, deps, {
      path: ARTIFACTS.regressions.path,
      bytes: Buffer.from(JSON.stringify(REGRESSIONS)),
    });
    const session = openEvidenceSession(deps, planted.runA);
    const readsBefore = deps.store.stats.blobReads;

    const reading = await session.read(ARTIFACTS.regressions);
    const bytes = await session.readBytes(planted.path);

    expect(reading.read.status).toBe("hash-mismatch");
    expect(reading.read.problem).toBe(OUTSIDE_RUN_PROBLEM);
    expect(reading.value).toBeUndefined();
    expect(bytes.bytes).toBeUndefined();
    expect(JSON.stringify([reading, bytes.read])).not.toContain(planted.runB.tenant);
    expect(deps.store.stats.blobReads).toBe(readsBefore);
    expect(await session.lookup(planted.path)).toMatchObject({ status: "outside" });
    expect([...(await session.ownRows()).keys()]).toEqual([]);
    // The older entry points refuse it too (they delegate to the session).
    const back = await readRunEvidence(deps, planted.runA);
    expect(back.readings.get(planted.path)?.read.problem).toBe(OUTSIDE_RUN_PROBLEM);
    const row = (await deps.index.readArtifacts(planted.runA.runId)).get(planted.path);
    const viaHelper = await readVerified(deps, planted.runA, ARTIFACTS.regressions, row);
    expect(viaHelper.read.problem).toBe(OUTSIDE_RUN_PROBLEM);
  });

  it("refuses bytes whose hash matches but whose size differs from the index row", async () => {
    const { storage, deps, run } = await setup();
    const session = openEvidenceSession(deps, run);
    const stored = await session.put(ARTIFACTS.regressions, REGRESSIONS);
    await storage.tables.artifacts.upsertEntity(
      {
        partitionKey: run.runId,
        rowKey: toTableKey(stored.path),
        path: stored.path,
        blobName: stored.blobName,
        sha256: stored.sha256,
        size: stored.size + 1,
        merkleLeaf: true,
      },
      "Replace",
    );

    const reading = await openEvidenceSession(deps, run).read(ARTIFACTS.regressions);

    expect(reading.read).toMatchObject({ status: "hash-mismatch", actualSha256: stored.sha256 });
    expect(reading.read.problem).toMatch(/size/);
    expect(reading.value).toBeUndefined();
  });

  it("reports altered bytes as a hash mismatch and serves no bytes", async () => {
    const { storage, deps, run } = await setup();
    const session = openEvidenceSession(deps, run);
    const stored = await session.put(ARTIFACTS.regressions, REGRESSIONS);
    await session.index([{ ...stored, merkleLeaf: true }]);
    const altered = Buffer.from(JSON.stringify({ ...REGRESSIONS, note: "x" }));
    await storage.evidence.getBlockBlobClient(stored.blobName).uploadData(altered);

    const reading = await openEvidenceSession(deps, run).readBytes(stored.path);

    expect(reading.read).toMatchObject({ status: "hash-mismatch", actualSha256: sha256(altered) });
    expect(reading.bytes).toBeUndefined();
  });

  it("tells missing from stored-but-not-indexed", async () => {
    const { deps, run } = await setup();
    const session = openEvidenceSession(deps, run);
    await session.put(ARTIFACTS.regressions, REGRESSIONS);

    expect((await session.read(ARTIFACTS.regressions)).read.status).toBe("not-indexed");
    expect((await session.read(ARTIFACTS.diagnostics)).read.status).toBe("missing");
  });

  it("readAll tells the unindexed well-known artifacts apart with one listing of the run's folder, not a GET each", async () => {
    const { storage, deps, run } = await setup();
    const writer = openEvidenceSession(deps, run);
    const transcript = "02-baseline/transcripts/pp-1-1.stdout.txt";
    const indexed = await writer.putBytes(transcript, Buffer.from("output\n"), "text/plain; charset=utf-8");
    await writer.index([{ ...indexed, merkleLeaf: true }]);
    await writer.put(ARTIFACTS.regressions, REGRESSIONS); // stored, never indexed
    const tally = new EvidenceRequestTally();
    const stop = countEvidenceRequests(
      { blob: new URL(storage.evidence.url).port, table: new URL(storage.tables.artifacts.url).port },
      tally.add,
    );
    let back;
    try {
      back = await openEvidenceSession(deps, run).readAll();
    } finally {
      stop();
    }
    expect(back.readings.get(ARTIFACTS.regressions.path)?.read.status).toBe("not-indexed");
    expect(back.readings.get(ARTIFACTS.catalog.path)?.read.status).toBe("missing");
    expect(back.readings.get(transcript)?.read.status).toBe("verified");
    const counted = tally.all.filter((r) => r.target !== "other").map((r) => r.kind);
    expect(counted.sort()).toEqual(["blob GET", "blob list", "table query"]);
  });

  it("knows the rows it indexed: lookups after a create-once index write read nothing", async () => {
    const { storage, deps, run } = await setup();
    const session = openEvidenceSession(deps, run);
    const stored = await session.put(ARTIFACTS.regressions, REGRESSIONS);
    await session.index([{ ...stored, merkleLeaf: true }]);
    const tally = new EvidenceRequestTally();
    const stop = countEvidenceRequests(
      { blob: new URL(storage.evidence.url).port, table: new URL(storage.tables.artifacts.url).port },
      tally.add,
    );
    let lookup;
    try {
      lookup = await session.lookup(ARTIFACTS.regressions.path);
    } finally {
      stop();
    }
    expect(tally.counted).toBe(0);
    // The row it knows is the row the table holds (read by a fresh session).
    expect(lookup).toEqual(await openEvidenceSession(deps, run).lookup(ARTIFACTS.regressions.path));
  });

  it("writes create-once: a retry with the same bytes succeeds, different bytes are a write-once conflict", async () => {
    const { deps, run } = await setup();
    const session = openEvidenceSession(deps, run);
    const first = await session.put(ARTIFACTS.regressions, REGRESSIONS);
    const retry = await session.put(ARTIFACTS.regressions, REGRESSIONS);
    expect(retry).toMatchObject({ created: false, sha256: first.sha256 });

    const conflicting = session.putBytes(first.path, Buffer.from("different"), "application/json");

    await expect(conflicting).rejects.toBeInstanceOf(EvidenceConflictError);
    // Content that fails its own schema is never stored at all.
    await expect(session.put(ARTIFACTS.regressions, { ...REGRESSIONS, TotalRegressions: 1 })).rejects.toBeInstanceOf(
      ArtifactSchemaError,
    );
  });

  it("memoises: one index query and one blob read serve every reader of the session", async () => {
    const { deps, run } = await setup();
    const writer = openEvidenceSession(deps, run);
    const stored = await writer.put(ARTIFACTS.regressions, REGRESSIONS);
    await writer.index([{ ...stored, merkleLeaf: true }]);
    const session = openEvidenceSession(deps, run);
    await session.rows();
    const queries = deps.index.stats.queries;
    const reads = deps.store.stats.blobReads;

    const readings = await Promise.all([
      session.read(ARTIFACTS.regressions),
      session.read(ARTIFACTS.regressions),
      session.value(ARTIFACTS.regressions),
      session.readBytes(ARTIFACTS.regressions.path),
    ]);

    expect(readings[0]).toBe(readings[1]);
    expect(deps.index.stats.queries - queries).toBe(0);
    expect(deps.store.stats.blobReads - reads).toBe(1);
  });
});
