import { randomUUID } from "node:crypto";
import { HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { ApiProblem, invalidInput } from "../../../lib/api/apiProblem";
import { authenticate, authorize } from "../../../lib/api/auth/authenticate";
import type { Caller, Permission } from "../../../lib/schemas/api/access";
import type { AppDeps, HttpDefinition } from "../../definitions";

/** Every API route lives under this prefix (Azure's `/api` route prefix comes before it). */
export const API_PREFIX = "v1";

/** What a route handler gets: validated input, the authenticated caller, and its clients. */
export interface ApiCall<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Undefined only on public routes (the OpenAPI document). */
  caller: Caller | undefined;
  requestId: string;
  /** The request URL (links are built from its origin). */
  url: URL;
  /** The request headers (conditional requests read `if-match`). */
  headers: Headers;
  deps: AppDeps;
  /** The Durable client (routes with `durableClient: true`). */
  durable(): df.DurableClient;
  /** Writes to the function log. */
  log(message: string): void;
}

/** A route's answer; JSON unless `raw` bytes are given. */
export interface ApiResult {
  status: number;
  json?: unknown;
  raw?: { bytes: Uint8Array; contentType: string };
  headers?: Record<string, string>;
  /** Extra audit details (counts, hashes) for audited routes. */
  auditDetails?: Record<string, string | number | boolean>;
}

/** One documented response of a route, for the OpenAPI document. */
export interface ApiResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

/** A versioned API route: its contract (schemas, permission, audit action) and its handler. */
export interface ApiRoute<P = unknown, Q = unknown, B = unknown> {
  /** Function name in Azure. */
  name: string;
  method: "GET" | "POST" | "PUT";
  /** Azure route template after `/api/v1/`, e.g. `tenants/{tenant}/runs/{runId}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Undefined: public (no caller needed). */
  permission: Permission | undefined;
  params: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Audited routes (everything that reads or exports evidence) append one hash-chained audit event per call. */
  audit?: string;
  durableClient?: boolean;
  responses: Record<number, ApiResponseSpec>;
  handle(call: ApiCall<P, Q, B>): Promise<ApiResult>;
}

/** Keeps each route's type parameters while the list holds routes of every shape. */
export function defineApiRoute<P, Q, B>(route: ApiRoute<P, Q, B>): ApiRoute<P, Q, B> {
  return route;
}

// Azure adds `code` for function keys; it is not ours to validate.
const HOST_QUERY_PARAMETERS = new Set(["code"]);

function problemResponse(problem: ApiProblem, instance: string, requestId: string): HttpResponse {
  // A refused caller gets no echo of the path it tried (it may name another tenant's run or device).
  const echo = problem.status === 401 || problem.status === 403 ? undefined : instance;
  return new HttpResponse({
    status: problem.status,
    jsonBody: problem.toProblem(echo),
    headers: { "content-type": "application/problem+json", "x-request-id": requestId, "cache-control": "no-store" },
  });
}

function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new ApiProblem(
        400,
        "Bad Request",
        `the body is not JSON: ${error.message}`,
        [{ field: "body", reason: "not JSON" }],
        "invalid-input",
      );
    throw error;
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: "path" | "query" | "body"): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(where, parsed.error);
  return parsed.data;
}

/**
 * Turns a route into an HTTP trigger: authenticate (401) → validate the path (400; nothing outside the tenant's own
 * prefix can be named) → tenant and role (403) → query and body (400) → handler → audit event. Every refusal is
 * problem+json; an unexpected error is a 500 problem with the request id, its stack only in the function log.
 */
