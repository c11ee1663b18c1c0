// Audit-proof benchmark: "prove KB x was installed on device y on day z" (proveInstalls) against a raw single-entity
// Table read, on an Installs table of 100,000 rows in Azurite. Prints figures only: the target is labelled PASS/MISS
// and a MISS still exits 0.
//
//   npm run bench:audit
//
// Optional knobs (environment): BENCH_AUDIT_DEVICES (1000), BENCH_AUDIT_ROWS (100000), BENCH_AUDIT_REAL_DEVICES (100),
// BENCH_AUDIT_RUNS_PER_DEVICE (3), BENCH_AUDIT_SAMPLES (500), BENCH_AUDIT_SEED (1).
import os from "node:os";
import type { TableClient, TableEntity } from "@azure/data-tables";
import { AuditLog, verifyAuditChain } from "../lib/api/audit/auditLog";
import { proveInstalls } from "../lib/api/installs/proveInstalls";
import { createStorageClients, ensureStorage } from "../lib/azure/storageClients";
import { parseConfig } from "../lib/config/config";
import { ARTIFACTS } from "../lib/domain/artifacts";
import type { StoredArtifact } from "../lib/evidence/blobStore";
import { createEvidenceDeps } from "../lib/evidence/createEvidenceDeps";
import { installsPartition, installsRowKey } from "../lib/evidence/keys";
import { putArtifact, sealRun, type EvidenceDeps } from "../lib/evidence/runEvidence";
import type { InstallOutcome } from "../lib/schemas/artifacts/catalog";
import type { RunRef } from "../lib/schemas/common";
import { startAzurite } from "../local/azurite";
import { at, buildSampleArtifacts } from "../local/demo/sampleRun";
import { intSetting } from "./settings";

const DEVICES = intSetting("BENCH_AUDIT_DEVICES", 1000);
const TOTAL_ROWS = intSetting("BENCH_AUDIT_ROWS", 100_000);
const REAL_DEVICES = intSetting("BENCH_AUDIT_REAL_DEVICES", 100);
const RUNS_PER_DEVICE = intSetting("BENCH_AUDIT_RUNS_PER_DEVICE", 3);
const SAMPLES = intSetting("BENCH_AUDIT_SAMPLES", 500);
const SEED = intSetting("BENCH_AUDIT_SEED", 1);
const APPEND_BURST = intSetting("BENCH_AUDIT_APPEND_BURST", 200);

/** Proof query p99 over raw getEntity p99. */
const TARGET_RATIO = 3;
const WARMUP = 50;
const WRITE_CONCURRENCY = 8;
/** Outcomes per sealed run: consecutive runs of a device overlap by two updates (a retry a week later). */
const OUTCOMES_PER_RUN = 34;
const OVERLAP = 2;

const TENANT = "bench";
const CLIENT = "c1";
const DAY_MS = 86_400_000;
/** First maintenance night; the runs of a device are a week apart. */
const FIRST_NIGHT = Date.parse("2026-01-06T02:00:00.000Z");

// ---------------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------------

function nowNs(): bigint {
  return process.hrtime.bigint();
}

function msSince(start: bigint): number {
  return Number(nowNs() - start) / 1e6;
}

function fmt(n: number, digits = 2): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

/** mulberry32: a small seeded generator, so every run samples the same queries. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function printTable(header: readonly string[], rows: readonly (readonly string[])[], indent = "  "): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    indent +
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(indent + widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

function deviceName(i: number): string {
  return `AUD-${String(i).padStart(4, "0")}`;
}

function kbOf(n: number): string {
  return `KB5${String(100_000 + n)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------------------------

/** An Installs row as the index writes it (the fields of InstallRow). */
type InstallEntity = TableEntity<{
  tenant: string;
  client: string;
  device: string;
  runId: string;
  updateId: string;
  kb: string;
  title: string;
  installed: boolean;
  result: string;
  finishedAt: string;
  artifactPath: string;
  artifactSha256: string;
  line: number;
}>;

