// Benchmark: a maintenance window of BENCH_DEVICES devices (default 2,000) in ONE subscription against the fleet
// emulator's ARM token buckets at Azure's published rates (reads 250 + 25/s, writes 200 + 10/s, deletes 200 + 10/s;
// local/fleet/tokenBucket.ts cites the page), refilled on the virtual clock, so the window's simulated length shows
// ARM's ceiling. Every device starts at once (maxConcurrency 100%, one ring): ARM, not the rollout, is the limit.
// Prints the simulated time against the floor, and the runs throttling changed or failed. Asserts nothing.
//
//   npm run bench:arm                          # 2,000 devices; BENCH_DEVICES=300 for a quick look
//   BENCH_BASELINE=off npm run bench:arm       # skip the unthrottled pass (the floor is then ARM's alone)
//   BENCH_PACING=off npm run bench:arm         # the app without its client-side pacer (ARM's 429s only)
import diagnosticsChannel from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import os from "node:os";
import { generateScenario } from "../local/fleet/scenario/generateScenario";
import { withOneRing } from "../local/fleet/scenario/oneRing";
import { parseScenario } from "../local/fleet/scenario/parseScenario";
import type { ScenarioInput } from "../local/fleet/scenario/scenarioSchema";
import { armLimitsAt } from "../lib/azure/armPacer";
import { armOperationKind, ARM_SUBSCRIPTION_LIMITS, type ArmOperationKind } from "../local/fleet/tokenBucket";
import { startLocalStack } from "../local/run/localStack";
import { runWindows, type WindowsSummary } from "../local/run/runWindows";
import { intSetting } from "./settings";

const DEVICES = intSetting("BENCH_DEVICES", 2000);
const SEED = intSetting("BENCH_SEED", 1);
const BASELINE = process.env.BENCH_BASELINE !== "off";
const PACING = process.env.BENCH_PACING === "off" ? "off" : "on";
/**
 * Percent of the published rates for both the emulator's buckets and the app's pacer (default 100: the real rates).
 * 10 puts 200 devices under the ARM pressure 2,000 devices meet at the real rates (the same requests per device against
 * a tenth of the budget): the ratio to the floor carries over, the wall time is a tenth.
 */
const RATE_PERCENT = intSetting("BENCH_ARM_RATE_PERCENT", 100);
const T0 = new Date("2026-01-20T01:00:00.000Z");
const UNLIMITED = { capacity: 1_000_000_000, refillPerSecond: 1_000_000_000 };

/** One subscription (the generator's default), every device at once, all run to the end. */
function allAtOnce(input: ScenarioInput): ScenarioInput {
  const one = withOneRing(input);
  return { ...one, windows: (one.windows ?? []).map((w) => ({ ...w, maxConcurrency: "100%" })) };
}

interface Pass {
  summary: WindowsSummary;
  simulatedSeconds: number;
  wallSeconds: number;
  requests: Record<ArmOperationKind, number>;
  throttled: Record<ArmOperationKind, number>;
  pacer: unknown;
  subscriptions: number;
}

