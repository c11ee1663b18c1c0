import { timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpRequest, HttpResponse, type HttpMethod, type InvocationContext } from "@azure/functions";
import type { EventGridDefinition, HttpDefinition } from "../../functions/definitions";
import { EVENT_GRID_WEBHOOK_PATH, handleEventGridWebhook, type LocalPage } from "./eventGridWebhook";
import { HttpProblem, readBody, sendProblem } from "./httpProblem";
import type { OrchestrationEngine } from "./orchestrationEngine";
import { handleRpcRequest } from "./rpcServer";

/** The webhook path Azure serves the Durable HTTP API on; check-status links point here. */
export const WEBHOOK_BASE_PATH = "/runtime/webhooks/durabletask/";
const ROUTE_PREFIX = "/api/";
const DEFAULT_METHODS: HttpMethod[] = ["GET", "POST"];

/** Keys for `function` and `admin` auth levels; with none configured nothing is checked, as with Core Tools. */
export interface HttpKeys {
  function?: string;
  admin?: string;
}

interface CompiledRoute {
  definition: HttpDefinition;
  pattern: RegExp;
  params: string[];
  methods: HttpMethod[];
}

/**
 * Compiles an Azure route template (`runs/{runId}`, `items/{id:int}`, `files/{*path}`, `{name?}`) into a regex
 * with named parameters. Constraints other than `int` are accepted and not enforced.
 */
export function compileRoute(template: string): { pattern: RegExp; params: string[] } {
  const params: string[] = [];
  const parts = template
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .map((segment) =>
      segment.replace(
        /\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?(\?)?\}|([^{}]+)/g,
        (match, star: string, name: string, constraint: string, optional: string, literal: string) => {
          if (literal !== undefined) return literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          params.push(name);
          const body = star ? ".+" : constraint === "int" ? "-?\\d+" : "[^/]+";
          return optional ? `(?<${name}>${body})?` : `(?<${name}>${body})`;
        },
      ),
    );
  // An optional last segment may be left out together with its slash.
  const source = parts.reduce(
    (acc, part, i) => (i === 0 ? part : part.endsWith(")?") ? `${acc}(?:/${part})?` : `${acc}/${part}`),
    "",
  );
  return { pattern: new RegExp(`^${source}$`, "i"), params };
}

