import { z } from "zod";
import { ApiProblem, notFound } from "../../../../lib/api/apiProblem";
import { DEFAULT_GLOBAL_POLICY } from "../../../../lib/domain/policy/defaultPolicy";
import { layerName, PolicyValidationError, resolveEffectivePolicy } from "../../../../lib/domain/policy/overlay";
import { layerBlobName } from "../../../../lib/policy/policyBlobNames";
import { findOverlayIssues } from "../../../../lib/policy/saveValidation";
import { documentSha256, type VersionedDocuments } from "../../../../lib/policy/versionedDocuments";
import { TenantParamsSchema } from "../../../../lib/schemas/api/access";
import {
  ClientParamsSchema,
  DeviceParamsSchema,
  EffectivePolicyPreviewSchema,
  LayerListResponseSchema,
  SaveResponseSchema,
  StoredDocumentResponseSchema,
  VersionListResponseSchema,
  VersionParamSchema,
  VersionResponseSchema,
} from "../../../../lib/schemas/api/management";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import { PolicyLayerSchema, type PolicyLayer, type PolicyScope } from "../../../../lib/schemas/policyLayer";
import { defineApiRoute, type ApiRoute } from "../apiRoute";
import { documentsOf, invalidDocument, saveDocument, versionSummary } from "./v1Conditional";

// Policy layers through the API: read (ETag), create/update (If-None-Match / If-Match), history, and the dry-run
// preview of a device's effective policy. The body of a save is the layer itself (PolicyLayerSchema), its scope the
// one the path names. The global layer is the deployment's, shared by every tenant: readable here, changed only
// with `patchpilot policy import --level global` by whoever runs the deployment (a tenant's caller must not change
// what every other tenant's devices do).

type Level = "tenant" | "client" | "device";

type Params = Record<string, string>;

interface LevelSpec {
  level: Level | "global";
  /** Route name part: `TenantPolicy`. */
  label: string;
  path: string;
  params: z.ZodObject;
  scope(params: Params): PolicyScope;
}

const LEVELS = [
  {
    level: "tenant",
    label: "TenantPolicy",
    path: "tenants/{tenant}/policy",
    params: TenantParamsSchema,
    scope: (p: Params): PolicyScope => ({ level: "tenant", tenant: p.tenant! }),
  },
  {
    level: "client",
    label: "ClientPolicy",
    path: "tenants/{tenant}/clients/{client}/policy",
    params: ClientParamsSchema,
    scope: (p: Params): PolicyScope => ({
      level: "client",
      tenant: p.tenant!,
      client: p.client!,
    }),
  },
  {
    level: "device",
    label: "DevicePolicy",
    path: "tenants/{tenant}/clients/{client}/devices/{device}/policy",
    params: DeviceParamsSchema,
    scope: (p: Params): PolicyScope => ({
      level: "device",
      tenant: p.tenant!,
      client: p.client!,
      device: p.device!,
    }),
  },
] as const;

/** The stored layers on the way to `scope` (global first; the built-in default when none is stored), with versions. */
async function layersTowards(
  docs: VersionedDocuments,
  scope: PolicyScope,
): Promise<{ layer: PolicyLayer; name: string; source: "stored" | "default"; version: number; sha256: string }[]> {
  const chain: PolicyScope[] = [{ level: "global" }];
  if (scope.level !== "global") chain.push({ level: "tenant", tenant: scope.tenant });
  if (scope.level === "client" || scope.level === "device")
    chain.push({ level: "client", tenant: scope.tenant, client: scope.client });
  if (scope.level === "device") chain.push(scope);
  const out = [];
  for (const s of chain) {
    const current = await docs.current(layerBlobName(s));
    if (current === undefined) {
      if (s.level === "global") {
        const layer = PolicyLayerSchema.parse(DEFAULT_GLOBAL_POLICY);
        out.push({ layer, name: "global", source: "default" as const, version: 0, sha256: documentSha256(layer) });
      }
      continue;
    }
    const parsed = PolicyLayerSchema.safeParse(current.document);
    if (!parsed.success)
      throw new ApiProblem(
        409,
        "Conflict",
        `the stored layer ${layerName(s)} is invalid (${parsed.error.issues[0]?.message ?? "schema"}); fix it first`,
        undefined,
        "stored-document-invalid",
      );
    out.push({
      layer: parsed.data,
      name: layerName(s),
      source: "stored" as const,
      version: current.version,
      sha256: current.sha256,
    });
  }
  return out;
}