async function runPass(throttled: boolean): Promise<Pass> {
  const input = allAtOnce(generateScenario({ devices: DEVICES, seed: SEED }));
  const scenario = parseScenario(input);
  const stack = await startLocalStack({
    scenario,
    clock: "virtual",
    startTime: T0,
    arm: throttled
      ? { throttling: armLimitsAt(RATE_PERCENT), throttlingClock: "fleet", latencyMs: 0, transientErrorRate: 0 }
      : {
          throttling: { reads: UNLIMITED, writes: UNLIMITED, deletes: UNLIMITED },
          latencyMs: 0,
          transientErrorRate: 0,
        },
    // In-pipeline retries sleep in real time, which the virtual clock (and so the buckets) never sees: every wait is
    // the device run's own, in durable time.
    settings: {
      PATCHPILOT_ARM_MAX_RETRIES: "0",
      PATCHPILOT_ARM_PACING: throttled ? PACING : "off",
      PATCHPILOT_ARM_PACING_PERCENT: String(RATE_PERCENT),
    },
  });
  const port = Number(new URL(stack.emulator.endpoint).port);
  const requests: Record<ArmOperationKind, number> = { reads: 0, writes: 0, deletes: 0 };
  const onRequest = (message: unknown): void => {
    const request = (message as { request?: IncomingMessage }).request;
    if (request === undefined || request.socket.localPort !== port) return;
    if (!/^\/subscriptions\//i.test(request.url ?? "")) return;
    requests[armOperationKind(request.method ?? "GET")] += 1;
  };
  diagnosticsChannel.subscribe("http.server.request.start", onRequest);
  try {
    const started = Date.now();
    const summary = await runWindows(stack, undefined, { verify: true });
    return {
      summary,
      simulatedSeconds: (stack.host.now().getTime() - T0.getTime()) / 1000,
      wallSeconds: (Date.now() - started) / 1000,
      requests,
      throttled: { ...stack.emulator.throttled },
      pacer: stack.deps.armPacer?.stats,
      subscriptions: scenario.subscriptions.length,
    };
  } finally {
    diagnosticsChannel.unsubscribe("http.server.request.start", onRequest);
    await stack.stop();
  }
}

const outcome = (d: WindowsSummary["devices"][number]): string =>
  `${d.status} ${String(d.exitCode)}${d.reason === undefined ? "" : ` ${d.reason}`}`;

async function main(): Promise<void> {
  console.log(
    `bench:arm — ${DEVICES} devices in one subscription, all at once (seed ${SEED}, pacing ${PACING}, ARM at ${RATE_PERCENT}% of its published rates), Node ${process.version}, ${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}`,
  );
  const calm = BASELINE ? await runPass(false) : undefined;
  if (calm !== undefined)
    console.log(
      `unthrottled: ${calm.simulatedSeconds.toFixed(0)} s simulated (${calm.wallSeconds.toFixed(0)} s wall); ARM requests reads ${calm.requests.reads}, writes ${calm.requests.writes}, deletes ${calm.requests.deletes}`,
    );
  const run = await runPass(true);
  const { reads, writes, deletes } = run.requests;
  const L = armLimitsAt(RATE_PERCENT);
  if (RATE_PERCENT !== 100) {
    const p = ARM_SUBSCRIPTION_LIMITS;
    console.log(
      `buckets at ${RATE_PERCENT}% of the published rates (reads ${p.reads.capacity} + ${p.reads.refillPerSecond}/s, writes ${p.writes.capacity} + ${p.writes.refillPerSecond}/s): ${DEVICES} devices here meet the pressure ${Math.round((DEVICES * 100) / RATE_PERCENT)} devices meet at the real rates`,
    );
  }
  // The fastest ARM allows: every bucket's burst spent at once, then its refill rate; the slowest bucket decides.
  const floors = {
    reads: Math.max(0, reads - L.reads.capacity) / L.reads.refillPerSecond,
    writes: Math.max(0, writes - L.writes.capacity) / L.writes.refillPerSecond,
    deletes: Math.max(0, deletes - L.deletes.capacity) / L.deletes.refillPerSecond,
  };
  const armFloor = Math.max(floors.reads, floors.writes, floors.deletes);
  const floor = Math.max(armFloor, calm?.simulatedSeconds ?? 0);
  const devices = run.summary.devices;
  const notCompleted = devices.filter((d) => d.status !== "completed");
  const calmOutcomes = new Map((calm?.summary.devices ?? []).map((d) => [d.device, outcome(d)]));
  const changed = calm === undefined ? [] : devices.filter((d) => calmOutcomes.get(d.device) !== outcome(d));
  const unverified = devices.filter((d) => d.status === "completed" && d.verified !== true);

  console.log(
    `throttled run: ${run.simulatedSeconds.toFixed(0)} s simulated (${(run.simulatedSeconds / 60).toFixed(1)} min) in ${run.wallSeconds.toFixed(0)} s wall; ${devices.length} device runs, ${run.subscriptions} subscription(s)`,
  );
  console.log(
    `ARM requests: reads ${reads} (${(reads / devices.length).toFixed(1)}/run), writes ${writes} (${(writes / devices.length).toFixed(1)}/run), deletes ${deletes} (${(deletes / devices.length).toFixed(1)}/run)`,
  );
  console.log(
    `ARM floor: max(reads (${reads} - ${L.reads.capacity}) / ${L.reads.refillPerSecond}/s = ${floors.reads.toFixed(0)} s, writes (${writes} - ${L.writes.capacity}) / ${L.writes.refillPerSecond}/s = ${floors.writes.toFixed(0)} s, deletes ${floors.deletes.toFixed(0)} s) = ${armFloor.toFixed(0)} s`,
  );
  if (calm !== undefined)
    console.log(
      `floor: max(ARM floor, the same window unthrottled ${calm.simulatedSeconds.toFixed(0)} s) = ${floor.toFixed(0)} s`,
    );
  console.log(`ratio simulated / floor: ${(run.simulatedSeconds / Math.max(1, floor)).toFixed(2)} (goal <= 1.2)`);
  console.log(
    `429s answered by the emulator: reads ${run.throttled.reads}, writes ${run.throttled.writes}, deletes ${run.throttled.deletes}; pacer: ${JSON.stringify(run.pacer ?? "off")}`,
  );
  console.log(
    `runs failed (not completed): ${notCompleted.length}; outcomes changed by throttling: ${calm === undefined ? "n/a (no baseline)" : changed.length}; unverified: ${unverified.length}`,
  );
  for (const d of [...notCompleted, ...changed].slice(0, 10))
    console.log(`  ${d.device}: ${outcome(d)} (unthrottled: ${calmOutcomes.get(d.device) ?? "n/a"})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
