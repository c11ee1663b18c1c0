import type { HttpRequest, InvocationContext, Timer } from "@azure/functions";
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import type { FunctionDefinition } from "../../../functions/definitions";
import type { LocalDurableHost } from "../../../local/durable";
import { startTestHost, T0 } from "./startTestHost";

const timerCalls: Timer[] = [];

const definitions: FunctionDefinition[] = [
  {
    kind: "orchestrator",
    name: "echo",
    handler: function* (context: OrchestrationContext) {
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 1000));
      return context.df.getInput();
    },
  },
  {
    kind: "http",
    name: "startRun",
    route: "runs/{runId}",
    methods: ["POST"],
    authLevel: "anonymous",
    durableClient: true,
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const client = df.getClient(context);
      const id = await client.startNew("echo", { instanceId: request.params.runId, input: await request.json() });
      return client.createCheckStatusResponse(request, id);
    },
  },
  {
    kind: "http",
    name: "getRun",
    route: "runs/{runId}",
    methods: ["GET"],
    authLevel: "function",
    durableClient: true,
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const status = await df.getClient(context).getStatus(request.params.runId ?? "");
      return { status: 200, jsonBody: { runtimeStatus: status.runtimeStatus, output: status.output } };
    },
  },
  {
    kind: "timer",
    name: "nightly",
    schedule: "0 0 2 * * *",
    durableClient: true,
    handler: async (timer: Timer, context: InvocationContext) => {
      timerCalls.push(timer);
      await df.getClient(context).startNew("echo", { input: { firedAt: timer.scheduleStatus.last } });
    },
  },
];

describe("local Durable host: HTTP front and timer triggers", () => {
  let host: LocalDurableHost;
  let base: string;

  beforeAll(async () => {
    host = await startTestHost(definitions, { http: { port: 0, keys: { function: "k-fn" } } });
    base = host.httpBaseUrl ?? "";
  });
  afterAll(async () => {
    await host.stop();
  });

  it("mounts HTTP triggers on their routes and methods, with a working durable client", async () => {
    const started = await fetch(`${base}/api/runs/run-7`, { method: "POST", body: JSON.stringify({ device: "vm-1" }) });
    expect(started.status).toBe(202);
    const links = (await started.json()) as { id: string; statusQueryGetUri: string };
    expect(links.id).toBe("run-7");
    expect(links.statusQueryGetUri).toContain("/runtime/webhooks/durabletask/instances/run-7");
    expect(started.headers.get("location")).toBe(links.statusQueryGetUri);

    await host.waitForInstance("run-7");
    const got = await fetch(`${base}/api/runs/run-7?code=k-fn`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ runtimeStatus: "Completed", output: { device: "vm-1" } });

    // The management API needs the system key, as in Azure: the check-status link carries it, a bare URL does not.
    const bare = await fetch(`${base}/runtime/webhooks/durabletask/instances/run-7`);
    expect(bare.status).toBe(401);
    expect((await fetch(`${base}/runtime/webhooks/durabletask/instances?code=k-fn`)).status).toBe(401);
    expect(links.statusQueryGetUri).toContain(`code=${encodeURIComponent(host.systemKey)}`);
    const webhook = await fetch(links.statusQueryGetUri.replace(/^https?:\/\/[^/]+/, base));
    expect(webhook.status).toBe(200);
    expect(await webhook.json()).toMatchObject({ instanceId: "run-7", runtimeStatus: "Completed" });
    const listed = await fetch(`${base}/runtime/webhooks/durabletask/instances`, {
      headers: { "x-functions-key": host.systemKey },
    });
    expect(listed.status).toBe(200);
  });

  it("enforces auth levels, methods and routes with problem bodies", async () => {
    const noKey = await fetch(`${base}/api/runs/run-7`);
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get("content-type")).toContain("application/problem+json");
    const wrongKey = await fetch(`${base}/api/runs/run-7`, { headers: { "x-functions-key": "nope" } });
    expect(wrongKey.status).toBe(401);
    const viaHeader = await fetch(`${base}/api/runs/run-7`, { headers: { "x-functions-key": "k-fn" } });
    expect(viaHeader.status).toBe(200);
    expect((await fetch(`${base}/api/runs/run-7`, { method: "PUT" })).status).toBe(405);
    const missing = await fetch(`${base}/api/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 404, title: "Not Found" });
  });

  it("fires timer triggers on demand and on their NCRONTAB schedule as the virtual clock moves", async () => {
    timerCalls.length = 0;
    await host.fireTimer("nightly");
    expect(timerCalls).toHaveLength(1);

    // The clock started at 22:00 UTC: four more hours cross 02:00 once.
    const before = host.now().getTime();
    expect(before).toBeLessThan(new Date("2026-03-02T02:00:00Z").getTime());
    host.advanceTime(new Date("2026-03-02T02:00:00Z").getTime() - before);
    await host.runUntilIdle();
    expect(timerCalls).toHaveLength(2);
    // As the Functions host: the status from before this invocation (next = the 02:00 tick being fired, last =
    // DateTime.MinValue as it never fired on schedule before).
    expect(timerCalls[1]).toMatchObject({
      isPastDue: false,
      scheduleStatus: { last: "0001-01-01T00:00:00+00:00", next: "2026-03-02T02:00:00+00:00" },
    });
    const echoes = (await host.client.getStatusBy({})).filter((s) => s.name === "echo" && s.instanceId !== "run-7");
    expect(echoes).toHaveLength(2);
    expect(echoes.every((s) => s.runtimeStatus === "Completed")).toBe(true);
    expect(T0.toISOString()).toBe("2026-03-01T22:00:00.000Z");
  });
});