/** The outcomes of run `j` of a device: KBs j*(34-2) .. +33, finished a minute apart from 02:10 on its night. */
function outcomesOf(j: number): InstallOutcome[] {
  const night = FIRST_NIGHT + j * 7 * DAY_MS;
  return Array.from({ length: OUTCOMES_PER_RUN }, (_, i) => {
    const n = j * (OUTCOMES_PER_RUN - OVERLAP) + i;
    const failed = n % 17 === 5;
    return {
      schemaVersion: 1,
      updateId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      kb: kbOf(n),
      title: `2026 Security Update for Windows Server (${kbOf(n)})`,
      installed: !failed,
      result: failed ? "Failed" : "Succeeded",
      ...(failed ? { hresult: -2145124329 } : {}),
      rebootRequired: !failed && n % 3 === 0,
      finishedAt: new Date(night + (10 + i) * 60_000).toISOString(),
    };
  });
}

/**
 * A real sealed run through lib/evidence: the sample run's artifacts (phases 01-09) with this run's install summary,
 * then phase 10 (events, artifact index, manifest, Artifacts and Installs index rows).
 */
async function writeSealedRun(deps: EvidenceDeps, run: RunRef, j: number): Promise<void> {
  const { artifacts, events } = buildSampleArtifacts(run);
  artifacts.installSummary = outcomesOf(j);
  const stored: StoredArtifact[] = [];
  for (const [key, value] of Object.entries(artifacts)) {
    stored.push(await putArtifact(deps, run, ARTIFACTS[key as keyof typeof ARTIFACTS], value));
  }
  await sealRun(deps, run, { sealedAt: at(56), artifacts: stored, events });
}

/** Reads back the Installs rows the seal wrote for the real devices (one query per device, setup only). */
async function realRows(deps: EvidenceDeps): Promise<Map<string, InstallEntity[]>> {
  const out = new Map<string, InstallEntity[]>();
  for (let d = 0; d < REAL_DEVICES; d++) {
    const { rows } = await deps.index.queryInstalls(TENANT, deviceName(d));
    out.set(
      deviceName(d),
      rows.map((r) => ({ ...r, kb: r.kb ?? r.updateId })),
    );
  }
  return out;
}

/**
 * Filler devices: rows copied from a real device's rows (same run, artifact, hash and line), re-keyed into the filler
 * device's partition, written with submitTransaction in batches of 100 (one partition each). They make the table its
 * full size; they are never proven, because their evidence lives under the source device's folder and the scope check
 * (rightly) refuses a row whose run is not under `{tenant}/{client}/{device}/{runId}/`.
 */
