// The project's patch of Azurite (patches/azurite+*.patch: an exact-key index of blob documents, a directory index
// for prefix listings, partition-pinned table queries, the blob GC's batched extent sweep) must change how fast an
// answer is found, never what is answered. The same fixed sequence of blob requests goes to the patched
// Azurite (as installed by `npm ci`) and to Azurite as published (the patch taken back out of a copy); every answer
// (status, error code, bytes, type, listing) must be the same. Unpatched Azurite is the source outside our code.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { BlobServiceClient, RestError, type ContainerClient } from "@azure/storage-blob";
import { odata, TableClient } from "@azure/data-tables";
import { azuritePackageDir, startAzurite, type AzuriteInstance } from "../../../local/azurite";
import { startUnpatchedAzurite, unpatchedAzuriteCopy } from "../../../local/azuriteUnpatched";

type Answer = Record<string, unknown>;

async function answer(request: () => Promise<Answer>): Promise<Answer> {
  try {
    return { ok: true, ...(await request()) };
  } catch (error) {
    if (error instanceof RestError) return { ok: false, status: error.statusCode, code: error.code };
    throw error;
  }
}

async function read(container: ContainerClient, name: string, snapshot?: string): Promise<Answer> {
  const client =
    snapshot === undefined ? container.getBlobClient(name) : container.getBlobClient(name).withSnapshot(snapshot);
  const bytes = await client.downloadToBuffer();
  const props = await client.getProperties();
  return { text: bytes.toString("utf8"), length: props.contentLength, type: props.blobType };
}

/** The fixed sequence: every answer, in order, with what varies by clock (ETags, dates, snapshot ids) left out. */
async function exercise(azurite: AzuriteInstance): Promise<Answer[]> {
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const [c1, c2] = [service.getContainerClient("one"), service.getContainerClient("two")];
  await c1.create();
  await c2.create();
  const put = (c: ContainerClient, name: string, text: string, ifNoneMatch?: string) =>
    answer(async () => {
      const r = await c
        .getBlockBlobClient(name)
        .upload(text, Buffer.byteLength(text), ifNoneMatch === undefined ? {} : { conditions: { ifNoneMatch } });
      return { created: r.errorCode === undefined };
    });
  const get = (c: ContainerClient, name: string, snapshot?: string) => answer(() => read(c, name, snapshot));
  const answers: Answer[] = [];
  // Many blobs with neighbouring names in two containers: the index must tell them apart by every key part.
  for (let i = 0; i < 200; i++) {
    answers.push(await put(c1, `t/run-${i}/status.json`, `one ${i}`));
    if (i % 3 === 0) answers.push(await put(c2, `t/run-${i}/status.json`, `two ${i}`));
  }
  for (const i of [0, 1, 3, 99, 199, 200]) {
    answers.push(await get(c1, `t/run-${i}/status.json`), await get(c2, `t/run-${i}/status.json`));
  }
  answers.push(await get(c1, "t/run-1/status.jso"), await get(c1, "T/run-1/status.json"));
  // Create-once: refused over an existing blob, accepted for a new name.
  answers.push(await put(c1, "t/run-5/status.json", "again", "*"), await put(c1, "t/new.json", "new", "*"));
  // Overwrite, then read the new bytes.
  answers.push(await put(c2, "t/run-3/status.json", "replaced"), await get(c2, "t/run-3/status.json"));
  // Snapshots: the base blob and its snapshot are two documents with one name.
  const snap = await c1.getBlobClient("t/run-7/status.json").createSnapshot();
  answers.push(await put(c1, "t/run-7/status.json", "after snapshot"));
  answers.push(await get(c1, "t/run-7/status.json"), await get(c1, "t/run-7/status.json", snap.snapshot));
  answers.push(await answer(async () => (await c1.deleteBlob("t/run-7/status.json"), {})));
  answers.push(
    await answer(async () => (await c1.deleteBlob("t/run-7/status.json", { deleteSnapshots: "include" }), {})),
  );
  answers.push(await get(c1, "t/run-7/status.json"), await get(c1, "t/run-7/status.json", snap.snapshot));
  // Delete and re-create under the same name (what a deleted staging blob and a retried agent write do).
  answers.push(await answer(async () => (await c1.deleteBlob("t/run-8/status.json"), {})));
  answers.push(
    await get(c1, "t/run-8/status.json"),
    await answer(async () => (await c1.deleteBlob("t/run-8/status.json"), {})),
  );
  answers.push(await put(c1, "t/run-8/status.json", "back"), await get(c1, "t/run-8/status.json"));
  // Append blobs (Run Command output staging).
  const append = c2.getAppendBlobClient("stage/out.txt");
  await append.create();
  await append.appendBlock("line 1\n", 7);
  await append.appendBlock("line 2\n", 7);
  answers.push(await get(c2, "stage/out.txt"));
  answers.push(
    await answer(
      async () => (await c2.getAppendBlobClient("stage/out.txt").create({ conditions: { ifNoneMatch: "*" } }), {}),
    ),
  );
  // Block list commit, then a listing of what is left.
  const blocks = c2.getBlockBlobClient("blocks.bin");
  const id = Buffer.from("block-0").toString("base64");
  await blocks.stageBlock(id, "staged", 6);
  answers.push(await get(c2, "blocks.bin"));
  await blocks.commitBlockList([id]);
  answers.push(await get(c2, "blocks.bin"));
  for (const c of [c1, c2]) {
    const names: string[] = [];
    for await (const b of c.listBlobsFlat({ prefix: "t/run-1" })) names.push(b.name);
    answers.push({ listing: names });
  }
  return answers;
}

