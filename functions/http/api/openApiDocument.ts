import { z } from "zod";
import { ProblemSchema } from "../../../lib/schemas/api/problem";
import type { ApiResponseHeader, ApiResponseSpec, ApiRoute } from "./apiRoute";
import { API_PREFIX } from "./apiRoute";

type JsonSchema = Record<string, unknown>;

// Request schemas are described as callers send them (defaults make fields optional); responses as we send them.
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: "path" | "query"): JsonSchema[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, "input");
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    ...(typeof property.description === "string" ? { description: property.description } : {}),
    schema: property,
  }));
}

/** Every response header a route may send, declared once (`components.headers`) and referenced per response. */
const HEADERS: Record<ApiResponseHeader | "x-request-id", JsonSchema> = {
  "x-request-id": {
    description:
      "The request's id (the caller's x-request-id when it is 1-64 letters, digits or hyphens); quote it to support",
    schema: { type: "string" },
  },
  Location: { description: "Absolute URL of the created resource, to poll", schema: { type: "string", format: "uri" } },
  "Retry-After": { description: "Seconds to wait before asking again (RFC 9110 §10.2.3)", schema: { type: "integer" } },
  "x-patchpilot-sha256": {
    description: "SHA-256 (hex) of the body, as indexed when the run was sealed; the body was checked against it",
    schema: { type: "string", pattern: "^[0-9a-f]{64}$" },
  },
  "Repr-Digest": {
    description: "The same SHA-256 as an RFC 9530 digest field: sha-256=:<base64>:",
    schema: { type: "string" },
  },
  "Content-Security-Policy": {
    description: "Evidence is served from the API's origin: no scripts run in it",
    schema: { type: "string" },
  },
  "X-Content-Type-Options": {
    description: "nosniff: browsers keep the declared content type",
    schema: { type: "string" },
  },
};

function headersOf(spec: Pick<ApiResponseSpec, "headers">): JsonSchema {
  const out: JsonSchema = { "x-request-id": { $ref: "#/components/headers/x-request-id", required: true } };
  for (const [name, need] of Object.entries(spec.headers ?? {}))
    out[name] = { $ref: `#/components/headers/${name}`, ...(need === "required" ? { required: true } : {}) };
  return out;
}

const problem = (description: string, headers: ApiResponseSpec["headers"] = {}): JsonSchema => ({
  description,
  headers: headersOf({ headers }),
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

function content(spec: ApiResponseSpec): JsonSchema {
  if (spec.contentTypes !== undefined)
    return Object.fromEntries(
      Object.entries(spec.contentTypes).map(([type, what]) => [
        type,
        { schema: { type: "string", format: "binary", description: what } },
      ]),
    );
  return {
    "application/json": {
      schema: spec.schema === undefined ? { type: "object" } : jsonSchema(spec.schema, "output"),
    },
  };
}

function operation(route: ApiRoute): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    responses[status] =
      spec.schema === ProblemSchema
        ? problem(spec.description, spec.headers)
        : { description: spec.description, headers: headersOf(spec), content: content(spec) };
  }
  responses["400"] ??= problem("A path parameter, query parameter or body field is invalid (errors names each field)");
  if (route.permission !== undefined) {
    responses["401"] ??= problem("No credentials, or an API key that is unknown, revoked or wrong");
    responses["403"] ??= problem(`The caller may not act for this tenant, or lacks the permission ${route.permission}`);
  }
  responses["500"] ??= problem("Unexpected failure; the detail carries the request id");
  if (route.audit !== undefined)
    responses["503"] ??= problem(
      "The audit log could not record the call in time (its chain head is contended); nothing was served, retry",
      { "Retry-After": "required" },
    );
  return {
    operationId: route.name,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [route.tag],
    ...(route.permission === undefined ? { security: [] } : { "x-patchpilot-permission": route.permission }),
    ...(route.audit === undefined ? {} : { "x-patchpilot-audit-action": route.audit }),
    parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
    ...(route.body === undefined
      ? {}
      : {
          requestBody: { required: true, content: { "application/json": { schema: jsonSchema(route.body, "input") } } },
        }),
    responses,
  };
}

/** OpenAPI 3.1 of the API, generated from the same zod schemas that validate each request. */
export function buildOpenApiDocument(routes: readonly ApiRoute[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = `/${API_PREFIX}/${route.path.replace(/\{\*/g, "{")}`;
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "PatchPilot API",
      version: "1.0.0",
      description:
        "Start device patch runs and read their exit codes (RMM tools); prove installs, verify and export evidence (auditors). " +
        "Every route is scoped by {tenant}: a caller for one tenant gets 403 on every other tenant's routes. Errors are RFC 9457 problem+json.",
    },
    servers: [{ url: "/api" }],
    security: [{ apiKey: [] }, { entraId: [] }],
    components: {
      securitySchemes: {
        apiKey: {
          type: "apiKey",
          in: "header",
          name: "x-api-key",
          description: "Per-tenant API key (patchpilot apikey issue); roles Operator and/or Auditor",
        },
        entraId: {
          type: "apiKey",
          in: "header",
          name: "x-ms-client-principal",
          description:
            "Set by App Service Authentication for Entra ID callers: app roles Operator/Auditor and the allowed-tenants claim",
        },
      },
      schemas: { Problem: jsonSchema(ProblemSchema, "output") },
      headers: HEADERS,
    },
    tags: [
      { name: "runs", description: "Device runs and their exit codes" },
      { name: "evidence", description: "Audit proofs, artifacts, verification" },
      { name: "exports", description: "Evidence packages for auditors" },
    ],
    paths,
  };
}
