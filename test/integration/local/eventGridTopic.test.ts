import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { AzureKeyCredential, EventGridPublisherClient, type SendCloudEventInput } from "@azure/eventgrid";
import { CloudEvent, HTTP } from "cloudevents";
import {
  startLocalEventGridTopic,
  type LocalEventGridTopic,
  type LocalEventGridTopicOptions,
} from "../../../local/eventGrid/eventGridTopic";
import { startSubscriber, type Answer, type ReceivedRequest, type TestSubscriber } from "./subscriber";

const FAST: LocalEventGridTopicOptions = { retryDelaysMs: [5, 10, 20] };

function client(topic: LocalEventGridTopic, key = topic.key): EventGridPublisherClient<"CloudEvent"> {
  return new EventGridPublisherClient(topic.endpoint, "CloudEvent", new AzureKeyCredential(key), {
    tlsOptions: { ca: topic.ca },
  });
}

function runEvent(n: number, type = "io.patchpilot.run.completed"): SendCloudEventInput<unknown> {
  return {
    id: `evt-${n}`,
    type,
    source: "/patchpilot/tenants/contoso",
    subject: `devices/dev-${n}/runs/r-${n}`,
    time: new Date("2025-03-01T10:00:00Z"),
    data: { device: `dev-${n}`, exitCode: 0 },
  };
}