describe("Azurite's exact-key patch", () => {
  it("is applied to the installed package and taken out of the unpatched copy", () => {
    const store = path.join("dist", "src", "blob", "persistence", "LokiBlobMetadataStore.js");
    expect(readFileSync(path.join(azuritePackageDir(), store), "utf8")).toContain("findBlobByKey");
    const copy = unpatchedAzuriteCopy();
    try {
      const published = readFileSync(
        path.join(path.dirname(copy.entry), "blob", "persistence", "LokiBlobMetadataStore.js"),
        "utf8",
      );
      expect(published).not.toContain("findBlobByKey");
    } finally {
      copy.remove();
    }
  });

  it("answers a fixed sequence of blob requests exactly as published Azurite does", async () => {
    const patched = await startAzurite({ inMemory: true });
    const published = await startUnpatchedAzurite({ inMemory: true });
    try {
      const [ours, theirs] = [await exercise(patched), await exercise(published)];
      expect(ours).toEqual(theirs);
      // And the sequence does reach the cases it is about (read from the published answers).
      expect(theirs).toContainEqual({ ok: false, status: 409, code: "BlobAlreadyExists" });
      expect(theirs).toContainEqual({ ok: false, status: 409, code: "SnapshotsPresent" });
      expect(theirs).toContainEqual({ ok: false, status: 404, code: "BlobNotFound" });
      expect(theirs).toContainEqual({ ok: true, text: "back", length: 4, type: "BlockBlob" });
    } finally {
      await patched.stop();
      await published.stop();
    }
  });
});

/** One listed blob, without what varies by clock (snapshot ids, ETags, dates): its length tells snapshots apart. */
function listed(b: {
  name: string;
  snapshot?: string;
  properties: { contentLength?: number; blobType?: string };
}): string {
  return `${b.name}${b.snapshot === undefined || b.snapshot === "" ? "" : "@snapshot"}:${b.properties.contentLength}:${b.properties.blobType}`;
}

/**
 * Prefix listings (the patch's directory index): every page of a fixed set of listings over blobs whose names share
 * prefixes, after overwrites, deletions, re-creations, snapshots and staged (uncommitted) blocks.
 */
