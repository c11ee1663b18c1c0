// Benchmark: a maintenance window over a generated fleet on the local stack (Azurite, fleet emulator with latency
// off, local Durable host on the virtual clock). Prints figures; asserts nothing. See bench/README.md.
//
//   npm run bench:window                     # 1,000 devices, after a 100-device baseline in the same process
//   BENCH_DEVICES=5000 npm run bench:window
//   BENCH_BASELINE=0 ...                     # no baseline (otherwise its size; skipped when BENCH_DEVICES <= it)
//   BENCH_PACING=on ...                      # the app's ARM pacer on (default off, like the emulator's buckets)
import diagnosticsChannel from "node:diagnostics_channel";
import type { ClientRequest, IncomingMessage } from "node:http";
import { readFileSync } from "node:fs";
import os from "node:os";
import v8 from "node:v8";
import { verifyRun } from "../lib/evidence/verifyRun";
import { generateScenario } from "../local/fleet/scenario/generateScenario";
import { withOneRing } from "../local/fleet/scenario/oneRing";
import { parseScenario } from "../local/fleet/scenario/parseScenario";
import type { ScenarioInput } from "../local/fleet/scenario/scenarioSchema";
import { startLocalStack, type LocalStack } from "../local/run/localStack";
import { runWindows } from "../local/run/runWindows";
import { countEvidenceRequests, EvidenceRequestTally } from "../local/run/storageRequests";
import { ORCHESTRATORS } from "../orchestrators/activityNames";
import { addHistory, breakdownLines, emptyBreakdown } from "./historyBreakdown";
import { intSetting } from "./settings";

const DEVICES = intSetting("BENCH_DEVICES", 1000);
const SEED = intSetting("BENCH_SEED", 1);
const PROGRESS_SECONDS = intSetting("BENCH_PROGRESS_SECONDS", 60);
const BASELINE = process.env.BENCH_BASELINE === "0" ? 0 : intSetting("BENCH_BASELINE", 100);
/**
 * The app's client-side ARM pacer (lib/azure/armPacer.ts), off by default: this bench measures the local stack with
 * ARM's limits switched off in the emulator (forThroughput) and prints their ceiling apart; bench:arm simulates them.
 * On, the pacer still holds the generated fleet (every device in the scenario's one subscription) to ARM's published
 * write bucket (200, then 10/s) in virtual time, and each held request costs its run another advance call: at 1,000
 * devices a quarter of the runs took extra pre, install, reboot and boot-probe advances (issue 22, bench/README.md).
 */
const PACING = process.env.BENCH_PACING === "on" ? "on" : "off";

/** Outgoing HTTP requests by storage role (each its own Azurite process) and by ARM kind. */
interface Counts {
  /** Evidence blobs and the index tables (Artifacts, Installs, Runs): the issue's "evidence + index" figure. */
  evidence: number;
  /** The evidence account's other requests: locks, policies, table $batch (index transactions), checkpoints. */
  evidenceOther: number;
  /** Run Command output staging: the agents' writes (the emulator, in this process) and collect's reads/deletes. */
  staging: number;
  /** The Durable task hub's account (the local host's history, instances, inbox). */
  taskHub: number;
  runCommandCalls: number;
  armWrites: number;
  otherArm: number;
  other: number;
}

const EVIDENCE = /^\/devstoreaccount1\/(evidence|Artifacts|Installs|Runs)/i;

function portOf(url: string): string {
  return new URL(url).port;
}

function countRequests(stack: LocalStack, counts: Counts): () => void {
  const armPort = portOf(stack.emulator.endpoint);
  const role = new Map<string, "taskHub" | "evidence" | "staging">();
  for (const name of ["taskHub", "evidence", "staging"] as const) {
    role.set(portOf(stack.storage[name].blobEndpoint), name);
    role.set(portOf(stack.storage[name].tableEndpoint), name);
  }
  const onStart = (message: unknown): void => {
    const request = (message as { request?: ClientRequest }).request;
    if (request === undefined) return;
    const host = String(request.getHeader("host") ?? "");
    const port = host.slice(host.lastIndexOf(":") + 1);
    const account = role.get(port);
    if (port === armPort) {
      if (request.method !== "GET") counts.armWrites += 1;
      if (/\/runCommands/i.test(request.path)) counts.runCommandCalls += 1;
      else counts.otherArm += 1;
    } else if (account === "taskHub") counts.taskHub += 1;
    else if (account === "staging") counts.staging += 1;
    else if (account === "evidence") {
      if (EVIDENCE.test(request.path)) counts.evidence += 1;
      else counts.evidenceOther += 1;
    } else counts.other += 1;
  };
  diagnosticsChannel.subscribe("http.client.request.start", onStart);
  return () => diagnosticsChannel.unsubscribe("http.client.request.start", onStart);
}

/** ARM requests as the fleet emulator received them (server side): every ARM call, inventory and polls included. */
interface ArmReceived {
  requests: number;
  writes: number;
}