function readRoute(spec: LevelSpec) {
  return defineApiRoute({
    name: `apiGet${spec.label}`,
    method: "GET",
    path: spec.path,
    tag: "policies",
    summary: `Read the ${spec.level} policy layer (ETag for a conditional update)`,
    permission: "policies:read",
    params: spec.params,
    responses: {
      200: { description: "The stored layer", schema: StoredDocumentResponseSchema },
      404: { description: "No layer stored at this level", schema: ProblemSchema },
    },
    async handle(call) {
      const name = layerBlobName(spec.scope(call.params as Params));
      const current = await documentsOf(call).current(name);
      if (current === undefined) throw notFound(`no ${spec.level} layer is stored at ${name}`);
      return {
        status: 200,
        json: {
          name,
          version: current.version,
          sha256: current.sha256,
          etag: current.etag,
          document: current.document,
        },
        headers: { etag: current.etag },
      };
    },
  });
}

function saveRoute(spec: LevelSpec) {
  return defineApiRoute({
    name: `apiPut${spec.label}`,
    method: "PUT",
    path: spec.path,
    tag: "policies",
    summary: `Create (If-None-Match: *) or update (If-Match) the ${spec.level} policy layer; every save is a new version`,
    description:
      "The body is the layer (PolicyLayerSchema) with the scope the path names. Refused with the field named when the " +
      "schema or the overlay with the stored layers above it would refuse it at run time. 412 when If-Match is stale, " +
      "428 without a precondition. Appended to the tenant's audit chain with the before/after SHA-256.",
    permission: "policies:write",
    audit: "policies.save",
    params: spec.params,
    body: PolicyLayerSchema,
    responses: {
      200: { description: "Updated: a new version", schema: SaveResponseSchema },
      201: { description: "Created: version 1", schema: SaveResponseSchema },
      412: { description: "If-Match is not the current ETag (someone saved since you read)", schema: ProblemSchema },
      428: { description: "Neither If-Match nor If-None-Match: * was sent", schema: ProblemSchema },
    },
    async handle(call) {
      const scope = spec.scope(call.params as Params);
      if (layerName(call.body.scope) !== layerName(scope)) {
        throw invalidDocument([
          { field: "body.scope", reason: `must be the scope the path names (${layerName(scope)})` },
        ]);
      }
      const docs = documentsOf(call);
      const above = (await layersTowards(docs, scope)).map((l) => l.layer).filter((l) => l.scope.level !== scope.level);
      const issues = findOverlayIssues(call.body, above);
      if (issues.length > 0) throw invalidDocument(issues);
      return saveDocument(call, layerBlobName(scope), call.body, layerName(scope));
    },
  });
}

