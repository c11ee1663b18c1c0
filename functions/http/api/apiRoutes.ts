import { z } from "zod";
import type { AppDeps, HttpDefinition } from "../../definitions";
import { defineApiRoute, toHttpDefinition, type ApiRoute } from "./apiRoute";
import { buildOpenApiDocument } from "./openApiDocument";
import { createExportRoute, getExportRoute } from "./routes/exports";
import { getArtifactRoute } from "./routes/getArtifact";
import { getRunRoute } from "./routes/getRun";
import { proveInstallsRoute } from "./routes/proveInstalls";
import { startRunRoute } from "./routes/startRun";
import { verifyRunRoute } from "./routes/verifyRun";
import { POLICY_ROUTES } from "./routes/v1Policies";
import { WINDOW_ROUTES } from "./routes/v1Windows";
import { COMPLIANCE_ROUTES } from "./routes/v1Compliance";
import { DEPLOYMENT_ROUTES } from "./routes/v1Deployments";
import { QUARANTINE_ROUTES } from "./routes/v1Quarantine";
import { RELEASE_ROUTES } from "./routes/v1Releases";
import { transparencyCheckpointRoute, transparencyConsistencyRoute, transparencyKeyRoute } from "./routes/transparency";

/** Every versioned API route except the document that describes them. */
export const API_ROUTES: readonly ApiRoute[] = [
  startRunRoute,
  getRunRoute,
  verifyRunRoute,
  getArtifactRoute,
  proveInstallsRoute,
  createExportRoute,
  getExportRoute,
  ...POLICY_ROUTES,
  ...WINDOW_ROUTES,
  ...COMPLIANCE_ROUTES,
  ...DEPLOYMENT_ROUTES,
  ...QUARANTINE_ROUTES,
  ...RELEASE_ROUTES,
  transparencyKeyRoute,
  transparencyCheckpointRoute,
  transparencyConsistencyRoute,
] as ApiRoute[];

/** `GET /api/v1/openapi.json`: public, generated from the routes' own schemas. */
export const openApiRoute = defineApiRoute({
  name: "apiOpenApi",
  method: "GET",
  path: "openapi.json",
  tag: "meta",
  summary: "This API's OpenAPI 3.1 document",
  permission: undefined,
  params: z.object({}),
  responses: { 200: { description: "OpenAPI 3.1 document" } },
  handle() {
    return Promise.resolve({ status: 200, json: buildOpenApiDocument(API_ROUTES) });
  },
});

/** The API as HTTP triggers, bound to the app's dependencies. */
export function apiDefinitions(getDeps: () => AppDeps): HttpDefinition[] {
  return [...API_ROUTES, openApiRoute as ApiRoute].map((route) => toHttpDefinition(route, getDeps));
}