async function exerciseListings(azurite: AzuriteInstance): Promise<Answer[]> {
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const [c1, c2] = [service.getContainerClient("one"), service.getContainerClient("two")];
  await c1.create();
  await c2.create();
  const put = (c: ContainerClient, name: string, text: string) =>
    c.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
  // Names sharing prefixes with and without '/', numeric-looking names (string order, not numeric), characters a
  // regular expression would read, empty path segments, and a folder with many children for multi-read pages.
  const names = [
    "a",
    "a/",
    "a/b",
    "a/b/",
    "a/b/c.json",
    "a/bc",
    "a/b/c/d/e.txt",
    "ab/c",
    "a.b/c",
    "a+b/c",
    "a(b)/c",
    "[x]/y",
    "a*/z",
    "^a$/q",
    "é/ü",
    "dir//double",
    "/lead",
    "9",
    "10",
    "09",
    "1e3",
    "0x1",
    "1/2",
    "1/10",
    "1/9",
    "1/9/0",
    "run-1/x",
    "run-10/x",
    "run-2/x",
    "run-1/y/z",
    "run-1x/w",
  ];
  for (const [i, name] of names.entries()) {
    await put(c1, name, "x".repeat(i + 1));
    if (i % 2 === 0) await put(c2, name, "y".repeat(i + 2));
  }
  for (let i = 0; i < 30; i++) await put(c1, `p/q${String(i % 7)}/n-${i}.json`, `p ${i}`);
  for (let i = 0; i < 5; i++) await put(c1, `p/direct-${i}`, `d ${i}`);
  // Overwrites, a deletion, a deletion and re-creation (a new document under an old name).
  await put(c1, "a/bc", "overwritten, longer");
  await c1.deleteBlob("run-2/x");
  await c1.deleteBlob("run-1/y/z");
  await put(c1, "run-1/y/z", "back again");
  // Snapshots: a blob with two snapshots of different lengths and a changed base, under a prefix.
  await put(c1, "a/b/snap.txt", "first");
  await c1.getBlobClient("a/b/snap.txt").createSnapshot();
  await put(c1, "a/b/snap.txt", "second!");
  await c1.getBlobClient("a/b/snap.txt").createSnapshot();
  await put(c1, "a/b/snap.txt", "third one");
  await c1.getBlobClient("run-1/x").createSnapshot();
  // Uncommitted blocks: a new blob that has only staged blocks, and a committed blob with a staged block.
  await c1.getBlockBlobClient("a/b/staged.bin").stageBlock(Buffer.from("b0").toString("base64"), "staged", 6);
  await c1.getBlockBlobClient("run-1/staged").stageBlock(Buffer.from("b1").toString("base64"), "staged", 6);
  await c1.getBlockBlobClient("a/b/c.json").stageBlock(Buffer.from("b2").toString("base64"), "more", 4);
  // An append blob beside block blobs.
  await c2.getAppendBlobClient("a/b/out.txt").create();

  const flat = async (c: ContainerClient, prefix: string, pageSize: number, all: boolean): Promise<Answer> => {
    const pages: Answer[] = [];
    const options = all ? { prefix, includeSnapshots: true, includeUncommitedBlobs: true } : { prefix };
    for await (const page of c.listBlobsFlat(options).byPage({ maxPageSize: pageSize }))
      pages.push({ blobs: page.segment.blobItems.map(listed), next: page.continuationToken ?? "" });
    return { kind: "flat", container: c.containerName, prefix, pageSize, all, pages };
  };
  const hierarchy = async (c: ContainerClient, prefix: string, pageSize: number): Promise<Answer> => {
    const pages: Answer[] = [];
    for await (const page of c.listBlobsByHierarchy("/", { prefix, includeSnapshots: true }).byPage({
      maxPageSize: pageSize,
    }))
      pages.push({
        blobs: page.segment.blobItems.map(listed),
        prefixes: (page.segment.blobPrefixes ?? []).map((p) => p.name),
        next: page.continuationToken ?? "",
      });
    return { kind: "hierarchy", container: c.containerName, prefix, pageSize, pages };
  };
  const prefixes = [
    "a",
    "a/",
    "a/b",
    "a/b/",
    "a/b/c",
    "a/b/s",
    "ab",
    "a.",
    "a+",
    "a(",
    "[",
    "a*",
    "^",
    "é/",
    "dir/",
    "dir//",
    "/",
    "9",
    "1",
    "1/",
    "1/9",
    "0",
    "run-1",
    "run-1/",
    "run-1/y/",
    "run-2/",
    "p/",
    "p/q3/",
    "p/q3/n-1",
    "nothing/",
  ];
  const answers: Answer[] = [];
  for (const prefix of prefixes)
    for (const c of [c1, c2]) {
      answers.push(
        await flat(c, prefix, 1000, false),
        await flat(c, prefix, 1000, true),
        await flat(c, prefix, 2, true),
      );
      answers.push(await hierarchy(c, prefix, 1000), await hierarchy(c, prefix, 2));
    }
  // A listing that starts at a marker (a continuation token) in the middle of a prefix.
  const [first] = await c1
    .listBlobsFlat({ prefix: "p/" })
    .byPage({ maxPageSize: 9 })
    .next()
    .then((r) => [r.value]);
  const marker = (first as { continuationToken?: string }).continuationToken ?? "";
  const rest: string[] = [];
  for await (const page of c1.listBlobsFlat({ prefix: "p/q" }).byPage({ continuationToken: marker, maxPageSize: 4 }))
    rest.push(...page.segment.blobItems.map(listed));
  answers.push({ kind: "from marker", marker, rest });
  return answers;
}

