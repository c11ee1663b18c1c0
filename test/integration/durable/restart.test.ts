import { createLocalDurableHost, EventType } from "../../../local/durable";
import { conformanceDefinitions } from "../../fixtures/durable/conformanceApp";
import { azuriteConnectionString, T0, uniqueTaskHub } from "./startTestHost";

const HALF_HOUR = 30 * 60 * 1000;

describe("local Durable host: persistence across restarts", () => {
  it("resumes waiting instances and pending timers from Azurite in a new host", async () => {
    const taskHub = uniqueTaskHub("r");
    const options = {
      definitions: conformanceDefinitions(),
      connectionString: azuriteConnectionString(),
      taskHub,
      clock: "virtual" as const,
      startTime: T0,
    };

    const first = createLocalDurableHost(options);
    await first.start();
    const approval = await first.client.startNew("approval", { instanceId: "approval-1" });
    const window = await first.client.startNew("maintenanceWindow", { instanceId: "window-1" });
    await first.runUntilIdle({ advance: false });
    first.advanceTime(HALF_HOUR); // one reboot wait done, eleven to go
    await first.runUntilIdle({ advance: false });
    expect((await first.getHistory(window)).filter((e) => e.EventType === EventType.TimerFired)).toHaveLength(1);
    await first.stop();

    // A new process: same task hub, nothing in memory; the virtual clock starts where the first one was.
    const second = createLocalDurableHost({ ...options, startTime: new Date(T0.getTime() + HALF_HOUR) });
    await second.start();
    try {
      expect(second.getStatus(approval)).toMatchObject({
        runtimeStatus: "Running",
        customStatus: { phase: "waiting for approval" },
      });
      await second.client.raiseEvent(approval, "approve", { by: "bob" });
      await expect(second.waitForInstance(approval)).resolves.toMatchObject({
        runtimeStatus: "Completed",
        output: { by: "bob" },
      });
      const done = await second.waitForInstance(window);
      expect(done.output).toEqual(
        Array.from({ length: 12 }, (_, i) => new Date(T0.getTime() + (i + 1) * HALF_HOUR).toISOString()),
      );
      const history = await second.getHistory(window);
      expect(history.filter((e) => e.EventType === EventType.TimerCreated).map((e) => e.EventId)).toEqual([
        ...Array(12).keys(),
      ]);
    } finally {
      await second.stop();
    }
  });
});
