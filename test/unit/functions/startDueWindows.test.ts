import { InvocationContext, type Timer } from "@azure/functions";
import { makeStartDueWindows } from "../../../functions/timers/startDueWindows";
import { testWindow } from "../../harness/testWindow";

const window = testWindow();
const tick = (last: string): Timer => ({
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last, next: last, lastUpdated: last },
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

  it("does not swallow other Durable client errors", async () => {
    const { client, handler } = setup();
    client.failGetStatusWith = new Error(
      "DurableClient error: Durable Functions extension replied with HTTP 500 response.",
    );
    await expect(handler(tick("2026-01-20T01:00:00.000Z"), context)).rejects.toThrow(/HTTP 500/);
    expect(client.started.size).toBe(0);
  });
});
