import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { eventTypeName, type StoredEvent } from "./historyEvent";
import { HttpProblem, parseJsonBody, readBody, sendJson, sendProblem } from "./httpProblem";
import { InstanceExistsError, InstanceNotFoundError, UnknownFunctionError } from "./engineErrors";
import type { OrchestrationEngine } from "./orchestrationEngine";
import { runtimeStatusSchema, type InstanceRecord } from "./taskHubStore";

/** The path under which the RPC API is served; DurableClient resolves its routes against it. */
export const RPC_BASE_PATH = "/durabletask/";

// Instance ids: what Azure accepts (no control characters, no '/', '\', '#', '?'), at most 256 characters.
const instanceIdSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((id) => !/[/\\#?]/.test(id) && ![...id].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
    message: "instance ids may not contain / \\ # ? or control characters",
  });
const functionNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,127}$/, "not a function name");
const booleanFlag = z.enum(["true", "false"]).transform((v) => v === "true");
const statusQuerySchema = z.object({
  showHistory: booleanFlag.optional(),
  showHistoryOutput: booleanFlag.optional(),
  showInput: booleanFlag.optional(),
});
const listQuerySchema = z.object({
  createdTimeFrom: z.iso.datetime().optional(),
  createdTimeTo: z.iso.datetime().optional(),
  runtimeStatus: z
    .string()
    .transform((s) => s.split(",").filter((x) => x !== ""))
    .pipe(z.array(runtimeStatusSchema))
    .optional(),
});

function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpProblem(400, "Bad Request", `${what}: ${z.prettifyError(result.error)}`);
  return result.data;
}

function parseJsonOrNull(json: string | undefined): unknown {
  return json === undefined ? null : JSON.parse(json);
}

/** The status payload the extension's HTTP API returns. */
export function statusPayload(
  record: InstanceRecord,
  history: StoredEvent[] | undefined,
  options: { showInput?: boolean | undefined; showHistoryOutput?: boolean | undefined },
): Record<string, unknown> {
  return {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.status,
    input: options.showInput === false ? null : parseJsonOrNull(record.input),
    customStatus: parseJsonOrNull(record.customStatus),
    output: parseJsonOrNull(record.output),
    createdTime: record.createdTime,
    lastUpdatedTime: record.lastUpdatedTime,
    ...(history
      ? { historyEvents: history.map((e) => historyEventPayload(e, options.showHistoryOutput ?? false)) }
      : {}),
  };
}

function historyEventPayload(event: StoredEvent, showOutput: boolean): Record<string, unknown> {
  const { Key: _key, Retry: _retry, Result, Input, ...rest } = event;
  return {
    ...rest,
    EventType: eventTypeName[event.EventType] ?? String(event.EventType),
    ...(showOutput ? { Result, Input } : {}),
  };
}

function inCreatedRange(record: InstanceRecord, query: z.infer<typeof listQuerySchema>): boolean {
  if (query.createdTimeFrom && record.createdTime < new Date(query.createdTimeFrom).toISOString()) return false;
  if (query.createdTimeTo && record.createdTime > new Date(query.createdTimeTo).toISOString()) return false;
  if (query.runtimeStatus && query.runtimeStatus.length > 0 && !query.runtimeStatus.includes(record.status))
    return false;
  return true;
}

/** Maps the engine's own errors to their status codes; anything else is not ours to translate. */
function problemOf(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  if (error instanceof InstanceNotFoundError) return new HttpProblem(404, "Not Found", error.message);
  if (error instanceof UnknownFunctionError) return new HttpProblem(404, "Not Found", error.message);
  if (error instanceof InstanceExistsError) return new HttpProblem(409, "Conflict", error.message);
  return undefined;
}

