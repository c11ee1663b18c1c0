import { randomUUID } from "node:crypto";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { RunCommandParameterSchema } from "../../lib/device/parameters";
import {
  arcMachineId,
  arcMachineJson,
  runCommandJson,
  scaleSetJson,
  scaleSetVmJson,
  vmId,
  vmInstanceViewJson,
  vmssVmId,
} from "./armResources";
import { DISK_API_VERSIONS, DiskStore, diskRoutes } from "./arm/disks";
import { networkRoutes } from "./arm/network";
import { generateFleetCertificate } from "./certificate";
import type { ArmBehaviour, Fleet, FleetClock, SimulatedDevice } from "./contract";
import { LocalFleetCredential } from "./localCredential";
import { answerResourceGraph } from "./resourceGraph";
import { RunCommandEngine, type EngineTiming, type RunCommandRecord } from "./runCommandEngine";
import { armOperationKind, TokenBucket, type ArmOperationKind } from "./tokenBucket";
import { ServiceError } from "../serviceError";

/** api-versions the emulator answers, per provider: the GA ones PatchPilot and its SDKs send. */
export const API_VERSIONS = {
  hybridCompute: ["2021-05-20", "2025-01-13"],
  // + DiskRP's (disks, snapshots: local/fleet/arm/disks.ts).
  compute: ["2024-07-01", "2024-11-01", "2025-04-01", "2026-04-01", ...DISK_API_VERSIONS],
  resourceGraph: ["2024-04-01"],
  network: ["2024-05-01", "2026-01-01"],
} as const;

/** Resource Graph's per-user quota: 15 queries per 5-second window (documented), as a bucket. */
const RESOURCE_GRAPH_QUOTA = { capacity: 15, refillPerSecond: 3 };

/** How to start the emulator. */
export interface FleetEmulatorOptions {
  fleet: Fleet;
  clock: FleetClock;
  /** Overrides of the scenario's ARM knobs (tests: small buckets; benchmark: no latency). */
  arm?: Partial<ArmBehaviour>;
  timing?: Partial<EngineTiming>;
  host?: string;
  port?: number;
  /** Source of randomness for transient 500s (tests make it deterministic). */
  random?: () => number;
}

/** A running emulator: where it listens, the CA to trust, a credential it accepts. */
export interface FleetEmulator {
  readonly endpoint: string;
  /** PEM certificate to pass as the SDK pipeline's `tlsOptions.ca`. */
  readonly ca: string;
  readonly credential: LocalFleetCredential;
  readonly engine: RunCommandEngine;
  /** 429s answered per subscription bucket kind since the emulator started (benchmarks print them). */
  readonly throttled: Readonly<Record<ArmOperationKind, number>>;
  /** Calls `listener` with every request and the answer sent (conformance tests); returns the unsubscribe function. */
  onExchange(listener: (exchange: ArmExchange) => void): () => void;
  close(): Promise<void>;
}