describe("Azurite's directory-index patch (prefix listings)", () => {
  it("answers a fixed sequence of prefix listings exactly as published Azurite does", async () => {
    const patched = await startAzurite({ inMemory: true });
    const published = await startUnpatchedAzurite({ inMemory: true });
    try {
      const [ours, theirs] = [await exerciseListings(patched), await exerciseListings(published)];
      expect(ours).toEqual(theirs);
      // The sequence reaches what it is about (read from the published answers): snapshots of one name in order,
      // an uncommitted blob, a page cut inside a prefix, a delimiter's prefixes, a listing that matched nothing.
      const text = JSON.stringify(theirs);
      expect(text).toContain("a/b/snap.txt@snapshot:5:BlockBlob");
      expect(text).toContain("a/b/snap.txt@snapshot:7:BlockBlob");
      expect(text).toContain("a/b/staged.bin:0:BlockBlob");
      expect(text).toContain('"prefixes":["p/q0/"');
      expect(theirs).toContainEqual(expect.objectContaining({ prefix: "p/", pageSize: 2, pages: expect.any(Array) }));
      const paged = theirs.find((a) => a.kind === "flat" && a.prefix === "p/" && a.pageSize === 2) as {
        pages: unknown[];
      };
      expect(paged.pages.length).toBeGreaterThan(10);
      expect(theirs).toContainEqual(
        expect.objectContaining({ kind: "flat", prefix: "nothing/", pages: [{ blobs: [], next: "" }] }),
      );
    } finally {
      await patched.stop();
      await published.stop();
    }
  });

  it("is applied to the installed package", () => {
    const store = path.join("dist", "src", "blob", "persistence", "LokiBlobMetadataStore.js");
    expect(readFileSync(path.join(azuritePackageDir(), store), "utf8")).toContain("blobsUnderPrefix");
  });
});

/** Table queries: every answer in order (entities by key and value, pages by their keys), from a fixed sequence. */
async function exerciseTables(azurite: AzuriteInstance): Promise<Answer[]> {
  const table = TableClient.fromConnectionString(azurite.connectionString, "Artifacts", {
    allowInsecureConnection: true,
  });
  await table.createTable();
  // Partitions with neighbouring names (a run's rows share one), and keys a filter must quote.
  const partitions = ["t|c|d|r1", "t|c|d|r10", "t|c|d|r2", "a-b", "it's", "or", "PartitionKey"];
  for (const [p, partitionKey] of partitions.entries())
    for (let r = 0; r < 12; r++)
      await table.createEntity({ partitionKey, rowKey: `row-${String(r).padStart(2, "0")}`, n: p * 100 + r });
  await table.deleteEntity("t|c|d|r1", "row-03");
  await table.upsertEntity({ partitionKey: "t|c|d|r1", rowKey: "row-04", n: -1 }, "Replace");
  const query = async (filter: string, top?: number): Promise<Answer> => {
    const pages: string[][] = [];
    const iterator = table
      .listEntities<{ n: number }>({ queryOptions: { filter } })
      .byPage(top === undefined ? {} : { maxPageSize: top });
    for await (const page of iterator) pages.push(page.map((e) => `${e.partitionKey}/${e.rowKey}=${e.n}`));
    return { filter, pages };
  };
  const answers: Answer[] = [];
  for (const p of partitions) answers.push(await query(odata`PartitionKey eq ${p}`));
  answers.push(
    await query(odata`PartitionKey eq ${"t|c|d|r1"} and RowKey ge ${"row-05"}`),
    await query(odata`(PartitionKey eq ${"t|c|d|r2"}) and (n lt ${205})`),
    await query(odata`PartitionKey eq ${"t|c|d|r1"} or PartitionKey eq ${"a-b"}`),
    await query(odata`PartitionKey eq ${"t|c|d|r2"} and not (RowKey eq ${"row-01"})`),
    await query(odata`RowKey eq ${"row-07"} and PartitionKey eq ${"or"}`),
    await query(odata`PartitionKey eq ${"nobody"}`),
    await query(odata`PartitionKey eq ${"t|c|d|r10"}`, 5), // continuation tokens within one partition
  );
  return answers;
}

describe("Azurite's partition-key patch (tables)", () => {
  it("answers a fixed sequence of table queries exactly as published Azurite does", async () => {
    const patched = await startAzurite({ inMemory: true });
    const published = await startUnpatchedAzurite({ inMemory: true });
    try {
      const [ours, theirs] = [await exerciseTables(patched), await exerciseTables(published)];
      expect(ours).toEqual(theirs);
      // The sequence reaches what it is about (read from the published answers): a partition's rows, the quoted
      // key, several pages of one partition, and a filter the fast path must leave alone.
      expect(theirs[0]).toMatchObject({ pages: [expect.arrayContaining(["t|c|d|r1/row-04=-1"])] });
      expect(JSON.stringify(theirs[4])).toContain("it's/row-11=411");
      expect((theirs.at(-1)?.pages as unknown[]).length).toBeGreaterThan(1);
      expect(JSON.stringify(theirs.at(-5))).toContain("a-b/row-00=300");
    } finally {
      await patched.stop();
      await published.stop();
    }
  });

  it("is applied to the installed package", () => {
    const store = path.join("dist", "src", "table", "persistence", "LokiTableMetadataStore.js");
    expect(readFileSync(path.join(azuritePackageDir(), store), "utf8")).toContain("partitionKeyOfFilter");
  });
});

