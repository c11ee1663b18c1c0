import { EventType, eventTypeName, InstanceStuckError, type LocalDurableHost } from "../../../local/durable";
import { attempts, conformanceDefinitions } from "../../fixtures/durable/conformanceApp";
import { historyShape, startTestHost, T0 } from "./startTestHost";

const HALF_HOUR = 30 * 60 * 1000;

describe("local Durable host: conformance", () => {
  let host: LocalDurableHost;

  beforeAll(async () => {
    host = await startTestHost(conformanceDefinitions());
  });
  afterAll(async () => {
    await host.stop();
  });

  it("fans out 1,000 activities and fans in their results", async () => {
    const id = await host.client.startNew("fanOut", { input: 1000 });
    const status = await host.waitForInstance(id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ count: 1000, sum: 999 * 1000 });
    const history = await host.getHistory(id);
    const scheduled = history.filter((e) => e.EventType === EventType.TaskScheduled);
    const completed = history.filter((e) => e.EventType === EventType.TaskCompleted);
    expect(scheduled).toHaveLength(1000);
    expect(scheduled.map((e) => e.EventId)).toEqual([...Array(1000).keys()]);
    expect(new Set(completed.map((e) => e.TaskScheduledId)).size).toBe(1000);
    expect(history[history.length - 1]).toMatchObject({
      EventType: EventType.ExecutionCompleted,
      OrchestrationStatus: "Completed",
    });
  });

  it("runs nested sub-orchestrations with explicit and derived instance ids", async () => {
    const id = await host.client.startNew("nestedParent", { instanceId: "nest-1" });
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({ parent: "nest-1", fromChild: [10, 12] });
    const parentHistory = await host.getHistory("nest-1");
    expect(parentHistory.find((e) => e.EventType === EventType.SubOrchestrationInstanceCreated)).toMatchObject({
      EventId: 0,
      Name: "nestedMiddle",
      InstanceId: "nest-1-child",
      Input: "5",
    });
    expect(parentHistory.find((e) => e.EventType === EventType.SubOrchestrationInstanceCompleted)).toMatchObject({
      TaskScheduledId: 0,
      Result: "[10,12]",
    });
    // Without an explicit id a child is named after its parent and its sequence number, as in the extension.
    expect(host.getStatus("nest-1-child:0")).toMatchObject({ runtimeStatus: "Completed", output: 10 });
    expect(host.getStatus("nest-1-child:1")).toMatchObject({ runtimeStatus: "Completed", output: 12 });
  });

  it("retries a failing activity with backoff timers, exactly as the extension records it", async () => {
    attempts.delete("r-ok");
    const id = await host.client.startNew("retryActivity", { input: { key: "r-ok", failTimes: 2, maxAttempts: 5 } });
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({ ok: true, result: "r-ok ok after 3" });
    const history = await host.getHistory(id);
    expect(historyShape(history, eventTypeName)).toEqual([
      "ExecutionStarted",
      "TaskScheduled#0",
      "TaskFailed",
      "TimerCreated#1",
      "TimerFired",
      "TaskScheduled#2",
      "TaskFailed",
      "TimerCreated#3",
      "TimerFired",
      "TaskScheduled#4",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);
    const timers = history.filter((e) => e.EventType === EventType.TimerCreated);
    const failures = history.filter((e) => e.EventType === EventType.TaskFailed);
    // First retry after 1 s, the second after 2 s (backoff coefficient 2), measured from the failure's episode.
    expect(new Date(timers[0]?.FireAt ?? 0).getTime() - new Date(failures[0]?.Timestamp ?? 0).getTime()).toBe(1000);
    expect(new Date(timers[1]?.FireAt ?? 0).getTime() - new Date(failures[1]?.Timestamp ?? 0).getTime()).toBe(2000);
    expect(history.filter((e) => e.EventType === EventType.TaskCompleted)[0]).toMatchObject({ TaskScheduledId: 4 });
  });

  it("gives up when retries are exhausted and surfaces the last failure as a TaskFailedError", async () => {
    attempts.delete("r-bad");
    const id = await host.client.startNew("retryActivity", { input: { key: "r-bad", failTimes: 10, maxAttempts: 2 } });
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({
      ok: false,
      name: "TaskFailedError",
      message: "Error: attempt 2 of r-bad failed",
      errorMessage: "attempt 2 of r-bad failed",
    });
    expect(attempts.get("r-bad")).toBe(2);
    const shape = historyShape(await host.getHistory(id), eventTypeName);
    expect(shape.filter((s) => s.startsWith("TaskScheduled"))).toEqual(["TaskScheduled#0", "TaskScheduled#2"]);
  });

  it("retries a failing sub-orchestration as a new child instance", async () => {
    attempts.delete("child-1");
    const id = await host.client.startNew("retrySubOrchestration", { instanceId: "rs-1", input: "child-1" });
    const status = await host.waitForInstance(id);
    expect(status.output).toBe("child-1 ok after 2");
    const shape = historyShape(await host.getHistory(id), eventTypeName);
    expect(shape).toEqual([
      "ExecutionStarted",
      "SubOrchestrationInstanceCreated#0",
      "SubOrchestrationInstanceFailed",
      "TimerCreated#1",
      "TimerFired",
      "SubOrchestrationInstanceCreated#2",
      "SubOrchestrationInstanceCompleted",
      "ExecutionCompleted",
    ]);
    expect(host.getStatus("rs-1:0")?.runtimeStatus).toBe("Failed");
    expect(host.getStatus("rs-1:2")?.runtimeStatus).toBe("Completed");
  });

  it("skips a six-hour maintenance window of 30-minute timers on the virtual clock", async () => {
    const id = await host.client.startNew("maintenanceWindow");
    const status = await host.waitForInstance(id);
    const start = new Date(status.createdTime).getTime();
    expect(status.output).toEqual(
      Array.from({ length: 12 }, (_, i) => new Date(start + (i + 1) * HALF_HOUR).toISOString()),
    );
    const history = await host.getHistory(id);
    expect(history.filter((e) => e.EventType === EventType.TimerCreated)).toHaveLength(12);
    expect(history.filter((e) => e.EventType === EventType.TimerFired).map((e) => e.TimerId)).toEqual([
      ...Array(12).keys(),
    ]);
    expect(host.now().getTime()).toBeGreaterThanOrEqual(start + 6 * 60 * 60 * 1000);
  });

  it("delivers an external event raised through DurableClient and shows custom status", async () => {
    const id = await host.client.startNew("approval", { instanceId: "approve-1" });
    await host.runUntilIdle();
    const waiting = await host.client.getStatus(id);
    expect(waiting.runtimeStatus).toBe("Running");
    expect(waiting.customStatus).toEqual({ phase: "waiting for approval" });
    await host.client.raiseEvent(id, "approve", { by: "alice" });
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({ by: "alice" });
    expect(status.customStatus).toEqual({ phase: "approved" });
    const raised = (await host.getHistory(id)).find((e) => e.EventType === EventType.EventRaised);
    expect(raised).toMatchObject({ Name: "approve", Input: JSON.stringify({ by: "alice" }) });
  });

  it("lets Task.any pick the event when it comes before the timeout", async () => {
    const id = await host.client.startNew("approvalWithTimeout");
    await host.runUntilIdle({ advance: false });
    await host.client.raiseEvent(id, "go", "now");
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({ timedOut: false, answer: "now", at: expect.any(String) as unknown });
    expect(new Date((status.output as { at: string }).at).getTime()).toBeLessThan(
      new Date(status.createdTime).getTime() + 3_600_000,
    );
  });

  it("lets Task.any pick the timeout when no event comes, an hour later on the virtual clock", async () => {
    const id = await host.client.startNew("approvalWithTimeout");
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({
      timedOut: true,
      at: new Date(new Date(status.createdTime).getTime() + 3_600_000).toISOString(),
    });
  });

  it("continues as new with a fresh history each time", async () => {
    const id = await host.client.startNew("counter", { instanceId: "counter-1", input: 0 });
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({ n: 3, doubled: 6 });
    expect(status.input).toBe(3);
    const history = await host.getHistory(id);
    expect(historyShape(history, eventTypeName)).toEqual([
      "ExecutionStarted",
      "TaskScheduled#0",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);
    expect(history[1]).toMatchObject({ EventType: EventType.ExecutionStarted, Input: "3" });
  });

  it("hands the orchestrator an activity's failure with its details", async () => {
    const id = await host.client.startNew("catchFailure");
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({
      caught: true,
      name: "TaskFailedError",
      message: "DiskFullError: disk full",
      taskName: "boom",
      taskId: 0,
      errorType: "DiskFullError",
      errorMessage: "disk full",
      hasStack: true,
    });
    const failed = (await host.getHistory(id)).find((e) => e.EventType === EventType.TaskFailed);
    expect(failed).toMatchObject({
      TaskScheduledId: 0,
      Reason: "disk full",
      FailureDetails: { ErrorType: "DiskFullError", ErrorMessage: "disk full" },
    });
  });

  it("fails an orchestration that throws, with failure details, and tells its parent", async () => {
    const id = await host.client.startNew("failingParent", { instanceId: "fp-1" });
    const status = await host.waitForInstance(id);
    expect(status.output).toBe("window closed before the device came back");
    const child = await host.waitForInstance("fp-1-c");
    expect(child.runtimeStatus).toBe("Failed");
    expect(child.failureDetails).toMatchObject({
      ErrorType: "RangeError",
      ErrorMessage: "window closed before the device came back",
    });
    const viaClient = await host.client.getStatus("fp-1-c");
    expect(viaClient.runtimeStatus).toBe("Failed");
    expect(viaClient.output).toBe("window closed before the device came back");
  });

  it("terminates a waiting instance through DurableClient", async () => {
    const id = await host.client.startNew("approval");
    await host.runUntilIdle();
    await host.client.terminate(id, "maintenance cancelled");
    const status = await host.waitForInstance(id);
    expect(status.runtimeStatus).toBe("Terminated");
    expect(status.output).toBe("maintenance cancelled");
    await expect(host.client.raiseEvent(id, "approve", {})).resolves.toBeUndefined(); // 410 Gone: ignored, as in Azure
  });

  it("answers the RPC API with 404 and 400 problem bodies", async () => {
    await expect(host.client.getStatus("no-such-instance")).rejects.toThrow(/404/);
    const bad = await fetch(`${host.rpcBaseUrl}orchestrators/fanOut`, { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
    expect(await bad.json()).toMatchObject({ status: 400, title: "Bad Request" });
    const unknown = await fetch(`${host.rpcBaseUrl}orchestrators/noSuchOrchestrator`, { method: "POST" });
    expect(unknown.status).toBe(404);
    const conflict = await host.client.startNew("approval", { instanceId: "dup-1" });
    await expect(host.client.startNew("approval", { instanceId: conflict })).rejects.toThrow(/409/);
    await host.client.terminate(conflict, "test over");
  });

  it("lists and purges instances through DurableClient", async () => {
    const id = await host.client.startNew("fanOut", { instanceId: "purge-me", input: 2 });
    await host.waitForInstance(id);
    const completed = await host.client.getStatusBy({ runtimeStatus: ["Completed" as never] });
    expect(completed.map((s) => s.instanceId)).toContain("purge-me");
    const result = await host.client.purgeInstanceHistory(id);
    expect(result.instancesDeleted).toBe(1);
    expect(host.getStatus(id)).toBeUndefined();
  });

  it("reports an instance that can never finish instead of hanging the test", async () => {
    const id = await host.client.startNew("approval");
    await expect(host.waitForInstance(id)).rejects.toBeInstanceOf(InstanceStuckError);
    await host.client.terminate(id, "test over");
    expect(host.now().getTime()).toBeGreaterThan(T0.getTime());
  });
});