function fillerRows(real: Map<string, InstallEntity[]>, fillerCount: number): Map<string, InstallEntity[]> {
  const fillerDevices = DEVICES - REAL_DEVICES;
  const out = new Map<string, InstallEntity[]>();
  for (let f = 0; f < fillerDevices; f++) {
    const device = deviceName(REAL_DEVICES + f);
    const count = Math.floor(fillerCount / fillerDevices) + (f < fillerCount % fillerDevices ? 1 : 0);
    const source = real.get(deviceName(f % REAL_DEVICES)) ?? [];
    const rows: InstallEntity[] = [];
    for (let i = 0; i < count; i++) {
      const s = source[i % source.length];
      if (s === undefined) break;
      // Past the source's rows, a synthetic run id keeps the row key unique.
      const runId = i < source.length ? s.runId : `${s.runId}-copy${Math.floor(i / source.length)}`;
      rows.push({
        ...s,
        partitionKey: installsPartition(TENANT, device),
        rowKey: installsRowKey(s.kb, runId),
        device,
        runId,
      });
    }
    out.set(device, rows);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log("PatchPilot audit-proof benchmark");
  console.log(`  date    ${new Date().toISOString()}`);
  console.log(`  node    ${process.version} (${process.platform} ${process.arch})`);
  console.log(`  cpu     ${cpus[0]?.model.trim() ?? "unknown"} x ${cpus.length} logical cores`);

  const azurite = await startAzurite({ inMemory: true });
  try {
    const cs = azurite.connectionString;
    const config = parseConfig({
      AzureWebJobsStorage: cs,
      PATCHPILOT_EVIDENCE_CONNECTION_STRING: cs,
      PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
    });
    const clients = createStorageClients(config);
    await ensureStorage(clients);
    const deps = createEvidenceDeps(config, clients);

    // 0. The audit log under a burst: N concurrent appends to one tenant's chain, from 1 and 3 instances.
    await benchAuditAppends(clients.tables.auditLog);

    // 1. Real sealed runs.
    const runs: { run: RunRef; j: number }[] = [];
    for (let d = 0; d < REAL_DEVICES; d++) {
      for (let j = 0; j < RUNS_PER_DEVICE; j++) {
        runs.push({
          run: { tenant: TENANT, client: CLIENT, device: deviceName(d), runId: `audit-${deviceName(d)}-run-${j}` },
          j,
        });
      }
    }
    let t = nowNs();
    await mapLimit(runs, WRITE_CONCURRENCY, ({ run, j }) => writeSealedRun(deps, run, j));
    const sealMs = msSince(t);
    const real = await realRows(deps);
    const realCount = [...real.values()].reduce((a, r) => a + r.length, 0);
    console.log(
      `\n  ${runs.length} sealed runs (${REAL_DEVICES} devices x ${RUNS_PER_DEVICE}, ${OUTCOMES_PER_RUN} outcomes each) ` +
        `written through lib/evidence in ${fmt(sealMs / 1000, 1)} s; the seal indexed ${realCount.toLocaleString("en-US")} Installs rows`,
    );

    // 2. Filler rows up to the table size, 100 per transaction.
    const filler = fillerRows(real, Math.max(0, TOTAL_ROWS - realCount));
    const batches: InstallEntity[][] = [];
    for (const rows of filler.values()) for (let i = 0; i < rows.length; i += 100) batches.push(rows.slice(i, i + 100));
    t = nowNs();
    await mapLimit(batches, WRITE_CONCURRENCY, async (batch) => {
      await clients.tables.installs.submitTransaction(batch.map((row) => ["create", row]));
    });
    const loadMs = msSince(t);
    const fillerCount = batches.reduce((a, b) => a + b.length, 0);
    const total = realCount + fillerCount;
    console.log(
      `  ${fillerCount.toLocaleString("en-US")} filler rows on ${filler.size} devices loaded in ${batches.length} transactions in ` +
        `${fmt(loadMs / 1000, 1)} s (${fmt(fillerCount / (loadMs / 1000), 0)} rows/s); Installs now holds ${total.toLocaleString("en-US")} rows`,
    );

    // 3. Interleaved measurements.
    const random = rng(SEED);
    const realList = [...real.entries()];
    const allKeys: [string, string][] = [];
    for (const rows of [...real.values(), ...filler.values()])
      for (const r of rows) allKeys.push([r.partitionKey, r.rowKey]);

    // Times the Installs query inside each proof, to split a proof into its two round trips.
    const query = deps.index.queryInstalls.bind(deps.index);
    let lastQueryMs = 0;
    deps.index.queryInstalls = async (...args) => {
      const start = nowNs();
      try {
        return await query(...args);
      } finally {
        lastQueryMs = msSince(start);
      }
    };

    const now = new Date();
    let notOk = 0;
    let records = 0;
    const queryPartMs: number[] = [];
    const evidencePartMs: number[] = [];
    const proof = async (): Promise<number> => {
      const [device, rows] = pick(realList, random);
      const row = pick(rows, random);
      const start = nowNs();
      const response = await proveInstalls(deps, TENANT, device, { kb: row.kb, on: row.finishedAt.slice(0, 10) }, now);
      const ms = msSince(start);
      queryPartMs.push(lastQueryMs);
      evidencePartMs.push(ms - lastQueryMs);
      records += response.count;
      if (response.count === 0 || !response.records.every((r) => r.verification.ok)) notOk += 1;
      return ms;
    };
    const rangeOnly = async (): Promise<number> => {
      const [device, rows] = pick(realList, random);
      const row = pick(rows, random);
      const start = nowNs();
      await query(TENANT, device, { updateKey: row.kb });
      return msSince(start);
    };
    const getEntity = async (): Promise<number> => {
      const [pk, rk] = pick(allKeys, random);
      const start = nowNs();
      await clients.tables.installs.getEntity(pk, rk);
      return msSince(start);
    };

    for (let i = 0; i < WARMUP; i++) {
      await proof();
      await rangeOnly();
      await getEntity();
    }
    notOk = 0;
    records = 0;
    queryPartMs.length = 0;
    evidencePartMs.length = 0;
    const proofMs: number[] = [];
    const rangeMs: number[] = [];
    const getMs: number[] = [];
    t = nowNs();
    for (let i = 0; i < SAMPLES; i++) {
      // Rotate the order so no kind always runs right after another (connection reuse, Azurite's GC).
      const order = [
        async () => proofMs.push(await proof()),
        async () => rangeMs.push(await rangeOnly()),
        async () => getMs.push(await getEntity()),
      ];
      for (let k = 0; k < order.length; k++) await order[(i + k) % order.length]?.();
    }
    const measureMs = msSince(t);

    console.log(
      `\n  ${SAMPLES} of each, interleaved, sequential (one request in flight from the bench), after ${WARMUP} warm-ups of each:`,
    );
    const row = (name: string, values: readonly number[]): string[] => [
      name,
      String(values.length),
      fmt(percentile(values, 50)),
      fmt(percentile(values, 95)),
      fmt(percentile(values, 99)),
      fmt(Math.max(...values)),
    ];
    printTable(
      ["operation", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"],
      [
        row("getEntity (Installs, one row)", getMs),
        row("Installs range query alone", rangeMs),
        row("proof query (proveInstalls)", proofMs),
        row("  of which the Installs query", queryPartMs),
        row("  of which evidence reads + checks", evidencePartMs),
      ],
    );
    const ratio = percentile(proofMs, 99) / percentile(getMs, 99);
    const p50Ratio = percentile(proofMs, 50) / percentile(getMs, 50);
    console.log(
      `\n  proof p99 / getEntity p99: ${fmt(ratio)}  (target <= ${TARGET_RATIO})  ${ratio <= TARGET_RATIO ? "PASS" : "MISS"}`,
    );
    console.log(`  proof p50 / getEntity p50: ${fmt(p50Ratio)}`);
    console.log(`  proof p99 / range query p99: ${fmt(percentile(proofMs, 99) / percentile(rangeMs, 99))}`);
    console.log(
      `  records proven: ${records} in ${SAMPLES} queries; queries with no record or a failed check: ${notOk}`,
    );
    console.log(
      `  per proof: 1 Installs query, then in parallel 3 Artifacts point reads + 4 blob reads (2 round trips)`,
    );
    console.log(`  measurement wall time ${fmt(measureMs / 1000, 1)} s`);
  } finally {
    await azurite.stop();
  }
}

/**
 * N concurrent appends to one tenant's audit chain (what N concurrent audited calls with one key cause), from one
 * instance and from three (each group-committing its own calls): wall time, transactions sent, and how many lost
 * the head to another instance. Every run ends with the chain verified.
 */
async function benchAuditAppends(table: TableClient): Promise<void> {
  console.log(`\n  audit log: ${APPEND_BURST} concurrent appends to one tenant's chain`);
  const rows: string[][] = [];
  for (const instances of [1, 3]) {
    let transactions = 0;
    let conflicts = 0;
    const counting = new Proxy(table, {
      get(target, name, receiver) {
        if (name !== "submitTransaction") return Reflect.get(target, name, receiver) as unknown;
        return async (...args: Parameters<TableClient["submitTransaction"]>) => {
          transactions += 1;
          try {
            return await target.submitTransaction(...args);
          } catch (error) {
            conflicts += 1;
            throw error;
          }
        };
      },
    });
    const logs = Array.from({ length: instances }, () => new AuditLog(counting));
    const tenant = `bench-audit-${instances}`;
    const start = nowNs();
    const outcomes = await Promise.allSettled(
      Array.from({ length: APPEND_BURST }, (_, i) =>
        (logs[i % instances] as AuditLog).append(tenant, {
          at: new Date(Date.UTC(2026, 0, 20, 9, 0, 0, i)).toISOString(),
          actor: { kind: "apiKey", id: "bench", name: "bench" },
          action: "artifacts.read",
          resource: `/api/v1/tenants/${tenant}/runs/r/artifacts/01-init/run.json`,
          outcome: 200,
          requestId: `bench-${i}`,
        }),
      ),
    );
    const ms = msSince(start);
    const failed = outcomes.filter((o) => o.status === "rejected").length;
    const verified = verifyAuditChain(tenant, await new AuditLog(table).read(tenant));
    rows.push([
      String(instances),
      fmt(ms, 0),
      String(transactions),
      String(conflicts),
      String(failed),
      `${verified.count} ${verified.ok ? "verified" : "BROKEN"}`,
    ]);
  }
  printTable(["instances", "wall ms", "transactions", "lost the head", "failed", "chain"], rows);
}

// Targets are reported, never enforced: a MISS still exits 0. Only a crash (the benchmark could not run) exits 1.
main().catch((error: unknown) => {
  console.error("benchmark failed:", error);
  process.exitCode = 1;
});