// The blob GC's sweep (BlobGCManager, every 10 minutes) hands every unreferenced extent to the extent store's
// deleteExtents. Published, that removes each extent's document on its own, and LokiJS rebuilds the collection's index on
// `id` after each removal: in a 5,000-device window the staging account's Azurite then held its event loop for many
// minutes sorting the index again for each of the Run Command output appends deleted since the last sweep, and every
// request waited. The patch removes the batch at once. Run in a child process per package (the unpatched copy
// resolves its dependencies through NODE_PATH, as Azurite itself is started): the same extents appended, the same
// ones swept (one unknown id among them), and what is left must be the same.
const SWEEP = `
const path = require("node:path");
const src = process.env.AZURITE_SRC;
const Meta = require(path.join(src, "common/persistence/LokiExtentMetadataStore.js")).default;
const mem = require(path.join(src, "common/persistence/MemoryExtentStore.js"));
(async () => {
  const meta = new Meta("extents-" + process.pid, true);
  const noop = () => {};
  const logger = { info: noop, debug: noop, warn: noop, error: noop, verbose: noop };
  const store = new mem.default("blob", new mem.MemoryExtentChunkStore(1 << 30), meta, logger, (s, c, m) => new Error(m));
  await store.init();
  const ids = [];
  for (let i = 0; i < 300; i++) ids.push((await store.appendExtent(Buffer.from("extent " + i))).id);
  const swept = new Set([...ids.filter((_, i) => i % 3 === 0 || i === 299), "no-such-extent"]);
  const coll = meta.db.getCollection(meta.EXTENTS_COLLECTION);
  const ensure = coll.ensureAllIndexes;
  let rebuilds = 0;
  coll.ensureAllIndexes = function (force) { rebuilds++; return ensure.call(this, force); };
  const deleted = await store.deleteExtents(swept);
  coll.ensureAllIndexes = ensure;
  const [docs] = await meta.listExtents(undefined, 10000);
  const left = docs.map((d) => ids.indexOf(d.id)).sort((a, b) => a - b);
  const chunks = ids.map((id) => store.chunks.get("blob", id) !== undefined);
  const found = (await meta.listExtents(ids[1], 10))[0].length;
  const again = await store.deleteExtents(swept);
  const [after] = await meta.listExtents(undefined, 10000);
  process.stdout.write(JSON.stringify({ answer: { deleted, left, chunks, found, again, after: after.length }, rebuilds }));
})();
`;

function sweepWith(azuriteSrc: string): { answer: Answer; rebuilds: number } {
  const run = spawnSync(process.execPath, ["-e", SWEEP], {
    encoding: "utf8",
    env: { ...process.env, AZURITE_SRC: azuriteSrc, NODE_PATH: path.dirname(azuritePackageDir()) },
  });
  if (run.status !== 0) throw new Error(`extent sweep failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { answer: Answer; rebuilds: number };
}

describe("Azurite's batched extent sweep (blob GC)", () => {
  it("leaves exactly what published Azurite leaves, rebuilding the extents' index once instead of once per extent", () => {
    const copy = unpatchedAzuriteCopy();
    try {
      const ours = sweepWith(path.join(azuritePackageDir(), "dist", "src"));
      const theirs = sweepWith(path.dirname(copy.entry));
      expect(ours.answer).toEqual(theirs.answer);
      // The sweep did what it is about (read from the published answer): 101 of 300 extents and one unknown id.
      expect(theirs.answer).toMatchObject({ deleted: 102, again: 102, after: 199, found: 1 });
      expect((theirs.answer.left as number[]).includes(0)).toBe(false);
      expect(theirs.rebuilds).toBe(102);
      expect(ours.rebuilds).toBe(1);
    } finally {
      copy.remove();
    }
  });

  it("is applied to the installed package", () => {
    const store = path.join("dist", "src", "common", "persistence", "LokiExtentMetadataStore.js");
    expect(readFileSync(path.join(azuritePackageDir(), store), "utf8")).toContain("deleteExtentsBatch");
  });
});