/** One request to the emulator and its answer, as JSON (bodies undefined when empty). */
export interface ArmExchange {
  method: string;
  /** Path and query as received. */
  url: string;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

const PutRunCommandSchema = z.object({
  location: z.string().min(1, "is required"),
  properties: z.object({
    source: z.object({ script: z.string().min(1) }),
    parameters: z.array(RunCommandParameterSchema).nullish(),
    asyncExecution: z.boolean().nullish(),
    timeoutInSeconds: z.number().int().min(0).nullish(),
    outputBlobUri: z.url().nullish(),
    errorBlobUri: z.url().nullish(),
  }),
});

/** Linux agents reject run-command names longer than this; ARM's naming rules otherwise. */
const RUN_COMMAND_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/;

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Context {
  method: string;
  url: URL;
  base: string;
  body: unknown;
  match: string[];
}

type Handler = (ctx: Context) => Promise<Reply> | Reply;

const S = "/subscriptions/([^/]+)";
const RG = "/resourceGroups/([^/]+)";
const HC = "/providers/Microsoft\\.HybridCompute";
const CP = "/providers/Microsoft\\.Compute";
const VMSS = `${S}${RG}${CP}/virtualMachineScaleSets/([^/]+)`;
const route = (pattern: string): RegExp => new RegExp(`^${pattern}$`, "i");

/** Starts the HTTPS ARM emulator over a fleet. */
export async function startFleetEmulator(options: FleetEmulatorOptions): Promise<FleetEmulator> {
  const { fleet, clock } = options;
  const arm: ArmBehaviour = { ...fleet.arm, ...options.arm };
  const random = options.random ?? Math.random;
  const engine = new RunCommandEngine(clock, { agentPickupMs: 1000, deleteDelayMs: 2000, ...options.timing });
  const certificate = await generateFleetCertificate();

  const lower = (...parts: string[]): string => parts.join("|").toLowerCase();
  const arcIndex = new Map<string, SimulatedDevice>();
  const vmssIndex = new Map<string, SimulatedDevice>();
  const vmIndex = new Map<string, SimulatedDevice>();
  const byName = new Map<string, SimulatedDevice>();
  for (const device of fleet.devices) {
    const p = device.placement;
    byName.set(device.name, device);
    if (device.kind === "arc")
      arcIndex.set(lower(p.subscriptionId, p.resourceGroup, p.arc?.machineName ?? device.name), device);
    else if (p.vm !== undefined) vmIndex.set(lower(p.subscriptionId, p.resourceGroup, p.vm.vmName), device);
    else if (p.vmss !== undefined)
      vmssIndex.set(lower(p.subscriptionId, p.resourceGroup, p.vmss.scaleSetName, p.vmss.instanceId), device);
  }
  for (const preexisting of fleet.preexistingRunCommands) {
    const device = byName.get(preexisting.device);
    if (device === undefined)
      throw new Error(`preexisting run command ${preexisting.runCommandName}: no device ${preexisting.device}`);
    engine.seed(device, preexisting);
  }

  // One bucket per subscription and kind: the emulator is one region, and PatchPilot calls as one principal.
  const buckets = new Map<string, TokenBucket>();
  const throttledCount: Record<ArmOperationKind, number> = { reads: 0, writes: 0, deletes: 0 };
  const bucketNow =
    arm.throttlingClock === "fleet" ? (): number => clock.now().getTime() : (): number => performance.now();
  function throttle(subscriptionId: string, method: string): Record<string, string> {
    let kind = armOperationKind(method);
    // A scenario or test that sizes only reads and writes counts DELETEs as writes (the emulator's earlier model).
    const limits = kind === "deletes" ? arm.throttling.deletes : arm.throttling[kind];
    if (limits === undefined) kind = "writes";
    const { capacity, refillPerSecond } = limits ?? arm.throttling.writes;
    const key = `${subscriptionId.toLowerCase()}|${kind}`;
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(capacity, refillPerSecond, bucketNow);
      buckets.set(key, bucket);
    }
    const taken = bucket.take();
    if (!taken.ok) {
      throttledCount[kind] += 1;
      throw new ServiceError(
        429,
        "TooManyRequests",
        `The request was throttled: the subscription's ${kind} budget is spent.`,
        {
          "Retry-After": String(taken.retryAfterSeconds),
        },
      );
    }
    return { [`x-ms-ratelimit-remaining-subscription-${kind}`]: String(taken.remaining) };
  }
  function paged(ctx: Context, items: readonly unknown[]): Reply {
    const skip = Number(ctx.url.searchParams.get("$skiptoken") ?? "0");
    const size = Math.max(1, arm.pageSize);
    let nextLink: string | null = null;
    if (skip + size < items.length) {
      const next = new URL(ctx.url.toString());
      next.searchParams.set("$skiptoken", String(skip + size));
      // ARM writes `$skiptoken` unescaped in its nextLinks.
      nextLink = `${ctx.base}${next.pathname}${next.search.replace(/%24/g, "$")}`;
    }
    return { status: 200, body: { value: items.slice(skip, skip + size), nextLink } };
  }

