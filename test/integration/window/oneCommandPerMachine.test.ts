import path from "node:path";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { runWindows, type WindowsSummary } from "../../../local/run/runWindows";
import { EXPECTED_DEMO_EXIT_CODES } from "../../harness/demoExpectations";

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");

let stack: LocalStack;
let summary: WindowsSummary;

// The demo window through the local host, with the fleet emulator enforcing one run command at a time per machine
// (a second one while one is in flight is refused with 409, as the agents do) and counting every overlap.
beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual" });
  summary = await runWindows(stack, undefined, { verify: false });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe("one run command at a time per machine over the demo window", () => {
  it("never has two PatchPilot run commands in flight on one machine, and ends with the demo's exit codes", () => {
    const completed = summary.devices.filter((d) => d.status === "completed");
    expect(Object.fromEntries(completed.map((d) => [d.device, d.exitCode]))).toEqual(EXPECTED_DEMO_EXIT_CODES);
    expect(stack.emulator.engine.concurrency).toMatchObject({ overlaps: 0, conflicts: 0 });
    expect(stack.emulator.engine.concurrency.maxInFlight).toBeLessThanOrEqual(1);
  });
});