/** A running RPC server. */
export interface RpcServer {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/**
 * Serves the subset of the Durable extension's RPC API that `DurableClient` calls when given an `rpcBaseUrl`:
 * start, status (one / query), raise event, terminate, purge (one / query). Suspend, resume, rewind and entity
 * routes answer 501.
 */
export async function startRpcServer(
  engine: OrchestrationEngine,
  port = 0,
  log: (message: string) => void = () => undefined,
): Promise<RpcServer> {
  const server = http.createServer((request, response) => {
    void handleRpcRequest(engine, request, response, RPC_BASE_PATH, log);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${address.port}${RPC_BASE_PATH}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * Answers one RPC API request whose path starts with `basePath` (the RPC server's, or the webhook path the HTTP
 * front serves for check-status links). Never rejects: failures become problem answers.
 */
export async function handleRpcRequest(
  engine: OrchestrationEngine,
  request: IncomingMessage,
  response: ServerResponse,
  basePath: string,
  log: (message: string) => void,
): Promise<void> {
  try {
    await route(engine, request, response, basePath);
  } catch (error) {
    const problem = problemOf(error);
    if (problem) {
      sendProblem(response, problem);
      return;
    }
    log(
      `RPC ${request.method ?? "?"} ${request.url ?? "?"} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    sendProblem(
      response,
      new HttpProblem(
        500,
        "Internal Server Error",
        "the local Durable host could not complete the request; see its log",
      ),
    );
  }
}

async function route(
  engine: OrchestrationEngine,
  request: IncomingMessage,
  response: ServerResponse,
  basePath: string,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (!url.pathname.startsWith(basePath)) throw new HttpProblem(404, "Not Found", `no route ${url.pathname}`);
  const segments = url.pathname
    .slice(basePath.length)
    .split("/")
    .map((s) => decodeURIComponent(s));
  if (segments[segments.length - 1] === "") segments.pop();
  const query = Object.fromEntries(url.searchParams);
  const method = request.method ?? "GET";
  const [resource, first, action, eventName] = segments;

  if (resource === "orchestrators" && method === "POST" && first !== undefined && segments.length <= 3) {
    const name = parseOr400(functionNameSchema, first, "orchestrator name");
    const instanceId =
      segments[2] === undefined
        ? randomUUID().replace(/-/g, "")
        : parseOr400(instanceIdSchema, segments[2], "instance id");
    const input = parseJsonBody(await readBody(request));
    await engine.startNew(name, instanceId, input);
    const statusUrl = new URL(
      `instances/${encodeURIComponent(instanceId)}`,
      `http://${request.headers.host ?? "127.0.0.1"}${basePath}`,
    ).href;
    sendJson(response, 202, { id: instanceId, statusQueryGetUri: statusUrl }, { location: statusUrl });
    return;
  }

  if (resource === "instances" && first === undefined) {
    const filter = parseOr400(listQuerySchema, query, "query");
    const records = engine.listRecords().filter((r) => inCreatedRange(r, filter));
    if (method === "GET") {
      sendJson(
        response,
        200,
        records.map((r) => statusPayload(r, undefined, {})),
      );
      return;
    }
    if (method === "DELETE") {
      let deleted = 0;
      for (const record of records) {
        if (await purgeIfEnded(engine, record.instanceId)) deleted++;
      }
      sendJson(response, deleted > 0 ? 200 : 404, { instancesDeleted: deleted });
      return;
    }
  }

  if (resource === "instances" && first !== undefined) {
    const instanceId = parseOr400(instanceIdSchema, first, "instance id");
    if (action === undefined && method === "GET") {
      const options = parseOr400(statusQuerySchema, query, "query");
      const record = engine.getRecord(instanceId);
      if (!record) throw new InstanceNotFoundError(instanceId);
      const history = options.showHistory ? await engine.getHistory(instanceId) : undefined;
      const running = record.status === "Pending" || record.status === "Running" || record.status === "ContinuedAsNew";
      sendJson(response, running ? 202 : 200, statusPayload(record, history, options));
      return;
    }
    if (action === undefined && method === "DELETE") {
      if (!engine.getRecord(instanceId)) throw new InstanceNotFoundError(instanceId);
      const deleted = await engine.purge(instanceId);
      sendJson(response, 200, { instancesDeleted: deleted ? 1 : 0 });
      return;
    }
    if (action === "raiseEvent" && method === "POST" && eventName !== undefined) {
      const name = parseOr400(z.string().min(1).max(256), eventName, "event name");
      const data = parseJsonBody(await readBody(request));
      const result = await engine.raiseEvent(instanceId, name, data);
      sendJson(
        response,
        result === "accepted" ? 202 : 410,
        result === "accepted" ? {} : { detail: "the instance has ended" },
      );
      return;
    }
    if (action === "terminate" && method === "POST") {
      const reason = parseOr400(z.string().max(4096), query.reason ?? "", "reason");
      const result = await engine.terminate(instanceId, reason);
      sendJson(
        response,
        result === "accepted" ? 202 : 410,
        result === "accepted" ? {} : { detail: "the instance has ended" },
      );
      return;
    }
    if ((action === "suspend" || action === "resume" || action === "rewind") && method === "POST") {
      throw new HttpProblem(501, "Not Implemented", `${action} is not supported by the local Durable host`);
    }
  }

  if (resource === "entities") throw new HttpProblem(501, "Not Implemented", "the local Durable host runs no entities");
  throw new HttpProblem(404, "Not Found", `no route ${method} ${url.pathname}`);
}

async function purgeIfEnded(engine: OrchestrationEngine, instanceId: string): Promise<boolean> {
  try {
    return await engine.purge(instanceId);
  } catch (error) {
    // Purging by filter skips running instances, as the extension does.
    if (error instanceof InstanceExistsError) return false;
    throw error;
  }
}
