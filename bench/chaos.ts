// Chaos benchmark: a maintenance window of BENCH_DEVICES devices (default 500) while the local Functions/Durable host
// process is killed with SIGKILL at random moments (BENCH_KILLS times, default 10; seeded by BENCH_SEED) and
// restarted each time, with ARM 429s (small real-time token buckets) and agent disconnects (one device in ten drops
// off during its install) switched on. Azurite and the simulated devices live in this process, so they survive each
// kill as real storage and real servers would; the host and the app run in a child
// (test/fixtures/window/windowHostChild.ts, the crash test's child). Afterwards it counts runs lost, updates installed
// twice, evidence conflicts and runs that do not verify, and prints the kill times. Asserts nothing.
//
//   npm run bench:chaos                      # 500 devices, 10 kills
//   BENCH_DEVICES=100 BENCH_KILLS=10 BENCH_SEED=7 npm run bench:chaos
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createAppDeps } from "../functions/definitions";
import { ensureStorage } from "../lib/azure/storageClients";
import { parseConfig } from "../lib/config/config";
import { verifyRun } from "../lib/evidence/verifyRun";
import { WindowReportSchema, type DeviceOutcome } from "../lib/schemas/window";
import { startAzurite } from "../local/azurite";
import { TaskHubStore } from "../local/durable/taskHubStore";
import { EventType } from "../local/durable/historyEvent";
import { startFleetEmulator } from "../local/fleet/armServer";
import type { FleetClock } from "../local/fleet/contract";
import { LocalFleetCredential } from "../local/fleet/localCredential";
import { buildFleet } from "../local/fleet/scenario/buildFleet";
import { generateScenario } from "../local/fleet/scenario/generateScenario";
import { withOneRing } from "../local/fleet/scenario/oneRing";
import { parseScenario } from "../local/fleet/scenario/parseScenario";
import type { ScenarioInput } from "../local/fleet/scenario/scenarioSchema";
import { seededRandom } from "../local/fleet/scenario/seededRandom";
import { seedPolicyStore } from "../local/fleet/scenario/seedPolicies";
import { seedLocks } from "../local/run/seedLocks";
import { ORCHESTRATORS } from "../orchestrators/activityNames";
import { intSetting } from "./settings";

const DEVICES = intSetting("BENCH_DEVICES", 500);
const KILLS = intSetting("BENCH_KILLS", 10);
const SEED = intSetting("BENCH_SEED", 1);
/**
 * The kills fall at seeded random moments of the window's simulated time, spread over its first BENCH_KILL_SPAN_MINUTES
 * (default 90: a generated 500-device window's device runs end after about 110 simulated minutes, so every kill falls
 * while runs are in flight; with 150, three of ten were drawn after the window had ended); each also waits until
 * the restarted host has resumed work (its first ARM request) and then a seeded 1-5 s more, so no host dies loading.
 */
const KILL_SPAN_MINUTES = intSetting("BENCH_KILL_SPAN_MINUTES", 90);
const T0 = new Date("2026-01-20T01:00:00.000Z");
const ROOT = path.resolve(__dirname, "../..");
const CHILD = path.join(ROOT, "test/fixtures/window/windowHostChild.ts");
const HOOK = path.join(ROOT, "test/fixtures/durable/transpileHook.js");
/** The child stamps each ARM request with its host's virtual time (test/fixtures/window/fleetTimePolicy.ts). */
const FLEET_TIME_HEADER = "x-patchpilot-fleet-time";

/** The generated fleet, one ring, with one device in ten losing its agent for a while during its install. */
function chaosScenario(): ScenarioInput {
  const input = withOneRing(generateScenario({ devices: DEVICES, seed: SEED }));
  const random = seededRandom(SEED + 1);
  return {
    ...input,
    devices: input.devices.map((d, i) =>
      i % 10 === 5 && (d.agent === undefined || Object.keys(d.agent).length === 0)
        ? {
            ...d,
            agent: { disconnectDuring: [{ script: "install", afterSeconds: 30, forMinutes: random.int(2, 15) }] },
          }
        : d,
    ),
  };
}

/** The latest virtual time any request stamped: the devices' clock. */
class StampedClock implements FleetClock {
  private latest = T0.getTime();
  now(): Date {
    return new Date(this.latest);
  }
  observe(time: Date): void {
    if (!Number.isNaN(time.getTime())) this.latest = Math.max(this.latest, time.getTime());
  }
}

interface Child {
  kill(): void;
  line(prefix: string): Promise<string>;
  exited: Promise<number | null>;
}

