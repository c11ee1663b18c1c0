import { randomUUID } from "node:crypto";
import { HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { ApiProblem, invalidInput } from "../../../lib/api/apiProblem";
import { AuditContentionError } from "../../../lib/api/audit/auditLog";
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

/** Response headers a route may send, as the OpenAPI document declares them (components.headers). */
export type ApiResponseHeader =
  | "Location"
  | "Retry-After"
  | "x-patchpilot-sha256"
  | "Repr-Digest"
  | "Content-Security-Policy"
  | "X-Content-Type-Options";

/** One documented response of a route, for the OpenAPI document. */
export interface ApiResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Media types of a raw (non-JSON) body, e.g. an artifact's; each with what it is used for. */
  contentTypes?: Readonly<Record<string, string>>;
  /** Headers this response carries besides `x-request-id` (every response has it); `required` when always sent. */
  headers?: Readonly<Partial<Record<ApiResponseHeader, "required" | "optional">>>;
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

function problemResponse(
  problem: ApiProblem,
  instance: string,
  requestId: string,
  extraHeaders: Record<string, string> = {},
): HttpResponse {
  // A refused caller gets no echo of the path it tried (it may name another tenant's run or device).
  const echo = problem.status === 401 || problem.status === 403 ? undefined : instance;
  return new HttpResponse({
    status: problem.status,
    jsonBody: problem.toProblem(echo),
    headers: {
      "content-type": "application/problem+json",
      "x-request-id": requestId,
      "cache-control": "no-store",
      ...extraHeaders,
    },
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

/**
 * A path with malformed percent-encoding (`%E0%A4%A`, `%ZZ`, a lone `%`) names nothing: 400, never a 500 from a
 * decoder further down. Checked per segment on the URL as sent, before any parameter is read.
 */
function checkPercentEncoding(pathname: string): void {
  for (const segment of pathname.split("/")) {
    try {
      decodeURIComponent(segment);
    } catch (error) {
      if (!(error instanceof URIError)) throw error;
      throw new ApiProblem(
        400,
        "Bad Request",
        "the path is not valid percent-encoding (RFC 3986: % must start a UTF-8 byte as two hex digits)",
        [{ field: "path", reason: "malformed percent-encoding" }],
        "invalid-input",
      );
    }
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
 * problem+json; an unexpected error is a 500 problem with the request id, its stack only in the function log. Every
 * call past the tenant and permission checks is audited with the status it got (a 400 or a 500 too); when the audit
 * event cannot be written the answer is withheld (503 + Retry-After when the chain head is contended).
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
      let deps: AppDeps | undefined;
      // Set once the caller passed the tenant and permission checks: from then on every outcome is audited.
      let authorized = false;
      let auditDetails: Record<string, string | number | boolean> = {};
      let response: HttpResponse;
      try {
        deps = getDeps();
        if (route.permission !== undefined) {
          caller = await authenticate(request.headers, {
            apiKeys: deps.apiKeys,
            trustClientPrincipal: deps.config.api.trustClientPrincipal,
            tenantsClaim: deps.config.api.tenantsClaim,
          });
        }
        checkPercentEncoding(url.pathname);
        const params = parseWith(route.params, request.params, "path");
        if (route.permission !== undefined && caller !== undefined) {
          tenant = (params as { tenant?: string }).tenant;
          if (tenant === undefined) throw new Error(`route ${route.name} has a permission but no tenant parameter`);
          authorize(caller, tenant, route.permission);
          authorized = true;
        }
        const rawQuery = Object.fromEntries(
          [...request.query.entries()].filter(([k]) => !HOST_QUERY_PARAMETERS.has(k)),
        );
        const query = route.query === undefined ? undefined : parseWith(route.query, rawQuery, "query");
        const body =
          route.body === undefined ? undefined : parseWith(route.body, parseJsonBody(await request.text()), "body");
        const result = await route.handle({
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
        auditDetails = result.auditDetails ?? {};
        response = resultResponse(result, requestId);
      } catch (error) {
        response = errorResponse(error, route, instance, requestId, context);
      }
      if (!authorized || deps === undefined) return response;
      // Every call the caller was allowed to make is recorded with the status it got, failures included.
      try {
        await audit(deps, route, caller, tenant, instance, requestId, response.status, auditDetails);
      } catch (error) {
        context.error(
          `${route.name} ${instance} (request ${requestId}): audit event not written, answer withheld: ${describe(error)}`,
        );
        // Evidence is never served unaudited. A chain head other writers keep winning is load, not a fault: 503.
        if (error instanceof AuditContentionError)
          return problemResponse(
            new ApiProblem(
              503,
              "Service Unavailable",
              `the audit log is busy; nothing was served; retry (request id ${requestId})`,
              undefined,
              "audit-busy",
            ),
            instance,
            requestId,
            { "retry-after": "1" },
          );
        return problemResponse(internalError(requestId), instance, requestId);
      }
      return response;
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function internalError(requestId: string): ApiProblem {
  return new ApiProblem(500, "Internal Server Error", `the request failed; quote request id ${requestId} to support`);
}

/** The HTTP answer of a handler's result: JSON, or raw bytes with their content type. */
function resultResponse(result: ApiResult, requestId: string): HttpResponse {
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
}

/** A refusal as its problem; anything else as a 500 problem with the request id, the stack in the function log. */
function errorResponse(
  error: unknown,
  route: ApiRoute,
  instance: string,
  requestId: string,
  context: InvocationContext,
): HttpResponse {
  if (error instanceof ApiProblem) return problemResponse(error, instance, requestId);
  context.error(`${route.name} ${instance} (request ${requestId}) failed: ${describe(error)}`);
  return problemResponse(internalError(requestId), instance, requestId);
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
