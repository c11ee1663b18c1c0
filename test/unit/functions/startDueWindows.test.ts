import { InvocationContext, type Timer } from "@azure/functions";
import { currentTick, makeStartDueWindows } from "../../../functions/timers/startDueWindows";
import { testWindow } from "../../harness/testWindow";

const window = testWindow();
/** .NET DateTime as the host serializes it ("+00:00", no zero fraction). */
const host = (iso: string): string => iso.replace(/\.000Z$/, "+00:00");
const FIVE_MINUTES = 5 * 60_000;
/**
 * A scheduled tick as the Functions host passes it (TimerListener.InvokeJobFunction): the status from before the
 * invocation, so `next` is the tick being fired and `last` the one before.
 */
const tick = (firing: string): Timer => {
  const previous = new Date(Date.parse(firing) - FIVE_MINUTES).toISOString();
  return {
    isPastDue: false,
    schedule: { adjustForDST: false },
    scheduleStatus: { last: host(previous), next: host(firing), lastUpdated: host(previous) },
  };
};
/** The first tick after a deploy: no status stored yet, so `last` and `lastUpdated` are DateTime.MinValue. */
const firstTick = (firing: string): Timer => ({
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: "0001-01-01T00:00:00+00:00", next: host(firing), lastUpdated: "0001-01-01T00:00:00+00:00" },
});
/** Host restarted after missing ticks: the stored status, `next` = the first missed occurrence, isPastDue. */
const pastDue = (lastFired: string, missed: string): Timer => ({
  isPastDue: true,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: host(lastFired), next: host(missed), lastUpdated: host(lastFired) },
});

/** Stands in for the Durable client on its two calls, answering getStatus like the real one for unknown ids. */
class RecordingClient {
  readonly started = new Map<string, unknown>();
  failGetStatusWith?: Error;
  getStatus(instanceId: string): Promise<never> | Promise<object> {
    if (this.failGetStatusWith) return Promise.reject(this.failGetStatusWith);
    if (this.started.has(instanceId)) return Promise.resolve({ instanceId });
    return Promise.reject(
      new Error(
        "DurableClient error: Durable Functions extension replied with HTTP 404 response. This usually means ...",
      ),
    );
  }
  startNew(name: string, options: { instanceId: string; input: unknown }): Promise<string> {
    this.started.set(options.instanceId, { name, input: options.input });
    return Promise.resolve(options.instanceId);
  }
}

describe("startDueWindows timer", () => {
  const context = new InvocationContext({ functionName: "startDueWindows", invocationId: "t" });
  const setup = () => {
    const client = new RecordingClient();
    const handler = makeStartDueWindows(
      () => ({ listWindows: () => Promise.resolve([window]) }),
      () => client as never,
    );
    return { client, handler };
  };

  it("starts a due occurrence once, under an id derived from window and date, even when ticks repeat", async () => {
    const { client, handler } = setup();
    await handler(tick("2026-01-20T01:00:00.000Z"), context); // 02:00 Berlin = 01:00Z
    await handler(tick("2026-01-20T01:05:00.000Z"), context);
    await handler(tick("2026-01-20T01:05:00.000Z"), context);
    expect([...client.started.keys()]).toEqual(["window-contoso-msp-nightly-2026-01-20"]);
    expect(client.started.get("window-contoso-msp-nightly-2026-01-20")).toMatchObject({
      name: "maintenanceWindow",
      input: {
        startedBy: "schedule",
        occurrence: { start: "2026-01-20T01:00:00.000Z", cutoff: "2026-01-20T04:30:00.000Z" },
      },
    });
  });

  it("starts nothing before the window opens or after its cutoff, and starts a missed occurrence late before it", async () => {
    const { client, handler } = setup();
    await handler(tick("2026-01-20T00:55:00.000Z"), context);
    await handler(tick("2026-01-20T04:30:00.000Z"), context); // cutoff: end 05:00Z - 30 min
    expect(client.started.size).toBe(0);
    await handler(tick("2026-01-20T03:10:00.000Z"), context); // host was down for two hours
    expect([...client.started.keys()]).toEqual(["window-contoso-msp-nightly-2026-01-20"]);
  });

  it("the first tick after a deploy (last = 0001-01-01) starts the occurrence that opens on it", async () => {
    const { client, handler } = setup();
    await handler(firstTick("2026-01-20T01:00:00.000Z"), context);
    expect([...client.started.keys()]).toEqual(["window-contoso-msp-nightly-2026-01-20"]);
  });

  it("reads the tick being fired from scheduleStatus.next, not the previous tick in scheduleStatus.last", async () => {
    const { client, handler } = setup();
    // The 01:00Z tick: last = 00:55Z, before the window opens. Reading `last` would start nothing until 01:05Z.
    await handler(tick("2026-01-20T01:00:00.000Z"), context);
    expect([...client.started.keys()]).toEqual(["window-contoso-msp-nightly-2026-01-20"]);
    expect(currentTick(tick("2026-01-20T01:00:00.000Z")).toISOString()).toBe("2026-01-20T01:00:00.000Z");
  });

  it("past due: starts the occurrence that opened at or before the missed tick, late", async () => {
    const { client, handler } = setup();
    await handler(pastDue("2026-01-19T23:00:00.000Z", "2026-01-20T02:00:00.000Z"), context);
    expect([...client.started.keys()]).toEqual(["window-contoso-msp-nightly-2026-01-20"]);
  });

  it("falls back to the wall clock only when the host sends no usable status", () => {
    const before = Date.now();
    const noStatus = { isPastDue: false, schedule: { adjustForDST: false } } as unknown as Timer;
    expect(currentTick(noStatus).getTime()).toBeGreaterThanOrEqual(before);
    expect(currentTick(firstTick("2026-01-20T01:00:00.000Z")).toISOString()).toBe("2026-01-20T01:00:00.000Z");
  });

  it("does not swallow other Durable client errors", async () => {
    const { client, handler } = setup();
    client.failGetStatusWith = new Error(
      "DurableClient error: Durable Functions extension replied with HTTP 500 response.",
    );
    await expect(handler(tick("2026-01-20T01:00:00.000Z"), context)).rejects.toThrow(/HTTP 500/);
    expect(client.started.size).toBe(0);
  });
});
