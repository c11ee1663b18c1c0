import path from "node:path";
import { TaskHubStore } from "../../../local/durable/taskHubStore";
import { spawnTsChild, type TsChild } from "../../harness/tsChild";
import { azuriteConnectionString, uniqueTaskHub } from "./startTestHost";

const CHILD = path.join(__dirname, "../../fixtures/durable/crashChild.ts");
const INSTANCES = 5;
const FAN_OUT = 400;
const TOTAL = INSTANCES * FAN_OUT;

function runChild(args: string[]): TsChild {
  return spawnTsChild(CHILD, args);
}

describe("local Durable host: crash recovery", () => {
  it("finishes every fan-out after the host is killed with SIGKILL mid-way and started again", async () => {
    const connectionString = azuriteConnectionString();
    const taskHub = uniqueTaskHub("c");
    const args = [connectionString, taskHub, String(INSTANCES), String(FAN_OUT)];

    const first = runChild(["start", ...args]);
    await first.waitForLine((line) => line.startsWith("progress") && Number(line.split(" ")[1]) >= 400);
    first.kill();
    await first.exited;

    const store = new TaskHubStore({ connectionString, taskHub });
    const atCrash = await store.loadInstances();
    expect(atCrash).toHaveLength(INSTANCES);
    expect(atCrash.some((r) => r.status === "Running")).toBe(true);

    const second = runChild(["resume", ...args]);
    const line = await second.waitForLine((l) => l.startsWith("result "));
    expect(await second.exited).toBe(0);
    const result = JSON.parse(line.slice("result ".length)) as {
      statuses: { runtimeStatus: string; output: unknown }[];
      activitiesRun: number;
    };
    const expectedSum = Array.from({ length: FAN_OUT }, (_, i) => i * i).reduce((a, b) => a + b, 0);
    expect(result.statuses.map((s) => [s.runtimeStatus, s.output])).toEqual(
      Array(INSTANCES).fill(["Completed", expectedSum]),
    );
    // Results recorded before the crash were not recomputed; the ones in flight were (at least once).
    expect(result.activitiesRun).toBeGreaterThan(0);
    expect(result.activitiesRun).toBeLessThan(TOTAL);
  });
});