  /** The device a route names, advanced to now; ARM's 404 body when there is none. */
  const found = (device: SimulatedDevice | undefined, resource: string, resourceGroup: string | undefined) => {
    if (device === undefined)
      throw new ServiceError(
        404,
        "ResourceNotFound",
        `The Resource '${resource}' under resource group '${resourceGroup}' was not found.`,
      );
    engine.advance(device);
    return device;
  };
  const arcDevice = (m: string[]): SimulatedDevice =>
    found(arcIndex.get(lower(m[1] ?? "", m[2] ?? "", m[3] ?? "")), `Microsoft.HybridCompute/machines/${m[3]}`, m[2]);
  const vmssDevice = (m: string[]): SimulatedDevice =>
    found(
      vmssIndex.get(lower(m[1] ?? "", m[2] ?? "", m[3] ?? "", m[4] ?? "")),
      `Microsoft.Compute/virtualMachineScaleSets/${m[3]}/virtualMachines/${m[4]}`,
      m[2],
    );
  const vmDevice = (m: string[]): SimulatedDevice =>
    found(vmIndex.get(lower(m[1] ?? "", m[2] ?? "", m[3] ?? "")), `Microsoft.Compute/virtualMachines/${m[3]}`, m[2]);
  const inScope = (
    device: { subscriptionId: string; resourceGroup: string },
    sub: string,
    rg: string | undefined,
  ): boolean =>
    device.subscriptionId.toLowerCase() === sub.toLowerCase() &&
    (rg === undefined || device.resourceGroup.toLowerCase() === rg.toLowerCase());

  async function runCommandReply(
    record: RunCommandRecord,
    parentId: string,
    type: string,
    instanceView: boolean,
    status = 200,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    engine.view(record);
    // A terminal state is reported only once the output is in the blobs, as the agent uploads before it reports.
    await engine.settled(record);
    return { status, headers, body: runCommandJson(engine, record, parentId, type, instanceView) };
  }

  function operationUrl(
    ctx: Context,
    provider: "HybridCompute" | "Compute",
    subscriptionId: string,
    location: string,
    id: string,
  ): string {
    return provider === "HybridCompute"
      ? `${ctx.base}/subscriptions/${subscriptionId}/providers/Microsoft.HybridCompute/locations/${location}/operationStatus/${id}?api-version=2025-01-13`
      : `${ctx.base}/subscriptions/${subscriptionId}/providers/Microsoft.Compute/locations/${location}/operations/${id}?api-version=2026-04-01`;
  }

  function runCommandRoutes(
    provider: "HybridCompute" | "Compute",
    parent: string,
    deviceOf: (m: string[]) => SimulatedDevice,
    parentIdOf: (d: SimulatedDevice) => string,
    type: string,
    nameIndex: number,
  ): [string, RegExp, Handler][] {
    // HybridCompute 2025-01-13 defines no `$expand` on run-command GET/list and its examples (RunCommands_Get,
    // RunCommands_List) always carry the instance view; Compute (VM and VMSS VM) run commands return it only with
    // `$expand=instanceView` (the parameter its spec defines).
    const expand = (ctx: Context): boolean =>
      provider === "HybridCompute" || ctx.url.searchParams.get("$expand")?.toLowerCase() === "instanceview";
    return [
      [
        "GET",
        route(`${parent}/runCommands`),
        async (ctx) => {
          const device = deviceOf(ctx.match);
          const records = engine.list(device);
          for (const record of records) engine.view(record);
          await Promise.all(records.map((record) => engine.settled(record)));
          return paged(
            ctx,
            records.map((record) => runCommandJson(engine, record, parentIdOf(device), type, expand(ctx))),
          );
        },
      ],
      [
        "GET",
        route(`${parent}/runCommands/([^/]+)`),
        async (ctx) => {
          const device = deviceOf(ctx.match);
          const name = ctx.match[nameIndex] ?? "";
          const record = engine.find(device, name);
          if (record === undefined)
            throw new ServiceError(404, "ResourceNotFound", `The run command '${name}' was not found.`);
          return runCommandReply(record, parentIdOf(device), type, expand(ctx));
        },
      ],
      [
        "PUT",
        route(`${parent}/runCommands/([^/]+)`),
        async (ctx) => {
          const device = deviceOf(ctx.match);
          const name = ctx.match[nameIndex] ?? "";
          if (!RUN_COMMAND_NAME.test(name))
            throw new ServiceError(
              400,
              "InvalidParameter",
              `Run command name '${name}' must be 1-36 letters, digits, '-', '_' or '.'.`,
            );
          const parsed = PutRunCommandSchema.safeParse(ctx.body);
          if (!parsed.success) {
            throw new ServiceError(
              400,
              "InvalidRequestContent",
              parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
            );
          }
          const p = parsed.data.properties;
          const { record, created } = engine.put(device, name, {
            location: parsed.data.location,
            script: p.source.script,
            parameters: p.parameters ?? [],
            asyncExecution: p.asyncExecution ?? false,
            timeoutInSeconds: p.timeoutInSeconds ?? 0,
            outputBlobUri: p.outputBlobUri ?? undefined,
            errorBlobUri: p.errorBlobUri ?? undefined,
          });
          const op = operationUrl(
            ctx,
            provider,
            device.placement.subscriptionId,
            device.placement.location,
            record.operationId,
          );
          const headers: Record<string, string> = created
            ? { "Azure-AsyncOperation": op, Location: op, "Retry-After": "5" }
            : {};
          return runCommandReply(record, parentIdOf(device), type, false, created ? 201 : 200, headers);
        },
      ],
      [
        "DELETE",
        route(`${parent}/runCommands/([^/]+)`),
        (ctx) => {
          const device = deviceOf(ctx.match);
          const outcome = engine.delete(device, ctx.match[nameIndex] ?? "");
          // HybridCompute's DELETE answers 202 or 204 only; Compute's also 200 for a synchronous delete.
          if (outcome.status !== "deleting")
            return { status: outcome.status === "missing" || provider === "HybridCompute" ? 204 : 200 };
          const op = operationUrl(
            ctx,
            provider,
            device.placement.subscriptionId,
            device.placement.location,
            outcome.operationId,
          );
          return { status: 202, headers: { "Azure-AsyncOperation": op, Location: op, "Retry-After": "2" } };
        },
      ],
    ];
  }

