// Evidence export benchmark: builds an export package of ~10,000 artifacts against Azurite and compares its
// throughput with a raw read + zip of the same blobs, with the process's peak RSS. Prints figures only: targets are
// labelled PASS/MISS and a MISS still exits 0.
//
//   npm run bench:export          (= node dist/bench/export.js after a build)
//
// Knobs (environment): BENCH_EXPORT_RUNS (330), BENCH_TRANSCRIPTS (16 per run), BENCH_TRANSCRIPT_KIB (6),
// BENCH_READ_AHEAD (16), BENCH_ROUNDS (2). `node --max-old-space-size=128 dist/bench/export.js` shows the RSS with a
// heap sized like a small Functions host's instead of this machine's.
import os from "node:os";
import v8 from "node:v8";
import vm from "node:vm";
import { Writable, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ZipFile } from "yazl";
import { makeBuildEvidenceExport } from "../functions/activities/buildEvidenceExport";
import { createStorageClients, ensureStorage, type StorageClients } from "../lib/azure/storageClients";
import { parseConfig } from "../lib/config/config";
import { ARTIFACTS, specForPath, transcriptPath, type PhaseKey } from "../lib/domain/artifacts";
import { createEvidenceDeps } from "../lib/evidence/createEvidenceDeps";
import { putArtifact, sealRun, type EvidenceDeps } from "../lib/evidence/runEvidence";
import type { StoredArtifact } from "../lib/evidence/blobStore";
import { evidenceExportSource } from "../lib/export/exportSource";
import { ExportStore } from "../lib/export/exportStore";
import { listRunsInScope } from "../lib/export/listRunsInScope";
import { readAhead } from "../lib/export/readAhead";
import { verifyPackage } from "../lib/export/verifyPackage";
import { writeExportPackage } from "../lib/export/writeExportPackage";
import type { ExportRequest } from "../lib/schemas/api/exports";
import type { RunRef } from "../lib/schemas/common";
import { startAzurite } from "../local/azurite";
import { at, buildSampleArtifacts } from "../local/demo/sampleRun";
import { intSetting } from "./settings";

const RUNS = intSetting("BENCH_EXPORT_RUNS", 330);
const TRANSCRIPTS = intSetting("BENCH_TRANSCRIPTS", 16);
const TRANSCRIPT_BYTES = intSetting("BENCH_TRANSCRIPT_KIB", 6) * 1024;
const READ_AHEAD = intSetting("BENCH_READ_AHEAD", 16);
const ROUNDS = intSetting("BENCH_ROUNDS", 2);

/** Export throughput over raw read + zip throughput (artifacts/s). */
const TARGET_RATIO = 0.5;
/** Peak resident set size of this process while exporting. */
const TARGET_RSS_MB = 300;

// A full GC between measurements (and after each, to see what stays retained); the flag is set at run time so the
// npm script needs no node option.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const TENANT = "bench-msp";
const SCOPE: ExportRequest = { from: "2026-01-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" };
const MB = 1024 * 1024;
const PHASES_WITH_TRANSCRIPTS: readonly PhaseKey[] = [
  "baseline",
  "preValidation",
  "catalog",
  "install",
  "postSnapshot",
  "postValidation",
  "diagnostics",
  "reboot",
];

function fmt(n: number, digits = 1): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    `  ${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()}`;
  console.log(line(header));
  console.log(`  ${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const r of rows) console.log(line(r));
}

/** A raw Run Command transcript of about `size` bytes: deterministic, text, as compressible as real output. */
function transcript(run: RunRef, n: number, size: number): string {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `[${at(i % 60)}] ${run.device} step ${n}.${i}: Get-WindowsUpdate -KBArticleID KB50${(12_345 + ((i * 7919 + n * 104_729) % 90_000)).toString().padStart(5, "0")} -> Installed=${i % 5 !== 0} HResult=0x${((i * 2_654_435_761) >>> 0).toString(16)}\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join("").slice(0, size);
}

