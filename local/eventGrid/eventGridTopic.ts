import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { generateFleetCertificate } from "../fleet/certificate";
import { CloudEventSchema, describeIssues, type LocalCloudEvent } from "./cloudEventSchema";
import { WebhookClient, type WebhookResult } from "./webhookClient";
import { ServiceError } from "../serviceError";

/** Where the local topic writes what it does (the caller decides whether that reaches a console). */
export type TopicLog = (level: "info" | "warn" | "error", message: string) => void;

/** Event Grid's real retry schedule for webhook deliveries, for reference; it then retries every 12 to 24 hours. */
export const EVENT_GRID_RETRY_SCHEDULE_MS: readonly number[] = [
  10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000,
];

/** The default local schedule: Event Grid's shape, scaled down so a retried delivery lands within seconds. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [50, 200, 1000, 5000];

/** Event Grid's limit on a publish request and on each event in it (answered 413 beyond it). */
export const MAX_PUBLISH_BYTES = 1024 * 1024;

/** The api-version the topic's data plane answers (what EventGridPublisherClient sends). */
export const TOPIC_API_VERSION = "2018-01-01";

/** Webhook statuses Event Grid does not retry: the event is dead-lettered at once. */
export const NON_RETRIABLE_STATUSES: readonly number[] = [400, 401, 403, 413];

/** Faults the topic injects so tests can exercise at-least-once delivery. */
export interface EventGridFaults {
  /** Deliver every event a second time after its 2xx (Event Grid may deliver duplicates). */
  duplicateEveryDelivery?: boolean;
  /** Count the first N attempts of each event as failed even when the subscriber answered 2xx (a lost ack). */
  failFirstAttempts?: number;
}

/** How to start the local topic. */
export interface LocalEventGridTopicOptions {
  log?: TopicLog;
  /** Wait before delivery attempt n+1 is `retryDelaysMs[n]`; the last entry repeats. */
  retryDelaysMs?: readonly number[];
  /** How long a subscriber may take to answer before the attempt counts as failed (Event Grid waits 30 s). */
  deliveryTimeoutMs?: number;
  faults?: EventGridFaults;
  /** The topic's access key; a random 44-character base64 key (the shape Azure issues) when absent. */
  key?: string;
  /** Extra CA to trust when delivering to HTTPS subscribers. */
  subscriberCa?: string;
  host?: string;
  port?: number;
}

/** An event subscription with a webhook destination. */
export interface LocalEventSubscriptionOptions {
  /** 3-64 letters, digits and hyphens, as Event Grid requires. */
  name: string;
  /** The webhook the events are POSTed to (http or https). */
  endpoint: string;
  /** Only these event types are delivered (compared case-insensitively); all when absent. */
  includedEventTypes?: readonly string[];
  /** 1-30, Event Grid's range; 30 (its default) when absent. */
  maxDeliveryAttempts?: number;
  /** Run the CloudEvents webhook validation handshake (HTTP OPTIONS) before the first delivery. */
  handshake?: boolean;
}

/** A subscription as the topic holds it, with the outcome of its validation handshake. */
export interface LocalEventSubscription {
  readonly name: string;
  readonly endpoint: string;
  readonly includedEventTypes: readonly string[] | undefined;
  readonly maxDeliveryAttempts: number;
  readonly handshake: boolean;
  /** `notRequired` without `handshake`; `failed` keeps events from being delivered (each try is a failed attempt). */
  readonly validation: "notRequired" | "pending" | "succeeded" | "failed";
  readonly validationError: string | undefined;
}

/** How one delivery attempt ended. */
export type DeliveryOutcome = "delivered" | "ackLost" | "httpError" | "timedOut" | "networkError" | "handshakeFailed";

/** One delivery attempt, in the order attempts finished. */
export interface DeliveryRecord {
  readonly eventId: string;
  readonly eventType: string;
  readonly subscription: string;
  /** The `aeg-delivery-count` sent: 0 on the first attempt. */
  readonly attempt: number;
  /** A copy the `duplicateEveryDelivery` fault sent after the event was already delivered. */
  readonly duplicate: boolean;
  readonly status: number | undefined;
  readonly outcome: DeliveryOutcome;
  readonly error: string | undefined;
  readonly at: Date;
}

