// A device run's orchestration history is what the Durable backend stores and replays for every episode: its length
// is the run's cost in the task hub. Over the demo window (every device kind, reboots, failures, a lock held by
// another run), each device run must stay within 40 history events, counted as the local host records them through
// durable-functions' own replay (the same events Azure's task hub would hold).
import path from "node:path";
import { eventTypeName } from "../../../local/durable";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { runWindows, type WindowsSummary } from "../../../local/run/runWindows";
import { ORCHESTRATORS } from "../../../orchestrators/activityNames";
import { EXPECTED_DEMO_EXIT_CODES } from "../../harness/demoExpectations";

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const MAX_EVENTS = 40;

let stack: LocalStack;
let summary: WindowsSummary;

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual" });
  summary = await runWindows(stack, undefined, { verify: false });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe("device-run history over the demo window", () => {
  it(`has at most ${MAX_EVENTS} events in every device run, with the demo's exit codes`, async () => {
    const completed = summary.devices.filter((d) => d.status === "completed");
    expect(Object.fromEntries(completed.map((d) => [d.device, d.exitCode]))).toEqual(EXPECTED_DEMO_EXIT_CODES);
    const runs = (await stack.host.client.getStatusAll()).filter((s) => s.name === ORCHESTRATORS.devicePatchRun);
    expect(runs.length).toBe(completed.length);
    const lengths: Record<string, number> = {};
    const shapes: string[] = [];
    for (const run of runs) {
      const history = await stack.host.getHistory(run.instanceId);
      lengths[run.instanceId] = history.length;
      const shape = history
        .map((e) => eventTypeName[e.EventType] ?? String(e.EventType))
        .filter((t) => !/^Orchestrator(Started|Completed)$/.test(t));
      shapes.push(`${run.instanceId} (${history.length}): ${shape.join(" ")}`);
    }
    console.log(shapes.join("\n"));
    const over = Object.entries(lengths).filter(([, n]) => n > MAX_EVENTS);
    expect(over).toEqual([]);
  });
});