function spawnHost(args: Record<string, unknown>): Child {
  const child = spawn(process.execPath, ["-r", HOOK, CHILD, JSON.stringify(args)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lines: string[] = [];
  const waiting: (() => void)[] = [];
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiting) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    kill: () => child.kill("SIGKILL"),
    exited,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find((l) => l.startsWith(prefix));
          if (found !== undefined) resolve(found.slice(prefix.length));
        };
        waiting.push(check);
        check();
        void exited.then((code) => reject(new Error(`host child exited (${String(code)}): ${stderr}`)));
      }),
  };
}

async function main(): Promise<void> {
  console.log(
    `bench:chaos — ${DEVICES} devices, ${KILLS} SIGKILLs of the host (seed ${SEED}), Node ${process.version}, ${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}`,
  );
  const random = seededRandom(SEED);
  const azurite = await startAzurite({ inMemory: true });
  const scenario = parseScenario(chaosScenario());
  const clock = new StampedClock();
  const fleet = buildFleet(scenario, clock);
  // Real-time buckets far below the fleet's bursts: 429s with Retry-After all through the window.
  const emulator = await startFleetEmulator({
    fleet,
    clock,
    arm: {
      throttling: {
        writes: { capacity: 10, refillPerSecond: 5 },
        reads: { capacity: 30, refillPerSecond: 20 },
        deletes: { capacity: 10, refillPerSecond: 5 },
      },
      latencyMs: 0,
      transientErrorRate: 0,
    },
  });
  const port = new URL(emulator.endpoint).port;
  const diagnostics = await import("node:diagnostics_channel");
  // Each host lives from its first ARM request (it has loaded and resumed its work) for a random span.
  let onArmRequest: (() => void) | undefined;
  const stamp = (message: unknown): void => {
    const request = (message as { request?: import("node:http").IncomingMessage }).request;
    if (request === undefined || String(request.socket.localPort) !== port) return;
    const value = request.headers[FLEET_TIME_HEADER];
    if (typeof value === "string") clock.observe(new Date(value));
    onArmRequest?.();
    onArmRequest = undefined;
  };
  const nextArmRequest = (): Promise<void> => new Promise((resolve) => (onArmRequest = resolve));
  diagnostics.subscribe("http.server.request.start", stamp);
  const tmp = mkdtempSync(path.join(os.tmpdir(), "pp-chaos-"));
  const caFile = path.join(tmp, "fleet-ca.pem");
  writeFileSync(caFile, emulator.ca);
  const subscriptionIds = scenario.subscriptions.map((s) => s.id);
  try {
    const deps = createAppDeps(
      parseConfig({
        AzureWebJobsStorage: azurite.connectionString,
        PATCHPILOT_EVIDENCE_CONNECTION_STRING: azurite.connectionString,
        PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
        PATCHPILOT_ARM_ENDPOINT: emulator.endpoint,
        PATCHPILOT_ARM_CA_FILE: caFile,
        PATCHPILOT_SUBSCRIPTION_IDS: subscriptionIds.join(","),
      }),
      { armCredential: new LocalFleetCredential() },
    );
    await ensureStorage(deps.storage);
    await seedPolicyStore(deps.policies, scenario);
    await seedLocks(deps.locks, scenario, T0);
    const base = {
      connectionString: azurite.connectionString,
      taskHub: "Chaos",
      armEndpoint: emulator.endpoint,
      armCaFile: caFile,
      subscriptionIds,
      // The pacer would learn the small buckets from ARM's remaining-count headers and hold the bursts back: off, so
      // ARM's own 429s reach the device runs.
      settings: { PATCHPILOT_ARM_PACING: "off" },
    };
    const store = new TaskHubStore({ connectionString: azurite.connectionString, taskHub: base.taskHub });
    const latestRecorded = async (): Promise<Date> => {
      let latest = 0;
      for (const record of await store.loadInstances()) {
        latest = Math.max(latest, Date.parse(record.lastUpdatedTime));
        for (const event of await store.loadHistory(record.instanceId, record.generation))
          latest = Math.max(latest, Date.parse(event.Timestamp));
      }
      return new Date(latest);
    };

    const started = Date.now();
    const kills: { n: number; wallSeconds: number; virtual: string }[] = [];
    const killAt = Array.from({ length: KILLS }, () => T0.getTime() + random.next() * KILL_SPAN_MINUTES * 60_000).sort(
      (a, b) => a - b,
    );
    let polling: NodeJS.Timeout | undefined;
    const clockPasses = (time: number): Promise<"kill"> =>
      new Promise((resolve) => {
        polling = setInterval(() => {
          if (clock.now().getTime() < time) return;
          clearInterval(polling);
          resolve("kill");
        }, 100);
      });
    let working = nextArmRequest();
    let child = spawnHost({ ...base, mode: "start", startTime: T0.toISOString() });
    const windowInstanceIds = JSON.parse(await child.line("started ")) as string[];
    let finished: string | undefined;
    for (let n = 1; n <= KILLS; n += 1) {
      const life = 1 + random.next() * 4;
      const done = child.line("done ");
      const outcome = await Promise.race([
        working
          .then(() => new Promise((resolve) => setTimeout(resolve, life * 1000)))
          .then(() => clockPasses(killAt[n - 1] ?? 0)),
        done,
      ]);
      clearInterval(polling);
      if (outcome !== "kill") {
        finished = outcome;
        break;
      }
      child.kill();
      await child.exited;
      kills.push({
        n,
        wallSeconds: Math.round((Date.now() - started) / 100) / 10,
        virtual: clock.now().toISOString(),
      });
      console.log(
        `kill ${n}: at ${kills.at(-1)?.wallSeconds ?? 0} s wall, simulated ${((clock.now().getTime() - T0.getTime()) / 60_000).toFixed(1)} min into the window (drawn: ${(((killAt[n - 1] ?? T0.getTime()) - T0.getTime()) / 60_000).toFixed(1)} min)`,
      );
      clock.observe(await latestRecorded());
      working = nextArmRequest();
      child = spawnHost({ ...base, mode: "resume", startTime: clock.now().toISOString(), windowInstanceIds });
    }
    finished ??= await child.line("done ");
    await child.exited;
    const wallSeconds = (Date.now() - started) / 1000;
    const windows = JSON.parse(finished) as {
      instanceId: string;
      runtimeStatus: string;
      output?: { reportPath?: string };
    }[];

    const records = await store.loadInstances();
    const runs = records.filter((r) => r.name === ORCHESTRATORS.devicePatchRun);
    let conflicts = 0;
    for (const record of records)
      for (const event of await store.loadHistory(record.instanceId, record.generation))
        if (
          event.EventType === EventType.TaskFailed &&
          [event.FailureDetails?.ErrorType, event.Reason, event.Details].join(" ").includes("EvidenceConflictError")
        )
          conflicts += 1;
    const outcomes: DeviceOutcome[] = [];
    for (const w of windows) {
      const reportPath = w.output?.reportPath;
      if (reportPath === undefined) continue;
      const bytes = await deps.evidence.store.readBlob(reportPath);
      if (bytes === undefined) continue;
      const report = WindowReportSchema.parse(JSON.parse(bytes.toString("utf8")));
      outcomes.push(...report.rings.flatMap((r) => r.rollouts.flatMap((ro) => ro.outcomes)));
    }
    let verified = 0;
    for (const o of outcomes)
      if (o.result !== undefined && (await verifyRun(deps.evidence, o.result.run)).ok) verified += 1;
    const completed = outcomes.filter((o) => o.status === "completed");
    const repeated = fleet.devices.filter((d) => {
      const keys = d.state.installRecords.map((r) => r.update.key);
      return new Set(keys).size !== keys.length;
    });
    const targeted = new Set(scenario.devices.map((d) => d.name));

    console.log(`kills: ${kills.length} (wall seconds ${kills.map((k) => k.wallSeconds).join(", ")})`);
    console.log(
      `windows: ${windows.length} (${windows.filter((w) => w.runtimeStatus === "Completed").length} completed) in ${wallSeconds.toFixed(0)} s wall, devices' clock at ${clock.now().toISOString()}`,
    );
    console.log(
      `ARM 429s answered: reads ${emulator.throttled.reads}, writes ${emulator.throttled.writes}, deletes ${emulator.throttled.deletes}`,
    );
    console.log(
      `device runs: ${runs.length} orchestrations (${runs.filter((r) => r.status !== "Completed").length} not completed); window reports list ${outcomes.length} of ${targeted.size} devices, ${completed.length} completed`,
    );
    console.log(`runs lost (targeted devices without a completed outcome): ${targeted.size - completed.length}`);
    console.log(`updates installed twice: ${repeated.length} devices`);
    console.log(`evidence conflicts (EvidenceConflictError in any history): ${conflicts}`);
    console.log(`verified: ${verified} of ${outcomes.filter((o) => o.result !== undefined).length} runs with a result`);
  } finally {
    diagnostics.unsubscribe("http.server.request.start", stamp);
    await emulator.close();
    await azurite.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