function historyRoutes(spec: LevelSpec) {
  const list = defineApiRoute({
    name: `apiList${spec.label}Versions`,
    method: "GET",
    path: `${spec.path}/versions`,
    tag: "policies",
    summary: `Every saved version of the ${spec.level} layer, newest first`,
    permission: "policies:read",
    params: spec.params,
    responses: { 200: { description: "Versions", schema: VersionListResponseSchema } },
    async handle(call) {
      const name = layerBlobName(spec.scope(call.params as Params));
      const versions = await documentsOf(call).history(name);
      return { status: 200, json: { name, versions: versions.map(versionSummary) } };
    },
  });
  const one = defineApiRoute({
    name: `apiGet${spec.label}Version`,
    method: "GET",
    path: `${spec.path}/versions/{version}`,
    tag: "policies",
    summary: `One saved version of the ${spec.level} layer, exactly as saved`,
    permission: "policies:read",
    params: spec.params.extend(VersionParamSchema.shape),
    responses: {
      200: { description: "The version", schema: VersionResponseSchema },
      404: { description: "No such version", schema: ProblemSchema },
    },
    async handle(call) {
      const name = layerBlobName(spec.scope(call.params as Params));
      const { version } = call.params as { version: number };
      const versions = await documentsOf(call).history(name);
      const found = versions.find((v) => v.version === version);
      if (found === undefined) throw notFound(`${name} has no version ${version}`);
      return { status: 200, json: { ...versionSummary(found), name, document: found.document } };
    },
  });
  return [list, one];
}

const GLOBAL: LevelSpec = {
  level: "global",
  label: "GlobalPolicy",
  path: "tenants/{tenant}/global-policy",
  params: TenantParamsSchema,
  scope: (): PolicyScope => ({ level: "global" }),
};

/** `GET tenants/{tenant}/policies`: the tenant's stored layers (tenant, clients, devices) with versions. */
const listLayersRoute = defineApiRoute({
  name: "apiListPolicies",
  method: "GET",
  path: "tenants/{tenant}/policies",
  tag: "policies",
  summary: "The tenant's stored policy layers (tenant, client and device), with version and SHA-256",
  permission: "policies:read",
  params: TenantParamsSchema,
  responses: { 200: { description: "Layers", schema: LayerListResponseSchema } },
  async handle(call) {
    const docs = documentsOf(call);
    const tenantScope: PolicyScope = { level: "tenant", tenant: call.params.tenant };
    const names = [
      layerBlobName(tenantScope),
      ...(await docs.list(layerBlobName(tenantScope).replace(/\.json$/, "/"))),
    ];
    const layers = [];
    for (const name of names) {
      const current = await docs.current(name);
      if (current === undefined) continue;
      const parsed = PolicyLayerSchema.safeParse(current.document);
      if (!parsed.success) continue;
      layers.push({ scope: parsed.data.scope, name, version: current.version, sha256: current.sha256 });
    }
    return { status: 200, json: { layers } };
  },
});

/** `GET …/devices/{device}/effective-policy`: the dry run of the overlay the device's next run performs. */
const previewRoute = defineApiRoute({
  name: "apiPreviewEffectivePolicy",
  method: "GET",
  path: "tenants/{tenant}/clients/{client}/devices/{device}/effective-policy",
  tag: "policies",
  summary: "Dry run: the effective policy the device's next run would use, with the layer each value came from",
  permission: "policies:read",
  params: DeviceParamsSchema,
  responses: { 200: { description: "Effective policy and provenance", schema: EffectivePolicyPreviewSchema } },
  async handle(call) {
    const { tenant, client, device } = call.params;
    const layers = await layersTowards(documentsOf(call), {
      level: "device",
      tenant,
      client,
      device,
    });
    let resolved;
    try {
      resolved = resolveEffectivePolicy(layers.map((l) => l.layer));
    } catch (error) {
      if (!(error instanceof PolicyValidationError)) throw error;
      throw new ApiProblem(409, "Conflict", error.message, undefined, "stored-document-invalid");
    }
    const { policy, provenance } = resolved;
    return {
      status: 200,
      json: {
        tenant,
        client,
        device,
        policy,
        provenance,
        layers: layers.map(({ name, source, version, sha256 }) => ({ name, source, version, sha256 })),
      },
    };
  },
});

/** Every policy-layer route. */
export const POLICY_ROUTES: readonly ApiRoute[] = [
  listLayersRoute,
  previewRoute,
  readRoute(GLOBAL),
  ...historyRoutes(GLOBAL),
  ...LEVELS.flatMap((spec) => [readRoute(spec), saveRoute(spec), ...historyRoutes(spec)]),
] as ApiRoute[];
