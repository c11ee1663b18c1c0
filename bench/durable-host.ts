// Local Durable host benchmark: 10,000 no-op activities spread over 100 sub-orchestrations, next to a plain
// Promise.all over the same handler (the floor). Prints figures; asserts nothing. Run with `npm run bench:durable`.
import { InvocationContext } from "@azure/functions";
import type { OrchestrationContext, Task } from "durable-functions";
import type { FunctionDefinition } from "../functions/index";
import { startAzurite } from "../local/azurite";
import { createLocalDurableHost } from "../local/durable";

const CHILDREN = 100;
const PER_CHILD = 100;
const TOTAL = CHILDREN * PER_CHILD;

const noop = (input: unknown): unknown => input;

const definitions: FunctionDefinition[] = [
  {
    kind: "orchestrator",
    name: "benchParent",
    handler: function* (context: OrchestrationContext) {
      const children: Task[] = [];
      for (let i = 0; i < CHILDREN; i++) children.push(context.df.callSubOrchestrator("benchChild", PER_CHILD));
      const counts = (yield context.df.Task.all(children)) as number[];
      return counts.reduce((a, b) => a + b, 0);
    },
  },
  {
    kind: "orchestrator",
    name: "benchChild",
    handler: function* (context: OrchestrationContext) {
      const n = context.df.getInput<number>();
      const tasks: Task[] = [];
      for (let i = 0; i < n; i++) tasks.push(context.df.callActivity("noop", i));
      const results = (yield context.df.Task.all(tasks)) as number[];
      return results.length;
    },
  },
  { kind: "activity", name: "noop", handler: noop },
];

let peakRss = 0;
function sampleRss(): void {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

async function measureFloor(): Promise<number> {
  const context = new InvocationContext({ functionName: "noop" });
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: TOTAL }, (_, i) => Promise.resolve(noop(i)).then((r) => r)));
  if (results.length !== TOTAL || context.functionName !== "noop") throw new Error("floor run lost results");
  return performance.now() - started;
}

async function main(): Promise<void> {
  const azurite = await startAzurite({ inMemory: true });
  const sampler = setInterval(sampleRss, 20);
  try {
    const floorMs = await measureFloor();
    const host = createLocalDurableHost({
      definitions,
      connectionString: azurite.connectionString,
      taskHub: "bench",
      clock: "real",
      activityConcurrency: 64,
      episodeConcurrency: 16,
      timerSchedules: false,
    });
    await host.start();
    const rssBefore = process.memoryUsage().rss;
    peakRss = rssBefore;
    const started = performance.now();
    const id = await host.client.startNew("benchParent");
    const status = await host.waitForInstance(id);
    const wallMs = performance.now() - started;
    sampleRss();
    await host.stop();
    if (status.output !== TOTAL)
      throw new Error(`expected ${TOTAL} activities, the orchestration reported ${JSON.stringify(status.output)}`);

    const { episodes, eventsReplayed, activitiesRun } = host.stats;
    const rows: [string, string][] = [
      ["activities", `${activitiesRun} (${CHILDREN} sub-orchestrations x ${PER_CHILD})`],
      ["wall time", `${(wallMs / 1000).toFixed(2)} s`],
      ["activities/s", (activitiesRun / (wallMs / 1000)).toFixed(0)],
      ["episodes", String(episodes)],
      ["history events replayed", String(eventsReplayed)],
      ["events replayed / activity", (eventsReplayed / activitiesRun).toFixed(1)],
      ["peak RSS (host process)", `${mb(peakRss)} (before the run: ${mb(rssBefore)}; Azurite runs in its own process)`],
      [
        "floor: Promise.all, same handler",
        `${floorMs.toFixed(1)} ms (${(TOTAL / (floorMs / 1000)).toFixed(0)} calls/s)`,
      ],
      ["ratio host / floor", `${(wallMs / floorMs).toFixed(0)}x`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write("Local Durable host benchmark\n");
    for (const [key, value] of rows) process.stdout.write(`  ${key.padEnd(width)}  ${value}\n`);
  } finally {
    clearInterval(sampler);
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
