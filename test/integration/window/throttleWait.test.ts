import { generateScenario } from "../../../local/fleet/scenario/generateScenario";
import { withOneRing } from "../../../local/fleet/scenario/oneRing";
import { parseScenario } from "../../../local/fleet/scenario/parseScenario";
import { TaskHubStore } from "../../../local/durable/taskHubStore";
import { startLocalStack } from "../../../local/run/localStack";
import { runWindows, type WindowsSummary } from "../../../local/run/runWindows";
import { countThrottled, portOf } from "./emulatorTraffic";
import { repeatedInstalls } from "./installRecords";
import { activityFailuresNaming, loadTaskHub, type RecordedInstance } from "./taskHubScan";

const DEVICES = 12;
const T0 = new Date("2026-01-20T01:00:00.000Z");

interface Run {
  summary: WindowsSummary;
  throttled: number;
  instances: RecordedInstance[];
  repeated: Record<string, string[]>;
  pacer: { admitted: number; booked: number } | undefined;
}

/**
 * The window on buckets that refill on the virtual clock (as ARM's do in simulated time), far smaller than the
 * fleet's burst: one write every 5 simulated seconds, reads 2 a second. No in-pipeline retries
 * (PATCHPILOT_ARM_MAX_RETRIES=0): every 429 reaches the device run, which must wait it out in durable time.
 */
async function runThrottled(pacing: "on" | "off"): Promise<Run> {
  const scenario = parseScenario(withOneRing(generateScenario({ devices: DEVICES, seed: 3 })));
  const stack = await startLocalStack({
    scenario,
    clock: "virtual",
    startTime: T0,
    arm: {
      throttling: {
        writes: { capacity: 2, refillPerSecond: 0.2 },
        reads: { capacity: 4, refillPerSecond: 2 },
        deletes: { capacity: 2, refillPerSecond: 0.2 },
      },
      throttlingClock: "fleet",
      latencyMs: 0,
      transientErrorRate: 0,
    },
    settings: { PATCHPILOT_ARM_MAX_RETRIES: "0", PATCHPILOT_ARM_PACING: pacing },
  });
  const tooMany = countThrottled(portOf(stack.emulator.endpoint));
  try {
    const summary = await runWindows(stack);
    const instances = await loadTaskHub(
      new TaskHubStore({ connectionString: stack.storage.taskHub.connectionString, taskHub: "PatchPilot" }),
    );
    return {
      summary,
      throttled: tooMany.count,
      instances,
      repeated: repeatedInstalls(stack.fleet),
      pacer: stack.deps.armPacer?.stats,
    };
  } finally {
    tooMany.close();
    await stack.stop();
  }
}

describe("device runs wait out ARM throttling in durable time", () => {
  let run: Run;
  beforeAll(async () => {
    // Pacing off: the app meets ARM's own 429s (its pacer, at the published rates, would let these bursts through).
    run = await runThrottled("off");
  }, 600_000);

  it("was throttled by ARM", () => {
    expect(run.throttled).toBeGreaterThan(0);
  });

  it("fails no run: every device completes, every orchestration completes, no activity failed on a 429", () => {
    expect(run.summary.devices.filter((d) => d.status !== "completed").map((d) => d.device)).toEqual([]);
    expect(run.summary.devices).toHaveLength(DEVICES);
    expect(run.instances.filter((i) => i.record.status !== "Completed").map((i) => i.record.instanceId)).toEqual([]);
    expect(activityFailuresNaming(run.instances, "ArmThrottledError")).toEqual([]);
  });

  it("leaves verified evidence, written once, and installs nothing twice", () => {
    expect(run.summary.devices.filter((d) => d.verified !== true).map((d) => d.device)).toEqual([]);
    expect(activityFailuresNaming(run.instances, "EvidenceConflictError")).toEqual([]);
    expect(run.repeated).toEqual({});
  });
});
