// Benchmark: one blob GET, HEAD, PUT and run-folder listing at a time against Azurite holding 1,000 / 5,000 / 20,000 blobs, patched
// (as `npm ci` installs it, patches/azurite+*.patch) and as published (the patch taken out of a copy). Prints
// medians; asserts nothing. See docs/local-storage.md.
//
//   npm run bench:azurite-lookup                 # BENCH_LOOKUP_SIZES=1000,5000,20000  BENCH_LOOKUP_SAMPLES=200
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import os from "node:os";
import { startAzurite, type AzuriteInstance } from "../local/azurite";
import { startUnpatchedAzurite } from "../local/azuriteUnpatched";
import { intSetting } from "./settings";

const SIZES = (process.env.BENCH_LOOKUP_SIZES ?? "1000,5000,20000").split(",").map(Number);
const SAMPLES = intSetting("BENCH_LOOKUP_SAMPLES", 200);
const FILL_CONCURRENCY = 16;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function timed(op: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await op();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Blob names shaped like evidence paths (tenant/client/device/run/phase/artifact). */
const nameOf = (i: number): string => `t1/c${i % 40}/dev-${i}/run-${i}/02-baseline/baseline.json`;

async function fill(container: ContainerClient, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const i = next++;
      await container.getBlockBlobClient(nameOf(i)).upload(`{"i":${i}}`, `{"i":${i}}`.length);
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker));
}

interface Row {
  variant: string;
  blobs: number;
  get: number;
  head: number;
  put: number;
  list: number;
}

async function measure(variant: string, start: () => Promise<AzuriteInstance>): Promise<Row[]> {
  const azurite = await start();
  const rows: Row[] = [];
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("lookup");
    await container.create();
    let stored = 0;
    let fresh = 0;
    for (const size of SIZES) {
      await fill(container, stored, size);
      stored = size;
      const gets: number[] = [];
      const heads: number[] = [];
      const puts: number[] = [];
      const lists: number[] = [];
      for (let s = 0; s < SAMPLES; s++) {
        const i = (s * 7919) % size;
        gets.push(
          await timed(() =>
            container
              .getBlobClient(nameOf(i))
              .download()
              .then((r) => r.readableStreamBody?.resume()),
          ),
        );
        heads.push(await timed(() => container.getBlobClient(nameOf(i)).getProperties()));
        const name = `put/${variant}/${fresh++}.json`;
        // Create-once, as evidence is written (If-None-Match: *).
        puts.push(
          await timed(() => container.getBlockBlobClient(name).upload("{}", 2, { conditions: { ifNoneMatch: "*" } })),
        );
        // A prefix listing of one run's folder, as a run's finish and `patchpilot verify` make.
        const folder = nameOf(i).slice(0, nameOf(i).indexOf("02-baseline/"));
        lists.push(
          await timed(async () => {
            for await (const item of container.listBlobsFlat({ prefix: folder })) void item;
          }),
        );
      }
      // The PUT samples stay stored: counted into the next size's fill.
      rows.push({
        variant,
        blobs: size,
        get: median(gets),
        head: median(heads),
        put: median(puts),
        list: median(lists),
      });
      console.log(
        `${variant.padEnd(9)} ${String(size).padStart(6)} blobs: GET ${median(gets).toFixed(2)} ms, HEAD ${median(heads).toFixed(2)} ms, PUT ${median(puts).toFixed(2)} ms, LIST ${median(lists).toFixed(2)} ms (medians of ${SAMPLES})`,
      );
    }
  } finally {
    await azurite.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  console.log(
    `bench:azurite-lookup — sizes ${SIZES.join("/")}, ${SAMPLES} samples, one request at a time, Node ${process.version}, ${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}`,
  );
  const published = await measure("published", () => startUnpatchedAzurite({ inMemory: true }));
  const patched = await measure("patched", () => startAzurite({ inMemory: true }));
  console.log(
    "\n| blobs | GET published → patched | HEAD published → patched | PUT published → patched | LIST published → patched |",
  );
  console.log("|---|---|---|---|---|");
  for (const [i, p] of published.entries()) {
    const q = patched[i];
    if (q === undefined) continue;
    const cell = (a: number, b: number): string => `${a.toFixed(2)} → ${b.toFixed(2)} ms`;
    console.log(
      `| ${p.blobs} | ${cell(p.get, q.get)} | ${cell(p.head, q.head)} | ${cell(p.put, q.put)} | ${cell(p.list, q.list)} |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