/** A running HTTP front. */
export interface HttpFront {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Options of {@link startHttpFront}. */
export interface HttpFrontOptions {
  definitions: readonly HttpDefinition[];
  engine: OrchestrationEngine;
  createContext: (definition: HttpDefinition) => InvocationContext;
  port: number;
  keys?: HttpKeys | undefined;
  /**
   * The key the Durable management API under WEBHOOK_BASE_PATH requires (?code= or x-functions-key), as Azure's
   * host requires its durabletask_extension system key (or the master key) there: the API lists and controls every
   * tenant's orchestrations. Without one the front does not serve that API at all (404); the package's
   * DurableClient does not need it either way, it calls the RPC endpoint (rpcServer.ts, loopback only).
   */
  systemKey?: string | undefined;
  log: (message: string) => void;
  /** Event Grid-triggered functions, served on the host's Event Grid webhook path. */
  eventGrid?: {
    definitions: readonly EventGridDefinition[];
    createContext: (definition: EventGridDefinition) => InvocationContext;
  };
  /** Pages served besides the functions (the fleet dashboard). */
  pages?: readonly LocalPage[];
}

/**
 * Serves the app's HTTP triggers under `/api/{route}` with their methods and auth levels, calling each handler with
 * a real `@azure/functions` HttpRequest and a context that carries the durable client input, plus the Durable
 * webhook API under `/runtime/webhooks/durabletask/` for check-status links.
 */
export async function startHttpFront(options: HttpFrontOptions): Promise<HttpFront> {
  const routes: CompiledRoute[] = options.definitions.map((definition) => ({
    definition,
    ...compileRoute(definition.route ?? definition.name),
    methods: (definition.methods ?? DEFAULT_METHODS).map((m) => m.toUpperCase() as HttpMethod),
  }));
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (path.startsWith(WEBHOOK_BASE_PATH)) {
      const problem = checkSystemKey(url, request, options.systemKey, options.keys?.admin);
      if (problem !== undefined) {
        sendProblem(response, problem);
        return;
      }
      void handleRpcRequest(options.engine, request, response, WEBHOOK_BASE_PATH, options.log);
      return;
    }
    const eventGrid = options.eventGrid;
    const page = options.pages?.find((p) => path === p.prefix || path.startsWith(`${p.prefix}/`));
    const work =
      eventGrid !== undefined && path === EVENT_GRID_WEBHOOK_PATH
        ? options.engine.track(() =>
            handleEventGridWebhook(eventGrid.definitions, eventGrid.createContext, request, response, url, options.log),
          )
        : page !== undefined
          ? page.handle(request, response, url)
          : serve(routes, options, request, response);
    work.catch((error: unknown) => {
      if (error instanceof HttpProblem) {
        sendProblem(response, error);
        return;
      }
      options.log(
        `HTTP ${request.method ?? "?"} ${request.url ?? "?"} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      sendProblem(response, new HttpProblem(500, "Internal Server Error", "the function failed; see the host log"));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** 404 when no system key is configured, 401 unless the request carries it (or the master key). */
function checkSystemKey(
  url: URL,
  request: IncomingMessage,
  systemKey: string | undefined,
  masterKey: string | undefined,
): HttpProblem | undefined {
  if (systemKey === undefined || systemKey === "")
    return new HttpProblem(404, "Not Found", "the Durable management API is not served on this port");
  const given = url.searchParams.get("code") ?? request.headers["x-functions-key"];
  const accepted = [systemKey, masterKey].filter((k): k is string => k !== undefined && k !== "");
  if (typeof given !== "string" || !accepted.some((k) => safeEqual(k, given)))
    return new HttpProblem(401, "Unauthorized", "the Durable management API needs the system key (?code=)");
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkKey(definition: HttpDefinition, url: URL, request: IncomingMessage, keys: HttpKeys | undefined): void {
  const level = definition.authLevel ?? "anonymous";
  if (level === "anonymous" || keys === undefined) return;
  const given = url.searchParams.get("code") ?? request.headers["x-functions-key"];
  const accepted = level === "admin" ? [keys.admin] : [keys.function, keys.admin];
  if (typeof given !== "string" || !accepted.includes(given)) {
    throw new HttpProblem(401, "Unauthorized", `this function needs a ${level} key (?code= or x-functions-key)`);
  }
}

/**
 * Decodes a request path as Kestrel (the Functions host's server) does: valid percent-escapes are decoded, malformed
 * ones (`%E0%A4%A`, `%ZZ`, a lone `%`) are left as they are and reach the function, which answers them (the API
 * routes with a 400 problem). `decodeURI` would throw and turn the request into a 500.
 */
function decodePathLeniently(path: string): string {
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURI(run);
    } catch (error) {
      if (error instanceof URIError) return run;
      throw error;
    }
  });
}

async function serve(
  routes: CompiledRoute[],
  options: HttpFrontOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "127.0.0.1"}`);
  if (!url.pathname.startsWith(ROUTE_PREFIX)) throw new HttpProblem(404, "Not Found", `no function at ${url.pathname}`);
  const path = decodePathLeniently(url.pathname.slice(ROUTE_PREFIX.length)).replace(/\/+$/, "");
  const method = (request.method ?? "GET").toUpperCase() as HttpMethod;
  const matching = routes
    .map((route) => ({ route, match: route.pattern.exec(path) }))
    .filter((m): m is { route: CompiledRoute; match: RegExpExecArray } => m.match !== null);
  if (matching.length === 0) throw new HttpProblem(404, "Not Found", `no function at ${url.pathname}`);
  const chosen = matching.find((m) => m.route.methods.includes(method));
  if (!chosen) throw new HttpProblem(405, "Method Not Allowed", `${method} is not allowed on ${url.pathname}`);
  checkKey(chosen.route.definition, url, request, options.keys);

  const params: Record<string, string> = {};
  for (const name of chosen.route.params) {
    const value = chosen.match.groups?.[name];
    if (value !== undefined) params[name] = value;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const body = method === "GET" || method === "HEAD" ? undefined : await readBody(request);
  const httpRequest = new HttpRequest({
    method,
    url: url.href,
    headers,
    query: Object.fromEntries(url.searchParams),
    params,
    ...(body === undefined ? {} : { body: { string: body } }),
  });
  const context = options.createContext(chosen.route.definition);
  const result = await chosen.route.definition.handler(httpRequest, context);
  const answer = result instanceof HttpResponse ? result : new HttpResponse(result ?? {});
  const bytes = Buffer.from(await answer.arrayBuffer());
  const outHeaders: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    outHeaders[name] = value;
  });
  response.writeHead(answer.status, outHeaders);
  response.end(bytes);
}
