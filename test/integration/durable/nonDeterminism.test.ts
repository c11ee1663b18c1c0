import type { OrchestrationContext } from "durable-functions";
import type { FunctionDefinition } from "../../../functions/definitions";
import { EventType, NON_DETERMINISTIC, type LocalDurableHost } from "../../../local/durable";
import { startTestHost } from "./startTestHost";

// Stands for a deployment that changed the orchestrator while instances were in flight.
let codeVersion = 1;

const definitions: FunctionDefinition[] = [
  {
    kind: "orchestrator",
    name: "changedCode",
    handler: function* (context: OrchestrationContext) {
      yield context.df.callActivity(codeVersion === 1 ? "stepA" : "stepB");
      yield context.df.waitForExternalEvent("continue");
      return "done";
    },
  },
  {
    kind: "orchestrator",
    name: "readsWallClock",
    handler: function* (context: OrchestrationContext) {
      // Wall-clock time in an orchestrator: the bug this test is about.
      yield context.df.createTimer(new Date(Date.now() + 60_000));
      return "done";
    },
  },
  { kind: "activity", name: "stepA", handler: () => "a" },
  { kind: "activity", name: "stepB", handler: () => "b" },
];

describe("local Durable host: determinism guard", () => {
  let host: LocalDurableHost;

  beforeAll(async () => {
    host = await startTestHost(definitions);
  });
  afterAll(async () => {
    await host.stop();
  });

  it("fails an instance whose orchestrator code changed under it", async () => {
    codeVersion = 1;
    const id = await host.client.startNew("changedCode");
    await host.runUntilIdle();
    codeVersion = 2;
    await host.client.raiseEvent(id, "continue", null);
    const status = await host.waitForInstance(id);
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failureDetails?.ErrorType).toBe(NON_DETERMINISTIC);
    expect(status.failureDetails?.ErrorMessage).toMatch(
      /^Non-Deterministic workflow detected: .*activity task with sequence ID 0 and name 'stepA'.*'stepB'/,
    );
    const history = await host.getHistory(id);
    expect(history[history.length - 1]).toMatchObject({
      EventType: EventType.ExecutionCompleted,
      OrchestrationStatus: "Failed",
    });
  });

  it("fails an instance whose orchestrator reads Date.now()", async () => {
    const id = await host.client.startNew("readsWallClock");
    await host.runUntilIdle({ advance: false });
    // Make sure the wall clock has moved on before the replay reads it again.
    const before = Date.now();
    while (Date.now() === before) {
      /* spin for at most a millisecond */
    }
    const status = await host.waitForInstance(id);
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failureDetails?.ErrorType).toBe(NON_DETERMINISTIC);
    expect(status.failureDetails?.ErrorMessage).toMatch(/durable timer with sequence ID 0/);
  });

  it("replays unchanged code without complaint", async () => {
    codeVersion = 1;
    const id = await host.client.startNew("changedCode");
    await host.runUntilIdle();
    await host.client.raiseEvent(id, "continue", null);
    await expect(host.waitForInstance(id)).resolves.toMatchObject({ runtimeStatus: "Completed", output: "done" });
  });
});