/** An event the topic gave up on for a subscription (the fields Event Grid puts on dead-lettered events). */
export interface DeadLetteredEvent {
  readonly event: LocalCloudEvent;
  readonly subscription: string;
  readonly deadLetterReason: "MaxDeliveryAttemptsExceeded" | "NonRetriableError";
  readonly deliveryAttempts: number;
  readonly lastDeliveryOutcome: DeliveryOutcome;
  readonly lastHttpStatusCode: number | undefined;
  readonly lastError: string;
  readonly publishedAt: Date;
  readonly deadLetteredAt: Date;
}

/** One request to the publish endpoint and how the topic answered it. */
export interface PublishRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly apiVersion: string | null;
  readonly contentType: string | undefined;
  readonly status: number;
  readonly events: number;
  readonly error: string | undefined;
  readonly at: Date;
}

/** A running local topic: its endpoint, key and CA, its subscriptions, and what it received and delivered. */
export interface LocalEventGridTopic {
  /** `https://127.0.0.1:PORT/api/events`, the shape of a real topic endpoint. */
  readonly endpoint: string;
  /** The `aeg-sas-key` the topic accepts. */
  readonly key: string;
  /** PEM of the topic's self-signed certificate, for the client's `tlsOptions.ca`. */
  readonly ca: string;
  readonly subscriptions: readonly LocalEventSubscription[];
  /** Every event the topic accepted, in arrival order. */
  readonly published: readonly LocalCloudEvent[];
  /** Every publish request, accepted or not. */
  readonly requests: readonly PublishRequestRecord[];
  readonly deliveries: readonly DeliveryRecord[];
  readonly deadLettered: readonly DeadLetteredEvent[];
  subscribe(options: LocalEventSubscriptionOptions): LocalEventSubscription;
  /** Removes a subscription; its queued retries are dropped. */
  unsubscribe(name: string): void;
  /** Resolves once nothing is queued, waiting for a retry, or in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const SubscriptionOptionsSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9-]{3,64}$/, "must be 3-64 letters, digits or hyphens"),
  endpoint: z.url({ protocol: /^https?$/, error: "must be an http or https URL" }),
  includedEventTypes: z.array(z.string().min(1)).min(1).readonly().optional(),
  maxDeliveryAttempts: z.number().int().min(1).max(30).optional(),
  handshake: z.boolean().optional(),
});

const BATCH_CONTENT_TYPE = "application/cloudevents-batch+json";
const SINGLE_CONTENT_TYPE = "application/cloudevents+json";
/** How much of an over-limit body is still read, so the 413 can say which event is too big. */
const MAX_READ_BYTES = 8 * MAX_PUBLISH_BYTES;
const VALIDATION_ORIGIN = "eventgrid.azure.net";

interface Subscription extends LocalEventSubscription {
  validation: LocalEventSubscription["validation"];
  validationError: string | undefined;
  /** The handshake in progress, shared by the deliveries waiting on it. */
  validating: Promise<string | undefined> | undefined;
  removed: boolean;
}

interface DeliveryJob {
  readonly event: LocalCloudEvent;
  readonly body: string;
  readonly subscription: Subscription;
  readonly publishedAt: Date;
  readonly duplicate: boolean;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
}

/** Starts an HTTPS Event Grid custom topic (CloudEvents 1.0 input schema) that delivers to webhook subscriptions. */
export async function startLocalEventGridTopic(options: LocalEventGridTopicOptions = {}): Promise<LocalEventGridTopic> {
  const log: TopicLog = options.log ?? (() => undefined);
  const retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  if (retryDelaysMs.length === 0 || retryDelaysMs.some((d) => !Number.isFinite(d) || d < 0)) {
    throw new Error("retryDelaysMs must hold at least one non-negative delay");
  }
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 30_000;
  const faults = options.faults ?? {};
  const key = options.key ?? randomBytes(32).toString("base64");
  const certificate = await generateFleetCertificate();
  const webhooks = new WebhookClient(options.subscriberCa);

  const subscriptions = new Map<string, Subscription>();
  const published: LocalCloudEvent[] = [];
  const requests: PublishRequestRecord[] = [];
  const deliveries: DeliveryRecord[] = [];
  const deadLettered: DeadLetteredEvent[] = [];
  const jobs = new Set<DeliveryJob>();
  let idleWaiters: (() => void)[] = [];
  let closed = false;

  function settleIdle(): void {
    if (jobs.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function finish(job: DeliveryJob): void {
    if (job.timer !== undefined) clearTimeout(job.timer);
    jobs.delete(job);
    settleIdle();
  }

  function enqueue(job: DeliveryJob, delayMs: number): void {
    jobs.add(job);
    // Unref'd: a test that forgets close() must not be held open by a pending retry.
    job.timer = setTimeout(() => {
      job.timer = undefined;
      void attempt(job);
    }, delayMs).unref();
  }

  function retryDelay(failedAttempt: number): number {
    return retryDelaysMs[Math.min(failedAttempt, retryDelaysMs.length - 1)] ?? 0;
  }

  /** Runs the handshake; resolves to why it failed, or undefined. */
  async function validate(subscription: Subscription): Promise<string | undefined> {
    const result = await webhooks.send({
      method: "OPTIONS",
      url: new URL(subscription.endpoint),
      headers: { "WebHook-Request-Origin": VALIDATION_ORIGIN, "WebHook-Request-Rate": "120" },
      timeoutMs: deliveryTimeoutMs,
    });
    let problem: string | undefined;
    if (result.kind !== "response") problem = result.error;
    else if (result.status !== 200) problem = `answered ${result.status}, not 200`;
    else {
      const allowed = result.headers["webhook-allowed-origin"];
      const origins = (Array.isArray(allowed) ? allowed.join(",") : (allowed ?? "")).split(",").map((o) => o.trim());
      if (!origins.includes(VALIDATION_ORIGIN) && !origins.includes("*")) {
        problem =
          allowed === undefined
            ? "answered 200 without a WebHook-Allowed-Origin header"
            : `WebHook-Allowed-Origin is '${origins.join(",")}', not '${VALIDATION_ORIGIN}'`;
      }
    }
    if (problem === undefined) {
      subscription.validation = "succeeded";
      subscription.validationError = undefined;
      log(
        "info",
        `event subscription ${subscription.name}: webhook validation handshake with ${subscription.endpoint} succeeded`,
      );
      return undefined;
    }
    const error = `webhook validation handshake (OPTIONS ${subscription.endpoint}) failed: ${problem}`;
    subscription.validation = "failed";
    subscription.validationError = error;
    log("warn", `event subscription ${subscription.name}: ${error}`);
    return error;
  }

  /** Runs the handshake once for concurrent deliveries; a failed one is tried again by the next attempt. */
  async function ensureValidated(subscription: Subscription): Promise<string | undefined> {
    if (!subscription.handshake || subscription.validation === "succeeded") return undefined;
    subscription.validating ??= validate(subscription).finally(() => {
      subscription.validating = undefined;
    });
    return subscription.validating;
  }

  function record(
    job: DeliveryJob,
    outcome: DeliveryOutcome,
    status: number | undefined,
    error: string | undefined,
  ): void {
    deliveries.push({
      eventId: job.event.id,
      eventType: job.event.type,
      subscription: job.subscription.name,
      attempt: job.attempt,
      duplicate: job.duplicate,
      status,
      outcome,
      error,
      at: new Date(),
    });
  }

  function classify(
    job: DeliveryJob,
    result: WebhookResult,
  ): { outcome: DeliveryOutcome; status: number | undefined; error: string | undefined } {
    if (result.kind !== "response") return { outcome: result.kind, status: undefined, error: result.error };
    if (result.status < 200 || result.status > 299)
      return { outcome: "httpError", status: result.status, error: `subscriber answered ${result.status}` };
    if (!job.duplicate && job.attempt < (faults.failFirstAttempts ?? 0)) {
      return {
        outcome: "ackLost",
        status: result.status,
        error: `fault: attempt ${job.attempt} counted as failed although the subscriber answered ${result.status}`,
      };
    }
    return { outcome: "delivered", status: result.status, error: undefined };
  }

  async function attempt(job: DeliveryJob): Promise<void> {
    const { subscription } = job;
    if (closed || subscription.removed) {
      finish(job);
      return;
    }
    let outcome: DeliveryOutcome;
    let status: number | undefined;
    let error: string | undefined;
    const handshakeProblem = await ensureValidated(subscription);
    if (handshakeProblem !== undefined) {
      outcome = "handshakeFailed";
      error = handshakeProblem;
    } else {
      const result = await webhooks.send({
        method: "POST",
        url: new URL(subscription.endpoint),
        headers: {
          "Content-Type": "application/cloudevents+json; charset=utf-8",
          "aeg-event-type": "Notification",
          // Event Grid sends the subscription name upper-cased.
          "aeg-subscription-name": subscription.name.toUpperCase(),
          "aeg-delivery-count": String(job.attempt),
          "aeg-metadata-version": job.event.specversion,
        },
        body: job.body,
        timeoutMs: deliveryTimeoutMs,
      });
      ({ outcome, status, error } = classify(job, result));
    }
    if (closed || subscription.removed) {
      finish(job);
      return;
    }
    record(job, outcome, status, error);
    const where = `event ${job.event.id} (${job.event.type}) to ${subscription.name}, attempt ${job.attempt}${job.duplicate ? " (duplicate)" : ""}`;

    if (outcome === "delivered") {
      log("info", `delivered ${where}: ${status}`);
      if (faults.duplicateEveryDelivery === true && !job.duplicate) {
        // The copy looks like the redelivery that follows a lost ack: same event, next delivery count.
        enqueue({ ...job, duplicate: true, attempt: job.attempt + 1, timer: undefined }, 0);
      }
      finish(job);
      return;
    }
    if (job.duplicate) {
      // The event was delivered already; a failed copy is not retried.
      log("warn", `duplicate ${where} failed (${error}); not retried`);
      finish(job);
      return;
    }
    const nonRetriable = outcome === "httpError" && status !== undefined && NON_RETRIABLE_STATUSES.includes(status);
    const attempts = job.attempt + 1;
    if (nonRetriable || attempts >= subscription.maxDeliveryAttempts) {
      deadLettered.push({
        event: job.event,
        subscription: subscription.name,
        deadLetterReason: nonRetriable ? "NonRetriableError" : "MaxDeliveryAttemptsExceeded",
        deliveryAttempts: attempts,
        lastDeliveryOutcome: outcome,
        lastHttpStatusCode: status,
        lastError: error ?? outcome,
        publishedAt: job.publishedAt,
        deadLetteredAt: new Date(),
      });
      log(
        "error",
        `dead-lettered ${where}: ${nonRetriable ? `status ${status} is not retried` : `${attempts} attempts failed`}; last error: ${error}`,
      );
      finish(job);
      return;
    }
    const delay = retryDelay(job.attempt);
    log("warn", `${where} failed (${error}); retrying in ${delay} ms`);
    job.attempt = attempts;
    enqueue(job, delay);
  }

  function accept(events: LocalCloudEvent[]): void {
    const publishedAt = new Date();
    for (const event of events) {
      published.push(event);
      const body = JSON.stringify(event);
      for (const subscription of subscriptions.values()) {
        const types = subscription.includedEventTypes;
        if (types !== undefined && !types.some((t) => t.toLowerCase() === event.type.toLowerCase())) continue;
        enqueue({ event, body, subscription, publishedAt, duplicate: false, attempt: 0, timer: undefined }, 0);
      }
    }
    log("info", `accepted ${events.length} event(s) for ${subscriptions.size} subscription(s)`);
  }

  function checkKey(req: IncomingMessage): void {
    const given = req.headers["aeg-sas-key"];
    if (typeof given === "string") {
      const a = Buffer.from(given);
      const b = Buffer.from(key);
      if (a.length === b.length && timingSafeEqual(a, b)) return;
      throw new ServiceError(
        401,
        "Unauthorized",
        "The request authorization key is not authorized for this topic (aeg-sas-key does not match).",
      );
    }
    const other =
      req.headers["aeg-sas-token"] !== undefined
        ? "aeg-sas-token"
        : req.headers.authorization !== undefined
          ? "Authorization"
          : undefined;
    throw new ServiceError(
      401,
      "Unauthorized",
      other === undefined
        ? "Request must contain one of the following authorization signature: aeg-sas-token, aeg-sas-key."
        : `The local topic accepts only its aeg-sas-key; the request sent ${other}.`,
    );
  }

  /** Parses the body into events: 400 for what is not CloudEvents 1.0, 413 for what is over Event Grid's size limits. */
  function parseEvents(contentType: string, text: string, size: number): LocalCloudEvent[] {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new ServiceError(
        400,
        "BadRequest",
        `The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const batch = contentType === BATCH_CONTENT_TYPE;
    if (batch && !Array.isArray(body))
      throw new ServiceError(400, "BadRequest", `A ${BATCH_CONTENT_TYPE} body must be a JSON array of CloudEvents.`);
    if (!batch && (typeof body !== "object" || body === null || Array.isArray(body))) {
      throw new ServiceError(
        400,
        "BadRequest",
        `A ${SINGLE_CONTENT_TYPE} body must be one CloudEvent (a JSON object).`,
      );
    }
    const items: unknown[] = batch ? (body as unknown[]) : [body];
    const label = (index: number): string => (batch ? `events[${index}]` : "event");
    const oversized = items
      .map((item, index) => ({ index, bytes: Buffer.byteLength(JSON.stringify(item)) }))
      .filter((e) => e.bytes > MAX_PUBLISH_BYTES)
      .map((e) => `${label(e.index)} is ${e.bytes} bytes`);
    if (oversized.length > 0) {
      throw new ServiceError(
        413,
        "PayloadTooLarge",
        `An event may be at most ${MAX_PUBLISH_BYTES} bytes: ${oversized.join("; ")}.`,
      );
    }
    if (size > MAX_PUBLISH_BYTES)
      throw new ServiceError(
        413,
        "PayloadTooLarge",
        `The request body is ${size} bytes; a publish request may be at most ${MAX_PUBLISH_BYTES} bytes.`,
      );
    if (items.length === 0) throw new ServiceError(400, "BadRequest", "The batch holds no events.");
    const events: LocalCloudEvent[] = [];
    const problems: string[] = [];
    items.forEach((item, index) => {
      const parsed = CloudEventSchema.safeParse(item);
      if (parsed.success) events.push(parsed.data);
      else problems.push(describeIssues(parsed.error.issues, label(index)));
    });
    if (problems.length > 0)
      throw new ServiceError(400, "BadRequest", `The events are not valid CloudEvents 1.0: ${problems.join("; ")}`);
    return events;
  }

  async function readBody(req: IncomingMessage): Promise<{ text: string; size: number }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size <= MAX_READ_BYTES) chunks.push(buffer);
    }
    return { text: Buffer.concat(chunks).toString("utf8"), size };
  }

  async function handle(req: IncomingMessage, url: URL): Promise<number> {
    const { text, size } = await readBody(req);
    if (url.pathname.replace(/\/+$/, "").toLowerCase() !== "/api/events")
      throw new ServiceError(404, "NotFound", `No resource at ${url.pathname}; the topic endpoint is /api/events.`);
    if (req.method !== "POST")
      throw new ServiceError(405, "MethodNotAllowed", `${req.method} is not supported; publish with POST.`);
    checkKey(req);
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion !== TOPIC_API_VERSION) {
      throw new ServiceError(
        400,
        "BadRequest",
        apiVersion === null
          ? `The api-version query parameter is required (${TOPIC_API_VERSION}).`
          : `The api-version '${apiVersion}' is not supported; use ${TOPIC_API_VERSION}.`,
      );
    }
    const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (contentType !== BATCH_CONTENT_TYPE && contentType !== SINGLE_CONTENT_TYPE) {
      throw new ServiceError(
        415,
        "UnsupportedMediaType",
        `The topic takes the CloudEvents 1.0 schema: Content-Type must be ${BATCH_CONTENT_TYPE} or ${SINGLE_CONTENT_TYPE}, not '${req.headers["content-type"] ?? ""}'.`,
      );
    }
    if (size > MAX_READ_BYTES)
      throw new ServiceError(
        413,
        "PayloadTooLarge",
        `The request body is ${size} bytes; a publish request may be at most ${MAX_PUBLISH_BYTES} bytes.`,
      );
    const events = parseEvents(contentType, text, size);
    accept(events);
    return events.length;
  }

  function send(res: ServerResponse, status: number, body: unknown): void {
    const headers: Record<string, string> = { "x-ms-request-id": randomUUID() };
    if (body === undefined) {
      res.writeHead(status, { ...headers, "Content-Length": "0" }).end();
      return;
    }
    const text = JSON.stringify(body);
    res
      .writeHead(status, {
        ...headers,
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": String(Buffer.byteLength(text)),
      })
      .end(text);
  }

  const server = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://localhost");
    const base = {
      method: req.method ?? "",
      path: url.pathname,
      apiVersion: url.searchParams.get("api-version"),
      contentType: req.headers["content-type"],
      at: new Date(),
    };
    handle(req, url).then(
      (count) => {
        requests.push({ ...base, status: 200, events: count, error: undefined });
        // Event Grid answers a successful publish with 200 and an empty body.
        send(res, 200, undefined);
      },
      (error: unknown) => {
        const problem =
          error instanceof ServiceError
            ? error
            : new ServiceError(500, "InternalServerError", error instanceof Error ? error.message : String(error));
        requests.push({ ...base, status: problem.status, events: 0, error: problem.message });
        log(problem.status >= 500 ? "error" : "warn", `publish refused with ${problem.status}: ${problem.message}`);
        send(res, problem.status, { error: { code: problem.code, message: problem.message } });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const endpoint = `https://${host}:${address.port}/api/events`;
  log("info", `local Event Grid topic listening at ${endpoint}`);

  return {
    endpoint,
    key,
    ca: certificate.cert,
    get subscriptions() {
      return [...subscriptions.values()];
    },
    published,
    requests,
    deliveries,
    deadLettered,
    subscribe(subscriptionOptions) {
      const parsed = SubscriptionOptionsSchema.safeParse(subscriptionOptions);
      if (!parsed.success)
        throw new Error(`invalid event subscription: ${describeIssues(parsed.error.issues, "subscription")}`);
      const o = parsed.data;
      if (subscriptions.has(o.name.toLowerCase())) throw new Error(`event subscription ${o.name} already exists`);
      const handshake = o.handshake ?? false;
      const subscription: Subscription = {
        name: o.name,
        endpoint: o.endpoint,
        includedEventTypes: o.includedEventTypes,
        maxDeliveryAttempts: o.maxDeliveryAttempts ?? 30,
        handshake,
        validation: handshake ? "pending" : "notRequired",
        validationError: undefined,
        validating: undefined,
        removed: false,
      };
      // Event Grid subscription names are case-insensitive.
      subscriptions.set(o.name.toLowerCase(), subscription);
      log("info", `event subscription ${o.name} -> ${o.endpoint}`);
      return subscription;
    },
    unsubscribe(name) {
      const subscription = subscriptions.get(name.toLowerCase());
      if (subscription === undefined) throw new Error(`no event subscription ${name}`);
      subscription.removed = true;
      subscriptions.delete(name.toLowerCase());
      for (const job of [...jobs]) if (job.subscription === subscription && job.timer !== undefined) finish(job);
    },
    idle() {
      if (jobs.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      closed = true;
      for (const job of jobs) if (job.timer !== undefined) clearTimeout(job.timer);
      jobs.clear();
      webhooks.close();
      settleIdle();
      await new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