/** POSTs a raw body to the topic (what the SDK would refuse to send). */
function postRaw(
  topic: LocalEventGridTopic,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${topic.endpoint}?api-version=2018-01-01`,
      { method: "POST", ca: topic.ca, headers: { "aeg-sas-key": topic.key, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const header = (r: ReceivedRequest, name: string): string | undefined => r.headers[name] as string | undefined;
const parsedBody = (r: ReceivedRequest): { id: string; type: string } =>
  JSON.parse(r.body) as { id: string; type: string };

describe("local Event Grid topic", () => {
  let topic: LocalEventGridTopic;
  let subscriber: TestSubscriber;
  let messages: string[];

  async function start(
    options: LocalEventGridTopicOptions,
    answer?: (request: ReceivedRequest, index: number) => Answer,
  ): Promise<void> {
    messages = [];
    topic = await startLocalEventGridTopic({
      ...FAST,
      ...options,
      log: (level, message) => messages.push(`${level}: ${message}`),
    });
    subscriber = await startSubscriber(answer);
  }

  afterEach(async () => {
    await topic.close();
    await subscriber.close();
  });

  it("accepts a CloudEvents batch from EventGridPublisherClient with 200 and delivers each event as a structured CloudEvent", async () => {
    await start({});
    topic.subscribe({ name: "patch-events", endpoint: subscriber.url });
    const events = [runEvent(1), runEvent(2), runEvent(3, "io.patchpilot.window.completed")];

    await client(topic).send(events);
    await topic.idle();

    // What the SDK really sends: one batch, cloudevents-batch content type, api-version 2018-01-01.
    expect(topic.requests).toEqual([
      expect.objectContaining({
        status: 200,
        events: 3,
        apiVersion: "2018-01-01",
        contentType: "application/cloudevents-batch+json; charset=utf-8",
      }),
    ]);
    expect(topic.published.map((e) => e.id)).toEqual(["evt-1", "evt-2", "evt-3"]);
    for (const event of topic.published) expect(new CloudEvent({ ...event }).validate()).toBe(true);
    expect(topic.published[0]).toMatchObject({
      specversion: "1.0",
      datacontenttype: "application/json",
      time: "2025-03-01T10:00:00.000Z",
      data: { device: "dev-1" },
    });

    const deliveries = subscriber.deliveries();
    expect(deliveries.map((r) => parsedBody(r).id).sort()).toEqual(["evt-1", "evt-2", "evt-3"]);
    for (const request of deliveries) {
      expect(request.url).toBe("/runtime/webhooks/eventgrid?functionName=onPatchEvent");
      expect(header(request, "content-type")).toBe("application/cloudevents+json; charset=utf-8");
      expect(header(request, "aeg-event-type")).toBe("Notification");
      expect(header(request, "aeg-subscription-name")).toBe("PATCH-EVENTS");
      expect(header(request, "aeg-delivery-count")).toBe("0");
      const received = HTTP.toEvent({ headers: request.headers, body: request.body });
      expect(Array.isArray(received)).toBe(false);
      expect((received as CloudEvent<unknown>).validate()).toBe(true);
      expect((received as CloudEvent<unknown>).source).toBe("/patchpilot/tenants/contoso");
    }
    expect(topic.deliveries.every((d) => d.outcome === "delivered" && d.status === 200)).toBe(true);
    expect(topic.deadLettered).toEqual([]);
  });

  it("delivers only the included event types of a subscription", async () => {
    await start({});
    const other = await startSubscriber();
    try {
      topic.subscribe({
        name: "runs-only",
        endpoint: subscriber.url,
        includedEventTypes: ["io.patchpilot.run.completed"],
      });
      topic.subscribe({ name: "everything", endpoint: other.url });
      await client(topic).send([runEvent(1), runEvent(2, "io.patchpilot.window.completed")]);
      await topic.idle();
      expect(subscriber.deliveries().map((r) => parsedBody(r).type)).toEqual(["io.patchpilot.run.completed"]);
      expect(other.deliveries()).toHaveLength(2);
    } finally {
      await other.close();
    }
  });

  it("refuses a wrong aeg-sas-key with 401 (the SDK throws) and delivers nothing", async () => {
    await start({});
    topic.subscribe({ name: "patch-events", endpoint: subscriber.url });
    const error: unknown = await client(topic, "not-the-key")
      .send([runEvent(1)])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "RestError", statusCode: 401 });
    expect(JSON.parse((error as { response: { bodyAsText: string } }).response.bodyAsText)).toEqual({
      error: { code: "Unauthorized", message: expect.stringContaining("aeg-sas-key") },
    });
    await topic.idle();
    expect(topic.published).toEqual([]);
    expect(subscriber.received).toEqual([]);
  });

  it("refuses events that are not CloudEvents 1.0 with 400 naming the problem", async () => {
    await start({});
    // The SDK checks presence, not emptiness: an empty source reaches the topic.
    const error: unknown = await client(topic)
      .send([runEvent(1), { ...runEvent(2), source: "" }])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "RestError",
      statusCode: 400,
      message: expect.stringContaining("events[1].source: must not be empty"),
    });

    const batch = "application/cloudevents-batch+json; charset=utf-8";
    const wrongVersion = await postRaw(
      topic,
      JSON.stringify([{ specversion: "0.3", id: "a", source: "/s", type: "t" }]),
      { "Content-Type": batch },
    );
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.body).toContain('events[0].specversion: must be \\"1.0\\"');
    const missingType = await postRaw(topic, JSON.stringify([{ specversion: "1.0", id: "a", source: "/s" }]), {
      "Content-Type": batch,
    });
    expect(missingType.body).toContain("events[0].type: is required");
    const badExtension = await postRaw(
      topic,
      JSON.stringify([{ specversion: "1.0", id: "a", source: "/s", type: "t", tenant: { nested: true } }]),
      { "Content-Type": batch },
    );
    expect(badExtension.body).toContain("events[0].tenant: is an extension attribute");
    const notArray = await postRaw(topic, JSON.stringify({ specversion: "1.0", id: "a", source: "/s", type: "t" }), {
      "Content-Type": batch,
    });
    expect(notArray).toMatchObject({ status: 400, body: expect.stringContaining("JSON array") });
    const eventGridSchema = await postRaw(topic, "[]", { "Content-Type": "application/json" });
    expect(eventGridSchema.status).toBe(415);
    expect(topic.published).toEqual([]);

    // A single structured event is accepted too.
    const single = await postRaw(topic, JSON.stringify({ specversion: "1.0", id: "one", source: "/s", type: "t" }), {
      "Content-Type": "application/cloudevents+json; charset=utf-8",
    });
    expect(single).toEqual({ status: 200, body: "" });
    expect(topic.published.map((e) => e.id)).toEqual(["one"]);
  });

  it("refuses an event over 1 MB with 413", async () => {
    await start({});
    const error: unknown = await client(topic)
      .send([{ ...runEvent(1), data: { blob: "x".repeat(1024 * 1024) } }])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 413, message: expect.stringContaining("events[0] is") });
    expect(topic.published).toEqual([]);
  });

  it("retries a failing subscriber with an incrementing aeg-delivery-count until it succeeds", async () => {
    await start({}, (_request, index) => (index < 2 ? 500 : 200));
    topic.subscribe({ name: "flaky", endpoint: subscriber.url, maxDeliveryAttempts: 5 });
    await client(topic).send([runEvent(1)]);
    await topic.idle();
    expect(subscriber.deliveries().map((r) => header(r, "aeg-delivery-count"))).toEqual(["0", "1", "2"]);
    expect(topic.deliveries.map((d) => [d.attempt, d.status, d.outcome])).toEqual([
      [0, 500, "httpError"],
      [1, 500, "httpError"],
      [2, 200, "delivered"],
    ]);
    expect(topic.deadLettered).toEqual([]);
    expect(messages.some((m) => m.startsWith("warn:") && m.includes("retrying"))).toBe(true);
  });

  it("dead-letters an event after maxDeliveryAttempts, with the last error", async () => {
    await start({}, () => 503);
    topic.subscribe({ name: "down", endpoint: subscriber.url, maxDeliveryAttempts: 3 });
    await client(topic).send([runEvent(1)]);
    await topic.idle();
    expect(subscriber.deliveries()).toHaveLength(3);
    expect(topic.deadLettered).toEqual([
      expect.objectContaining({
        subscription: "down",
        deadLetterReason: "MaxDeliveryAttemptsExceeded",
        deliveryAttempts: 3,
        lastDeliveryOutcome: "httpError",
        lastHttpStatusCode: 503,
        lastError: "subscriber answered 503",
        event: expect.objectContaining({ id: "evt-1" }),
      }),
    ]);
  });

  it("does not retry a 400 from the subscriber (Event Grid dead-letters it at once)", async () => {
    await start({}, () => 400);
    topic.subscribe({ name: "rejects", endpoint: subscriber.url, maxDeliveryAttempts: 5 });
    await client(topic).send([runEvent(1)]);
    await topic.idle();
    expect(subscriber.deliveries()).toHaveLength(1);
    expect(topic.deadLettered).toEqual([
      expect.objectContaining({ deadLetterReason: "NonRetriableError", deliveryAttempts: 1, lastHttpStatusCode: 400 }),
    ]);
  });

  it("retries a subscriber that does not answer in time and one that is not listening", async () => {
    await start({ deliveryTimeoutMs: 200 }, (_request, index) => (index === 0 ? "hang" : 200));
    topic.subscribe({ name: "slow", endpoint: subscriber.url, maxDeliveryAttempts: 3 });
    topic.subscribe({
      name: "gone",
      endpoint: `http://127.0.0.1:${await closedPort()}/nothing-listens-here`,
      maxDeliveryAttempts: 2,
    });
    await client(topic).send([runEvent(1)]);
    await topic.idle();
    expect(topic.deliveries.filter((d) => d.subscription === "slow").map((d) => d.outcome)).toEqual([
      "timedOut",
      "delivered",
    ]);
    expect(topic.deliveries.filter((d) => d.subscription === "gone").map((d) => d.outcome)).toEqual([
      "networkError",
      "networkError",
    ]);
    expect(topic.deadLettered).toEqual([
      expect.objectContaining({ subscription: "gone", lastDeliveryOutcome: "networkError" }),
    ]);
  });

  it("delivers every event twice under the duplicateEveryDelivery fault", async () => {
    await start({ faults: { duplicateEveryDelivery: true } });
    topic.subscribe({ name: "patch-events", endpoint: subscriber.url });
    await client(topic).send([runEvent(1), runEvent(2)]);
    await topic.idle();
    const ids = subscriber
      .deliveries()
      .map((r) => parsedBody(r).id)
      .sort();
    expect(ids).toEqual(["evt-1", "evt-1", "evt-2", "evt-2"]);
    expect(topic.deliveries.filter((d) => d.duplicate)).toHaveLength(2);
    expect(topic.deadLettered).toEqual([]);
  });

  it("re-delivers an event the subscriber acknowledged under the failFirstAttempts fault (a lost ack)", async () => {
    await start({ faults: { failFirstAttempts: 1 } });
    topic.subscribe({ name: "patch-events", endpoint: subscriber.url });
    await client(topic).send([runEvent(1)]);
    await topic.idle();
    expect(subscriber.deliveries().map((r) => [parsedBody(r).id, header(r, "aeg-delivery-count")])).toEqual([
      ["evt-1", "0"],
      ["evt-1", "1"],
    ]);
    expect(topic.deliveries.map((d) => [d.status, d.outcome])).toEqual([
      [200, "ackLost"],
      [200, "delivered"],
    ]);
  });

  it("runs the CloudEvents webhook validation handshake before the first delivery", async () => {
    await start({}, (request) =>
      request.method === "OPTIONS"
        ? { status: 200, headers: { "WebHook-Allowed-Origin": "eventgrid.azure.net" } }
        : 200,
    );
    const subscription = topic.subscribe({ name: "validated", endpoint: subscriber.url, handshake: true });
    expect(subscription.validation).toBe("pending");
    await client(topic).send([runEvent(1), runEvent(2)]);
    await topic.idle();
    expect(subscriber.received.map((r) => r.method)).toEqual(["OPTIONS", "POST", "POST"]);
    expect(header(subscriber.received[0] as ReceivedRequest, "webhook-request-origin")).toBe("eventgrid.azure.net");
    expect(topic.subscriptions[0]).toMatchObject({ validation: "succeeded", validationError: undefined });
  });

  it("records a failed handshake and delivers nothing to that subscription", async () => {
    await start({}, () => 200);
    topic.subscribe({ name: "no-handshake", endpoint: subscriber.url, handshake: true, maxDeliveryAttempts: 2 });
    await client(topic).send([runEvent(1)]);
    await topic.idle();
    expect(subscriber.deliveries()).toEqual([]);
    expect(subscriber.received.map((r) => r.method)).toEqual(["OPTIONS", "OPTIONS"]);
    expect(topic.subscriptions[0]).toMatchObject({
      validation: "failed",
      validationError: expect.stringContaining("without a WebHook-Allowed-Origin header"),
    });
    expect(topic.deadLettered).toEqual([
      expect.objectContaining({ lastDeliveryOutcome: "handshakeFailed", deliveryAttempts: 2 }),
    ]);
    expect(messages.some((m) => m.startsWith("warn:") && m.includes("handshake"))).toBe(true);
  });
});