  function operationRoute(pattern: string): [string, RegExp, Handler] {
    return [
      "GET",
      route(pattern),
      (ctx) => {
        const id = ctx.match[3] ?? "";
        const op = engine.operation(id);
        if (op === undefined) throw new ServiceError(404, "OperationNotFound", `Operation ${id} was not found.`);
        return {
          status: 200,
          body: {
            id: ctx.url.pathname,
            name: id,
            status: op.status,
            startTime: op.startTime.toISOString(),
            endTime: op.endTime === null ? null : op.endTime.toISOString(),
            error: op.error === undefined ? null : { code: "RunCommandFailed", message: op.error },
          },
        };
      },
    ];
  }

  const routes: [string, RegExp, Handler][] = [
    [
      "GET",
      route(`${S}${HC}/machines`),
      (ctx) =>
        paged(
          ctx,
          fleet.devices
            .filter((d) => d.kind === "arc" && inScope(d.placement, ctx.match[1] ?? "", undefined))
            .map((d) => (engine.advance(d), arcMachineJson(d, clock))),
        ),
    ],
    [
      "GET",
      route(`${S}${RG}${HC}/machines`),
      (ctx) =>
        paged(
          ctx,
          fleet.devices
            .filter((d) => d.kind === "arc" && inScope(d.placement, ctx.match[1] ?? "", ctx.match[2]))
            .map((d) => (engine.advance(d), arcMachineJson(d, clock))),
        ),
    ],
    [
      "GET",
      route(`${S}${RG}${HC}/machines/([^/]+)`),
      (ctx) => ({ status: 200, body: arcMachineJson(arcDevice(ctx.match), clock) }),
    ],
    ...runCommandRoutes(
      "HybridCompute",
      `${S}${RG}${HC}/machines/([^/]+)`,
      arcDevice,
      arcMachineId,
      "Microsoft.HybridCompute/machines/runCommands",
      4,
    ),
    operationRoute(`${S}${HC}/locations/([^/]+)/operationStatus/([^/]+)`),
    [
      "GET",
      route(`${S}${CP}/virtualMachineScaleSets`),
      (ctx) => paged(ctx, fleet.scaleSets.filter((s) => inScope(s, ctx.match[1] ?? "", undefined)).map(scaleSetJson)),
    ],
    [
      "GET",
      route(`${S}${RG}${CP}/virtualMachineScaleSets`),
      (ctx) =>
        paged(ctx, fleet.scaleSets.filter((s) => inScope(s, ctx.match[1] ?? "", ctx.match[2])).map(scaleSetJson)),
    ],
    [
      "GET",
      route(`${VMSS}/virtualMachines`),
      (ctx) => {
        const scaleSet = fleet.scaleSets.find(
          (s) =>
            inScope(s, ctx.match[1] ?? "", ctx.match[2]) && s.name.toLowerCase() === (ctx.match[3] ?? "").toLowerCase(),
        );
        if (scaleSet === undefined)
          throw new ServiceError(
            404,
            "ResourceNotFound",
            `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${ctx.match[3]}' was not found.`,
          );
        const expand = ctx.url.searchParams.get("$expand")?.toLowerCase() === "instanceview";
        const devices = scaleSet.instances
          .map((name) => byName.get(name))
          .filter((d): d is SimulatedDevice => d !== undefined);
        return paged(
          ctx,
          devices.map((d) => (engine.advance(d), scaleSetVmJson(d, clock, expand))),
        );
      },
    ],
    ...runCommandRoutes(
      "Compute",
      `${VMSS}/virtualMachines/([^/]+)`,
      vmssDevice,
      vmssVmId,
      "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands",
      5,
    ),
    [
      "GET",
      route(`${VMSS}/virtualMachines/([^/]+)/instanceView`),
      (ctx) => ({ status: 200, body: vmInstanceViewJson(vmssDevice(ctx.match), clock) }),
    ],
    [
      "GET",
      route(`${S}${RG}${CP}/virtualMachines/([^/]+)/instanceView`),
      (ctx) => ({ status: 200, body: vmInstanceViewJson(vmDevice(ctx.match), clock) }),
    ],
    ...runCommandRoutes(
      "Compute",
      `${S}${RG}${CP}/virtualMachines/([^/]+)`,
      vmDevice,
      vmId,
      "Microsoft.Compute/virtualMachines/runCommands",
      4,
    ),
    operationRoute(`${S}${CP}/locations/([^/]+)/operations/([^/]+)`),
    // Issue 20: disks, snapshots, the VM model, its OS-disk swap, deallocate and start (local/fleet/arm/disks.ts).
    ...diskRoutes(new DiskStore(clock), { clock, vmDevice, vmssDevice }, paged),
    ...networkRoutes(fleet.network, clock),
  ];

