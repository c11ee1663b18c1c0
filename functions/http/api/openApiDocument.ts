import { z } from "zod";
import { ProblemSchema } from "../../../lib/schemas/api/problem";
import type { ApiRoute } from "./apiRoute";
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

const problem = (description: string): JsonSchema => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

function operation(route: ApiRoute): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const contentType =
      spec.contentType ?? (spec.schema === ProblemSchema ? "application/problem+json" : "application/json");
    responses[status] =
      spec.schema === ProblemSchema
        ? problem(spec.description)
        : {
            description: spec.description,
            content: {
              [contentType]: {
                schema:
                  spec.schema === undefined ? { type: "string", format: "binary" } : jsonSchema(spec.schema, "output"),
              },
            },
          };
  }
  responses["400"] ??= problem("A path parameter, query parameter or body field is invalid (errors names each field)");
  if (route.permission !== undefined) {
    responses["401"] ??= problem("No credentials, or an API key that is unknown, revoked or wrong");
    responses["403"] ??= problem(`The caller may not act for this tenant, or lacks the permission ${route.permission}`);
  }
  responses["500"] ??= problem("Unexpected failure; the detail carries the request id");
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
    },
    tags: [
      { name: "runs", description: "Device runs and their exit codes" },
      { name: "evidence", description: "Audit proofs, artifacts, verification" },
      { name: "exports", description: "Evidence packages for auditors" },
    ],
    paths,
  };
}