/** A sealed run: the sample run's artifacts (phases 01-09) plus raw transcripts, through lib/evidence. */
async function seedRun(deps: EvidenceDeps, run: RunRef): Promise<number> {
  const { artifacts, events } = buildSampleArtifacts(run);
  const stored: StoredArtifact[] = [];
  for (const [key, value] of Object.entries(artifacts))
    stored.push(await putArtifact(deps, run, ARTIFACTS[key as keyof typeof ARTIFACTS], value));
  for (let i = 0; i < TRANSCRIPTS; i++) {
    const phase = PHASES_WITH_TRANSCRIPTS[i % PHASES_WITH_TRANSCRIPTS.length] as PhaseKey;
    const path = transcriptPath(phase, `pp-${phase.toLowerCase()}-${i}`, i % 2 === 0 ? "stdout" : "stderr");
    stored.push(await putArtifact(deps, run, specForPath(path), transcript(run, i, TRANSCRIPT_BYTES)));
  }
  const seal = await sealRun(deps, run, { sealedAt: at(56), artifacts: stored, events });
  return seal.stored.length;
}

/** Samples this process's memory every 50 ms; `peak()` is the RSS peak since the last `reset()`. */
class RssSampler {
  private max: NodeJS.MemoryUsage = process.memoryUsage();
  private readonly timer = setInterval(() => this.sample(), 50);
  sample(): void {
    const now = process.memoryUsage();
    if (now.rss > this.max.rss) this.max = now;
  }
  reset(): void {
    gc();
    this.max = process.memoryUsage();
  }
  peak(): number {
    this.sample();
    return this.max.rss;
  }
  /** Heap used and Buffer memory at the RSS peak. */
  atPeak(): string {
    return `heap ${fmt(this.max.heapUsed / MB, 0)} + buffers ${fmt(this.max.arrayBuffers / MB, 0)}`;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Counts bytes and drops them: the zip's destination when only the build is measured. */
function nullSink(): Writable & { bytes: number } {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      sink.bytes += chunk.length;
      callback();
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}

interface Measure {
  label: string;
  ms: number;
  artifacts: number;
  bytes: number;
  zipBytes: number;
  peakRss: number;
  /** What the RSS peak was made of (heap used, Buffers). */
  peakDetail?: string;
  /** Heap still in use after a full GC once the phase is over (what the phase left behind). */
  retainedHeap?: number;
}

/** Runs a phase and records the heap it leaves behind. */
async function measured(phase: Promise<Measure>): Promise<Measure> {
  const m = await phase;
  gc();
  return { ...m, retainedHeap: process.memoryUsage().heapUsed };
}

/** A stream supplier that forgets the stream once yazl has it (module level: its closure holds only `pending`). */
function handOverOnce(stream: Readable): (callback: (error: Error | null, stream: Readable) => void) => void {
  let pending: Readable | undefined = stream;
  return (callback) => {
    const next = pending as Readable;
    pending = undefined;
    callback(null, next);
  };
}

/** Raw read + zip: every blob of the tenant downloaded (same read-ahead) and added to a yazl zip going nowhere. */
async function rawReadZip(storage: StorageClients, rss: RssSampler): Promise<Measure> {
  rss.reset();
  const started = performance.now();
  const names: string[] = [];
  for await (const item of storage.evidence.listBlobsFlat({ prefix: `${TENANT}/` })) names.push(item.name);
  const zip = new ZipFile();
  const sink = nullSink();
  const written = pipeline(zip.outputStream as Readable, sink);
  let bytes = 0;
  let pending: Promise<void>[] = [];
  const open = async (name: string): Promise<{ name: string; stream: Readable; size: number }> => {
    const response = await storage.evidence.getBlobClient(name).download();
    return { name, stream: response.readableStreamBody as Readable, size: response.contentLength ?? 0 };
  };
  for await (const { name, stream, size } of readAhead(names, READ_AHEAD, open)) {
    bytes += size;
    pending.push(new Promise<void>((resolve, reject) => stream.once("end", resolve).once("error", reject)));
    // Handed over lazily and forgotten, as the package writer does: yazl keeps every entry's stream supplier.
    zip.addReadStreamLazy(name, handOverOnce(stream));
    // The same bound on queued entries as the package writer.
    if (pending.length > 8) {
      await pending[0];
      pending = pending.slice(1);
    }
  }
  await Promise.all(pending);
  zip.end();
  await written;
  return {
    label: "raw read + zip",
    ms: performance.now() - started,
    artifacts: names.length,
    bytes,
    zipBytes: sink.bytes,
    peakRss: rss.peak(),
    peakDetail: rss.atPeak(),
  };
}

/** The package writer alone (index, listing, hashing, checks, proofs, matrix) into a sink. */
async function exportToSink(storage: StorageClients, deps: EvidenceDeps, rss: RssSampler): Promise<Measure> {
  rss.reset();
  const started = performance.now();
  const runs = await listRunsInScope(storage.tables.runs, TENANT, SCOPE);
  const sink = nullSink();
  const result = await writeExportPackage(
    evidenceExportSource(deps, storage.evidence),
    { exportId: "x20260401-benchsink", tenant: TENANT, request: SCOPE, createdAt: "2026-04-01T08:00:00.000Z", runs },
    sink,
    { readAhead: READ_AHEAD },
  );
  if (!result.verified) throw new Error(`${result.runsFailed} runs did not verify at export time`);
  return {
    label: "export package -> sink",
    ms: performance.now() - started,
    artifacts: result.counts.artifacts,
    bytes: result.counts.bytes,
    zipBytes: sink.bytes,
    peakRss: rss.peak(),
    peakDetail: rss.atPeak(),
  };
}

/** The build activity: the same plus the upload into the exports container and the Exports record. */
async function exportActivity(
  storage: StorageClients,
  deps: EvidenceDeps,
  rss: RssSampler,
  exportId: string,
): Promise<Measure> {
  await new ExportStore(storage.tables.exports).create(TENANT, exportId, SCOPE, "bench", new Date());
  rss.reset();
  const started = performance.now();
  const summary = await makeBuildEvidenceExport({ storage, evidence: deps, packageOptions: { readAhead: READ_AHEAD } })(
    { tenant: TENANT, exportId, now: "2026-04-01T08:00:00.000Z" },
  );
  return {
    label: "build activity (upload)",
    ms: performance.now() - started,
    artifacts: summary.counts.artifacts,
    bytes: summary.counts.bytes,
    zipBytes: summary.size,
    peakRss: rss.peak(),
    peakDetail: rss.atPeak(),
  };
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log("PatchPilot evidence export benchmark");
  console.log(
    `  node ${process.version}, ${cpus[0]?.model.trim() ?? "unknown CPU"} x ${cpus.length}, ${fmt(os.totalmem() / 1024 / MB)} GiB`,
  );
  console.log(
    `  V8 heap limit ${fmt(v8.getHeapStatistics().heap_size_limit / MB, 0)} MB (node --max-old-space-size=N sets it; Node sizes it by the machine's or container's memory)`,
  );
  console.log(
    `  ${RUNS} sealed runs x (12 sample artifacts + ${TRANSCRIPTS} transcripts of ${TRANSCRIPT_BYTES / 1024} KiB + seal), read-ahead ${READ_AHEAD}, ${ROUNDS} rounds`,
  );
  const azurite = await startAzurite({ inMemory: true });
  const rss = new RssSampler();
  try {
    const config = parseConfig({
      AzureWebJobsStorage: azurite.connectionString,
      PATCHPILOT_EVIDENCE_CONNECTION_STRING: azurite.connectionString,
      PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
    });
    const storage = createStorageClients(config);
    await ensureStorage(storage);
    const deps = createEvidenceDeps(config, storage);

    let seeded = 0;
    const seedStart = performance.now();
    const refs = Array.from({ length: RUNS }, (_, i): RunRef => ({
      tenant: TENANT,
      client: `client-${i % 10}`,
      device: `DEV-${String(i).padStart(4, "0")}`,
      runId: `r20260120-${String(i).padStart(6, "0")}`,
    }));
    for await (const n of readAhead(refs, 8, (run) => seedRun(deps, run))) seeded += n;
    console.log(
      `  seeded ${seeded.toLocaleString("en-US")} artifacts in ${fmt((performance.now() - seedStart) / 1000)} s (not measured)\n`,
    );

    const measures: Measure[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      measures.push(await measured(rawReadZip(storage, rss)));
      measures.push(await measured(exportToSink(storage, deps, rss)));
      measures.push(await measured(exportActivity(storage, deps, rss, `x20260401-bench${round}`)));
    }
    printTable(
      [
        "round",
        "what",
        "artifacts",
        "MB",
        "zip MB",
        "s",
        "artifacts/s",
        "MB/s",
        "peak RSS MB",
        "of which",
        "heap after GC MB",
      ],
      measures.map((m, i) => [
        String(Math.floor(i / 3) + 1),
        m.label,
        m.artifacts.toLocaleString("en-US"),
        fmt(m.bytes / MB),
        fmt(m.zipBytes / MB),
        fmt(m.ms / 1000, 2),
        fmt(m.artifacts / (m.ms / 1000), 0),
        fmt(m.bytes / MB / (m.ms / 1000), 2),
        fmt(m.peakRss / MB, 0),
        m.peakDetail ?? "",
        fmt((m.retainedHeap ?? 0) / MB, 0),
      ]),
    );

    const best = (label: string): Measure =>
      measures.filter((m) => m.label === label).sort((a, b) => a.ms - b.ms)[0] as Measure;
    const raw = best("raw read + zip");
    const sink = best("export package -> sink");
    const activity = best("build activity (upload)");
    const rate = (m: Measure): number => m.artifacts / (m.ms / 1000);
    const peak = Math.max(...measures.filter((m) => m.label !== "raw read + zip").map((m) => m.peakRss)) / MB;

    const zip = `${os.tmpdir()}/patchpilot-bench-export.zip`;
    await storage.exports.getBlockBlobClient(`${TENANT}/x20260401-bench0.zip`).downloadToFile(zip);
    rss.reset();
    const verifyStart = performance.now();
    const verified = await verifyPackage(zip);
    const verifyMs = performance.now() - verifyStart;

    console.log("\nSummary (best round of each)");
    printTable(
      ["figure", "value", "target", ""],
      [
        [
          "raw read + zip",
          `${fmt(rate(raw), 0)} artifacts/s, ${fmt(raw.bytes / MB / (raw.ms / 1000), 2)} MB/s`,
          "",
          "",
        ],
        [
          "export package -> sink",
          `${fmt(rate(sink), 0)} artifacts/s (${fmt(rate(sink) / rate(raw), 2)}x raw)`,
          `>= ${TARGET_RATIO}x`,
          rate(sink) / rate(raw) >= TARGET_RATIO ? "PASS" : "MISS",
        ],
        [
          "build activity with upload",
          `${fmt(rate(activity), 0)} artifacts/s (${fmt(rate(activity) / rate(raw), 2)}x raw)`,
          `>= ${TARGET_RATIO}x`,
          rate(activity) / rate(raw) >= TARGET_RATIO ? "PASS" : "MISS",
        ],
        [
          "peak RSS while exporting",
          `${fmt(peak, 0)} MB`,
          `< ${TARGET_RSS_MB} MB`,
          peak < TARGET_RSS_MB ? "PASS" : "MISS",
        ],
        [
          "offline verify (verifyPackage)",
          `${verified.ok ? "ok" : "FAILED"}, ${verified.artifacts.toLocaleString("en-US")} artifacts in ${fmt(verifyMs / 1000, 2)} s, peak RSS ${fmt(rss.peak() / MB, 0)} MB`,
          "ok",
          verified.ok ? "PASS" : "MISS",
        ],
      ],
    );
  } finally {
    rss.stop();
    await azurite.stop();
  }
}

// Targets are reported, never enforced: a MISS still exits 0. Only a crash (the benchmark could not run) exits 1.
main().catch((error: unknown) => {
  console.error("benchmark failed:", error);
  process.exitCode = 1;
});