function countArmAtEmulator(armPort: string, received: ArmReceived): () => void {
  const onRequest = (message: unknown): void => {
    const request = (message as { request?: IncomingMessage }).request;
    if (request === undefined || String(request.socket.localPort) !== armPort) return;
    received.requests += 1;
    if (request.method !== "GET") received.writes += 1;
  };
  diagnosticsChannel.subscribe("http.server.request.start", onRequest);
  return () => diagnosticsChannel.unsubscribe("http.server.request.start", onRequest);
}

/** The generated fleet, all of it run (withOneRing) and ARM throttling off: its real ceiling is computed below. */
function forThroughput(input: ScenarioInput): ScenarioInput {
  const unlimited = { capacity: 1_000_000, refillPerSecond: 1_000_000 };
  return {
    ...withOneRing(input),
    arm: { ...input.arm, latencyMs: 0, transientErrorRate: 0, throttling: { writes: unlimited, reads: unlimited } },
  };
}

/** Resident set size of another process (an Azurite), from /proc; 0 where there is none. */
function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** The stack in use, stopped (its Azurite processes with it) when the bench is interrupted. */
let current: LocalStack | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the local stack`);
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });

/** One window bench on a fresh stack: prints its figures, returns devices per minute. */
async function benchWindow(devices: number): Promise<number> {
  const scenario = parseScenario(forThroughput(generateScenario({ devices, seed: SEED })));
  const stack = await startLocalStack({ scenario, clock: "virtual", settings: { PATCHPILOT_ARM_PACING: PACING } });
  current = stack;
  const azurites = {
    taskHub: stack.storage.taskHub.pid,
    evidence: stack.storage.evidence.pid,
    staging: stack.storage.staging.pid,
  };
  let peakRss = process.memoryUsage().rss;
  const peakAzurite = { taskHub: 0, evidence: 0, staging: 0 };
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    for (const role of ["taskHub", "evidence", "staging"] as const)
      peakAzurite[role] = Math.max(peakAzurite[role], rssOf(azurites[role]));
  };
  const sampler = setInterval(sample, 500);
  const counts: Counts = {
    evidence: 0,
    evidenceOther: 0,
    staging: 0,
    taskHub: 0,
    runCommandCalls: 0,
    armWrites: 0,
    otherArm: 0,
    other: 0,
  };
  const stopCounting = countRequests(stack, counts);
  // The evidence + index requests by kind and by the activity that made them (issue 22's breakdown).
  // Counts only (no list of every request): the bench's bookkeeping must not grow with the fleet it measures.
  const tally = new EvidenceRequestTally(false);
  const stopTally = countEvidenceRequests(
    { blob: portOf(stack.storage.evidence.blobEndpoint), table: portOf(stack.storage.evidence.tableEndpoint) },
    tally.add,
  );
  const received: ArmReceived = { requests: 0, writes: 0 };
  const stopReceiving = countArmAtEmulator(portOf(stack.emulator.endpoint), received);
  try {
    console.log(`\n== ${devices} devices ==`);
    const started = Date.now();
    // A progress line every BENCH_PROGRESS_SECONDS, so a run stopped before its end still says how far it got.
    const progress = setInterval(() => {
      void stack.host.client.getStatusAll().then((all) => {
        const done = all.filter(
          (s) => s.name === ORCHESTRATORS.devicePatchRun && String(s.runtimeStatus) === "Completed",
        ).length;
        const minutes = (Date.now() - started) / 60_000;
        console.log(
          `  [${(minutes * 60).toFixed(0)} s] device runs completed: ${done}/${devices} (${(done / minutes).toFixed(0)}/min so far; this process ${mib(process.memoryUsage().rss)}, heap ${mib(process.memoryUsage().heapUsed)})`,
        );
      });
    }, PROGRESS_SECONDS * 1000);
    // Verification (every run re-read by `patchpilot verify`) is an auditor's cost, not the run's: counted apart.
    const summary = await runWindows(stack, undefined, { verify: false }).finally(() => clearInterval(progress));
    const wallMs = Date.now() - started;
    stopCounting();
    stopTally();
    stopReceiving();
    sample();
    let verified = 0;
    const verifyStarted = Date.now();
    const toVerify = summary.devices.filter((d) => d.status === "completed");
    // Four at a time: Azurite answers them in turn, but the hashing and parsing here overlap its work.
    let nextToVerify = 0;
    const verifier = async (): Promise<void> => {
      while (nextToVerify < toVerify.length) {
        const d = toVerify[nextToVerify++];
        if (d === undefined) break;
        const run = { tenant: d.tenant, client: d.client, device: d.device, runId: d.runId };
        if ((await verifyRun(stack.deps.evidence, run)).ok) verified += 1;
      }
    };
    await Promise.all([verifier(), verifier(), verifier(), verifier()]);
    const verifyMs = Date.now() - verifyStarted;
    clearInterval(sampler);

    const runs = (await stack.host.client.getStatusAll()).filter((s) => s.name === ORCHESTRATORS.devicePatchRun);
    let events = 0;
    let maxEvents = 0;
    const breakdown = emptyBreakdown();
    for (const run of runs) {
      const history = await stack.host.getHistory(run.instanceId);
      addHistory(breakdown, history);
      const n = history.length;
      events += n;
      maxEvents = Math.max(maxEvents, n);
    }
    const completed = summary.devices.filter((d) => d.status === "completed");
    const perRun = (n: number): string => (runs.length === 0 ? "n/a" : (n / runs.length).toFixed(1));
    const codes = new Map<string, number>();
    for (const d of completed) codes.set(String(d.exitCode), (codes.get(String(d.exitCode)) ?? 0) + 1);
    const perMinute = (completed.length / wallMs) * 60_000;

    console.log(
      `windows: ${summary.windows.length}, device runs: ${runs.length} (${completed.length} completed, ${summary.devices.length - completed.length} not started or failed)`,
    );
    console.log(`exit codes: ${[...codes.entries()].map(([c, n]) => `${c}: ${n}`).join(", ")}`);
    console.log(
      `verified (after the window, not counted below): ${verified}/${completed.length} in ${(verifyMs / 1000).toFixed(1)} s`,
    );
    console.log(`wall time ${(wallMs / 1000).toFixed(1)} s for ${summary.simulatedMinutes} simulated minutes`);
    console.log(`devices per minute (wall): ${perMinute.toFixed(0)}`);
    console.log(`history events per device run: ${perRun(events)} (most in one run: ${maxEvents}; target <= 40)`);
    for (const line of breakdownLines(breakdown)) console.log(line);
    console.log(
      `storage requests per device run: evidence + index ${perRun(counts.evidence)} (target <= 50); evidence account other ${perRun(counts.evidenceOther)} (locks, policies, index $batch); staging ${perRun(counts.staging)} (agent writes + collect reads and deletes); task hub ${perRun(counts.taskHub)}`,
    );
    console.log(
      `evidence + index requests per device run, counting index $batch transactions: ${perRun(tally.counted)} (target <= 50); by activity and kind:`,
    );
    for (const row of tally.rows(process.env.BENCH_FOLDERS === "1"))
      console.log(`  ${row.who.padEnd(22)} ${row.what.padEnd(48)} ${perRun(row.count).padStart(6)}`);
    console.log(`not counted (the evidence account's locks, policies, transparency log):`);
    for (const row of tally.rows(false, false))
      console.log(`  ${row.who.padEnd(22)} ${row.what.padEnd(48)} ${perRun(row.count).padStart(6)}`);
    console.log(
      `Run Command calls per device: ${perRun(counts.runCommandCalls)} (plus ${perRun(counts.otherArm)} other ARM reads: inventory, agent status)`,
    );
    // Counted where the emulator receives them (issue 18's figures; target <= 12 requests, <= 6 writes).
    console.log(`ARM requests per device run: ${perRun(received.requests)}`);
    console.log(`ARM writes per device run: ${perRun(received.writes)}`);
    const { concurrency } = stack.emulator.engine;
    console.log(
      `run commands refused with 409: ${concurrency.conflicts} (PatchPilot overlaps ${concurrency.overlaps}, foreign ${concurrency.foreignConflicts}); most in flight on one machine: ${concurrency.maxInFlight}`,
    );
    const writesPerRun = runs.length === 0 ? 0 : counts.armWrites / runs.length;
    console.log(
      `app's ARM pacer: ${PACING}${stack.deps.armPacer === undefined ? "" : ` ${JSON.stringify(stack.deps.armPacer.stats)} (booked: requests held back for a slot, each an extra advance call)`}`,
    );
    console.log(
      `ARM ceiling (not simulated here): ~${writesPerRun.toFixed(0)} writes per device at 10 writes/s per subscription = ~${((devices * writesPerRun) / 10 / 60).toFixed(0)} min for ${devices} devices in one subscription`,
    );
    console.log(
      `peak RSS: ${mib(peakRss)} host + emulator + app (this process; target < 1024 MiB); Azurite processes: task hub ${mib(peakAzurite.taskHub)}, evidence ${mib(peakAzurite.evidence)}, staging ${mib(peakAzurite.staging)}`,
    );
    console.log(`host stats: ${JSON.stringify(stack.host.stats)}`);
    return perMinute;
  } finally {
    clearInterval(sampler);
    stopCounting();
    stopTally();
    stopReceiving();
    current = undefined;
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `bench:window — ${DEVICES} devices (seed ${SEED}), Node ${process.version}, ${cpu} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  );
  // npm run bench:window gives V8 a 512 MiB old space, the share of a 1 GiB budget a worker would be started with:
  // uncapped on a 24 GiB machine, V8 lets garbage pile up (measured: RSS 1.4 GiB over a live heap of ~150 MiB).
  console.log(`V8 heap limit: ${mib(v8.getHeapStatistics().heap_size_limit)} (node --max-old-space-size)`);
  const baseline = BASELINE > 0 && DEVICES > BASELINE ? await benchWindow(BASELINE) : undefined;
  const rate = await benchWindow(DEVICES);
  if (baseline !== undefined)
    console.log(
      `\nratio devices/min(${DEVICES}) / devices/min(${BASELINE}), same process: ${rate.toFixed(0)} / ${baseline.toFixed(0)} = ${(rate / baseline).toFixed(2)} (target >= 0.7)`,
    );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