export function toHttpDefinition(route: ApiRoute, getDeps: () => AppDeps): HttpDefinition {
  return {
    kind: "http",
    name: route.name,
    route: `${API_PREFIX}/${route.path}`,
    methods: [route.method],
    // Our own per-tenant authentication replaces function keys, which are per app and know no tenant.
    authLevel: "anonymous",
    durableClient: route.durableClient ?? false,
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const requestId = request.headers.get("x-request-id")?.match(/^[A-Za-z0-9-]{1,64}$/)?.[0] ?? randomUUID();
      const url = new URL(request.url);
      const instance = url.pathname;
      let caller: Caller | undefined;
      let tenant: string | undefined;
      try {
        const deps = getDeps();
        if (route.permission !== undefined) {
          caller = await authenticate(request.headers, {
            apiKeys: deps.apiKeys,
            trustClientPrincipal: deps.config.api.trustClientPrincipal,
            tenantsClaim: deps.config.api.tenantsClaim,
          });
        }
        const params = parseWith(route.params, request.params, "path");
        if (route.permission !== undefined && caller !== undefined) {
          tenant = (params as { tenant?: string }).tenant;
          if (tenant === undefined) throw new Error(`route ${route.name} has a permission but no tenant parameter`);
          authorize(caller, tenant, route.permission);
        }
        const rawQuery = Object.fromEntries(
          [...request.query.entries()].filter(([k]) => !HOST_QUERY_PARAMETERS.has(k)),
        );
        const query = route.query === undefined ? undefined : parseWith(route.query, rawQuery, "query");
        const body =
          route.body === undefined ? undefined : parseWith(route.body, parseJsonBody(await request.text()), "body");
        let result: ApiResult;
        try {
          result = await route.handle({
            params,
            query,
            body,
            caller,
            requestId,
            url,
            headers: request.headers,
            deps,
            durable: () => df.getClient(context),
            log: (message) => context.log(message),
          });
        } catch (error) {
          if (error instanceof ApiProblem)
            await audit(deps, route, caller, tenant, instance, requestId, error.status, {});
          throw error;
        }
        await audit(deps, route, caller, tenant, instance, requestId, result.status, result.auditDetails ?? {});
        const headers = { "x-request-id": requestId, "cache-control": "no-store", ...(result.headers ?? {}) };
        if (result.raw !== undefined) {
          return new HttpResponse({
            status: result.status,
            body: result.raw.bytes,
            headers: { "content-type": result.raw.contentType, ...headers },
          });
        }
        return new HttpResponse({
          status: result.status,
          jsonBody: result.json,
          headers: { "content-type": "application/json; charset=utf-8", ...headers },
        });
      } catch (error) {
        if (error instanceof ApiProblem) return problemResponse(error, instance, requestId);
        context.error(
          `${route.name} ${instance} (request ${requestId}) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        return problemResponse(
          new ApiProblem(500, "Internal Server Error", `the request failed; quote request id ${requestId} to support`),
          instance,
          requestId,
        );
      }
    },
  };
}

/**
 * Appends the call to the tenant's audit chain. Only calls the caller was allowed to make for that tenant are
 * recorded there: a refused cross-tenant attempt must not put the other tenant's caller names into this tenant's
 * log (it is in the function log instead). A failure to audit fails the request: evidence is not served unaudited.
 */
async function audit(
  deps: AppDeps,
  route: ApiRoute,
  caller: Caller | undefined,
  tenant: string | undefined,
  resource: string,
  requestId: string,
  outcome: number,
  details: Record<string, string | number | boolean>,
): Promise<void> {
  if (route.audit === undefined || caller === undefined || tenant === undefined) return;
  await deps.auditLog.append(tenant, {
    at: deps.clock().toISOString(),
    actor: { kind: caller.kind, id: caller.id, name: caller.name },
    action: route.audit,
    resource,
    outcome,
    requestId,
    details,
  });
}

/** The absolute URL of an API path on the origin the caller used. */
export function apiUrl(call: { url: URL }, path: string): string {
  return `${call.url.origin}/api/${API_PREFIX}/${path}`;
}

/** A path relative to the host (what links in bodies carry, so they survive proxies that rewrite the host). */
export function apiPath(path: string): string {
  return `/api/${API_PREFIX}/${path}`;
}