  async function handle(
    req: IncomingMessage,
    base: string,
    received: { text: string },
  ): Promise<Reply & { headers: Record<string, string> }> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", base);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.text = Buffer.concat(chunks).toString("utf8");
    if (arm.latencyMs > 0) await sleep(arm.latencyMs);
    const auth = req.headers.authorization;
    if (auth === undefined || !/^Bearer \S+/.test(auth)) {
      throw new ServiceError(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
        {
          "WWW-Authenticate":
            'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"',
        },
      );
    }
    if (/^\/providers\/Microsoft\.ResourceGraph\/resources\/?$/i.test(url.pathname))
      return resourceGraph(method, url, Buffer.concat(chunks).toString("utf8"));
    const subscription = /^\/subscriptions\/([^/]+)/i.exec(url.pathname)?.[1];
    if (subscription === undefined) throw new ServiceError(404, "InvalidResourceType", `No route for ${url.pathname}.`);
    const rateHeaders = throttle(subscription, method);
    if (arm.transientErrorRate > 0 && random() < arm.transientErrorRate) {
      throw new ServiceError(500, "InternalServerError", "Encountered internal server error. Please try again.");
    }
    const apiVersion = url.searchParams.get("api-version");
    const provider = /Microsoft\.HybridCompute/i.test(url.pathname)
      ? "hybridCompute"
      : /Microsoft\.Network/i.test(url.pathname)
        ? "network"
        : "compute";
    if (apiVersion === null)
      throw new ServiceError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
      );
    if (!(API_VERSIONS[provider] as readonly string[]).includes(apiVersion)) {
      throw new ServiceError(
        400,
        "InvalidApiVersionParameter",
        `The api-version '${apiVersion}' is invalid. The supported versions are '${API_VERSIONS[provider].join(",")}'.`,
      );
    }
    const path = decodeURIComponent(url.pathname).replace(/\/+$/, "");
    let methodAllowed = false;
    for (const [routeMethod, pattern, handler] of routes) {
      const match = pattern.exec(path);
      if (match === null) continue;
      if (routeMethod !== method) {
        methodAllowed = true;
        continue;
      }
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        throw new ServiceError(
          400,
          "InvalidRequestContent",
          "The request content was invalid and could not be deserialized.",
        );
      }
      const reply = await handler({ method, url, base, body, match: [...match] });
      return { ...reply, headers: { ...rateHeaders, ...reply.headers } };
    }
    if (methodAllowed) throw new ServiceError(405, "MethodNotAllowed", `${method} is not supported on ${path}.`);
    throw new ServiceError(404, "ResourceNotFound", `No resource at ${path}.`);
  }

  // Tenant-level: no subscription in the path, its own per-user quota (x-ms-user-quota-* headers, as ARG sends).
  const graphQuota = new TokenBucket(RESOURCE_GRAPH_QUOTA.capacity, RESOURCE_GRAPH_QUOTA.refillPerSecond);
  function resourceGraph(method: string, url: URL, text: string): Reply & { headers: Record<string, string> } {
    if (method !== "POST")
      throw new ServiceError(405, "MethodNotAllowed", `${method} is not supported on ${url.pathname}.`);
    const apiVersion = url.searchParams.get("api-version");
    if (!(API_VERSIONS.resourceGraph as readonly string[]).includes(apiVersion ?? "")) {
      throw new ServiceError(
        400,
        "InvalidApiVersionParameter",
        `The api-version '${apiVersion ?? ""}' is invalid. The supported versions are '${API_VERSIONS.resourceGraph.join(",")}'.`,
      );
    }
    const taken = graphQuota.take();
    if (!taken.ok) {
      throw new ServiceError(
        429,
        "RateLimiting",
        "Please provide below info when asking for support: quota exceeded.",
        {
          "Retry-After": String(taken.retryAfterSeconds),
          "x-ms-user-quota-remaining": "0",
          "x-ms-user-quota-resets-after": `00:00:0${Math.min(9, taken.retryAfterSeconds)}`,
        },
      );
    }
    if (arm.transientErrorRate > 0 && random() < arm.transientErrorRate) {
      throw new ServiceError(500, "InternalServerError", "Encountered internal server error. Please try again.");
    }
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw new ServiceError(
        400,
        "InvalidRequestContent",
        "The request content was invalid and could not be deserialized.",
      );
    }
    const reply = answerResourceGraph(fleet, clock, body, arm.pageSize);
    return {
      ...reply,
      headers: { "x-ms-user-quota-remaining": String(taken.remaining), "x-ms-user-quota-resets-after": "00:00:05" },
    };
  }

  const exchangeListeners = new Set<(exchange: ArmExchange) => void>();
  function send(res: ServerResponse, reply: Reply, req?: IncomingMessage, requestText = ""): void {
    if (req !== undefined && exchangeListeners.size > 0) {
      let requestBody: unknown;
      try {
        requestBody = requestText === "" ? undefined : JSON.parse(requestText);
      } catch {
        requestBody = requestText;
      }
      const exchange: ArmExchange = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        requestBody,
        status: reply.status,
        responseBody: reply.body === undefined ? undefined : (JSON.parse(JSON.stringify(reply.body)) as unknown),
      };
      for (const listener of exchangeListeners) listener(exchange);
    }
    const headers: Record<string, string> = { "x-ms-request-id": randomUUID(), ...reply.headers };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    const text = JSON.stringify(reply.body);
    res
      .writeHead(reply.status, {
        ...headers,
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": String(Buffer.byteLength(text)),
      })
      .end(text);
  }

  const server = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const base = `https://${req.headers.host ?? "localhost"}`;
    const received = { text: "" };
    handle(req, base, received).then(
      (reply) => send(res, reply, req, received.text),
      (error: unknown) => {
        if (error instanceof ServiceError) {
          send(
            res,
            {
              status: error.status,
              headers: error.headers,
              body: { error: { code: error.code, message: error.message } },
            },
            req,
            received.text,
          );
        } else {
          send(
            res,
            {
              status: 500,
              body: {
                error: {
                  code: "InternalServerError",
                  message: error instanceof Error ? error.message : String(error),
                },
              },
            },
            req,
            received.text,
          );
        }
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    endpoint: `https://${host}:${address.port}`,
    ca: certificate.cert,
    credential: new LocalFleetCredential(),
    engine,
    throttled: throttledCount,
    onExchange(listener) {
      exchangeListeners.add(listener);
      return () => exchangeListeners.delete(listener);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
