import { ApiProblem, notFound } from "../../../../lib/api/apiProblem";
import { windowBlobName, windowPrefix, parseWindowBlobName } from "../../../../lib/policy/policyBlobNames";
import { findRingCycles } from "../../../../lib/policy/saveValidation";
import type { PolicyStore } from "../../../../lib/policy/policyStore";
import { TenantParamsSchema } from "../../../../lib/schemas/api/access";
import {
  RingsBodySchema,
  RingsResponseSchema,
  SaveResponseSchema,
  StoredDocumentResponseSchema,
  VersionListResponseSchema,
  VersionParamSchema,
  VersionResponseSchema,
  WindowListResponseSchema,
  WindowParamsSchema,
} from "../../../../lib/schemas/api/management";
import { ProblemSchema } from "../../../../lib/schemas/api/problem";
import { withRecurrence } from "../../../../lib/domain/window/windowRecurrence";
import { MaintenanceWindowSchema, type MaintenanceWindow } from "../../../../lib/schemas/policies";
import { WindowTargetsSchema } from "../../../../lib/schemas/window";
import { makeDiscoverWindowTargets } from "../../../activities/discoverWindowTargets";
import { defineApiRoute, type ApiCall, type ApiRoute } from "../apiRoute";
import { documentsOf, invalidDocument, saveDocument, versionSummary } from "./v1Conditional";

// Maintenance windows and their rings through the API. The body of a save is the window itself
// (MaintenanceWindowSchema); its tenant and id must be the ones the path names. Rings are the window's `rings`
// list (the rollout walks it in order, each ring gated on the one before); `…/rings` reads and replaces just that
// list, as a new version of the window under the window's own ETag.

type AnyCall = ApiCall<unknown, unknown, unknown>;

async function currentWindow(call: AnyCall, tenant: string, windowId: string) {
  const name = windowBlobName(tenant, windowId);
  const current = await documentsOf(call).current(name);
  if (current === undefined) throw notFound(`no window ${windowId} in this tenant`);
  const parsed = MaintenanceWindowSchema.safeParse(current.document);
  if (!parsed.success)
    throw new ApiProblem(
      409,
      "Conflict",
      `the stored window ${name} is invalid (${parsed.error.issues[0]?.message ?? "schema"}); save a valid one`,
      undefined,
      "stored-document-invalid",
    );
  return { name, current, window: parsed.data };
}

/** Save-time checks beyond the schema, each naming its field: a ring order that cycles, a window no install fits. */
async function checkWindow(policies: PolicyStore, window: MaintenanceWindow, field = "body"): Promise<void> {
  const fit = (await policies.checkInstallFit(window)).map((i) => ({ field: `${field}.${i.path}`, reason: i.message }));
  const issues = [...findRingCycles(window, field), ...fit];
  if (issues.length > 0) throw invalidDocument(issues);
}

const listWindowsRoute = defineApiRoute({
  name: "apiListWindows",
  method: "GET",
  path: "tenants/{tenant}/windows",
  tag: "windows",
  summary: "The tenant's maintenance windows, with version and SHA-256",
  permission: "policies:read",
  params: TenantParamsSchema,
  responses: { 200: { description: "Windows", schema: WindowListResponseSchema } },
  async handle(call) {
    const docs = documentsOf(call);
    const windows = [];
    for (const name of await docs.list(windowPrefix(call.params.tenant))) {
      const id = parseWindowBlobName(name);
      const current = id === undefined ? undefined : await docs.current(name);
      if (id === undefined || current === undefined) continue;
      windows.push({ id: id.windowId, version: current.version, sha256: current.sha256 });
    }
    return { status: 200, json: { windows } };
  },
});

const getWindowRoute = defineApiRoute({
  name: "apiGetWindow",
  method: "GET",
  path: "tenants/{tenant}/windows/{windowId}",
  tag: "windows",
  summary: "Read a maintenance window (ETag for a conditional update)",
  permission: "policies:read",
  params: WindowParamsSchema,
  responses: {
    200: { description: "The stored window", schema: StoredDocumentResponseSchema },
    404: { description: "No such window", schema: ProblemSchema },
  },
  async handle(call) {
    const name = windowBlobName(call.params.tenant, call.params.windowId);
    const current = await documentsOf(call).current(name);
    if (current === undefined) throw notFound(`no window ${call.params.windowId} in this tenant`);
    return {
      status: 200,
      json: { name, version: current.version, sha256: current.sha256, etag: current.etag, document: current.document },
      headers: { etag: current.etag },
    };
  },
});

const putWindowRoute = defineApiRoute({
  name: "apiPutWindow",
  method: "PUT",
  path: "tenants/{tenant}/windows/{windowId}",
  tag: "windows",
  summary: "Create (If-None-Match: *) or update (If-Match) a maintenance window; every save is a new version",
  description:
    "The body is the window (MaintenanceWindowSchema). Refused with the field named when it is malformed, shorter " +
    "than the schema allows, or names a ring twice (the ring order would cycle). 412 when If-Match is stale, 428 " +
    "without a precondition. Appended to the tenant's audit chain with the before/after SHA-256.",
  permission: "policies:write",
  audit: "windows.save",
  params: WindowParamsSchema,
  body: MaintenanceWindowSchema,
  responses: {
    200: { description: "Updated: a new version", schema: SaveResponseSchema },
    201: { description: "Created: version 1", schema: SaveResponseSchema },
    412: { description: "If-Match is not the current ETag", schema: ProblemSchema },
    428: { description: "No precondition sent", schema: ProblemSchema },
  },
  async handle(call) {
    const { tenant, windowId } = call.params;
    const errors = [];
    if (call.body.tenant !== tenant) errors.push({ field: "body.tenant", reason: `must be ${tenant} (the path's)` });
    if (call.body.id !== windowId) errors.push({ field: "body.id", reason: `must be ${windowId} (the path's)` });
    if (errors.length > 0) throw invalidDocument(errors);
    // A scan window without a recurrence is daily: saved written out, so the version and its hash say so.
    const window = withRecurrence(call.body);
    await checkWindow(call.deps.policies, window);
    return saveDocument(call, windowBlobName(tenant, windowId), window, `window:${tenant}/${windowId}`);
  },
});

const windowVersionsRoute = defineApiRoute({
  name: "apiListWindowVersions",
  method: "GET",
  path: "tenants/{tenant}/windows/{windowId}/versions",
  tag: "windows",
  summary: "Every saved version of a window, newest first",
  permission: "policies:read",
  params: WindowParamsSchema,
  responses: { 200: { description: "Versions", schema: VersionListResponseSchema } },
  async handle(call) {
    const name = windowBlobName(call.params.tenant, call.params.windowId);
    const versions = await documentsOf(call).history(name);
    return { status: 200, json: { name, versions: versions.map(versionSummary) } };
  },
});

const windowVersionRoute = defineApiRoute({
  name: "apiGetWindowVersion",
  method: "GET",
  path: "tenants/{tenant}/windows/{windowId}/versions/{version}",
  tag: "windows",
  summary: "One saved version of a window, exactly as saved",
  permission: "policies:read",
  params: WindowParamsSchema.extend(VersionParamSchema.shape),
  responses: {
    200: { description: "The version", schema: VersionResponseSchema },
    404: { description: "No such version", schema: ProblemSchema },
  },
  async handle(call) {
    const name = windowBlobName(call.params.tenant, call.params.windowId);
    const found = (await documentsOf(call as AnyCall).history(name)).find((v) => v.version === call.params.version);
    if (found === undefined) throw notFound(`${name} has no version ${call.params.version}`);
    return { status: 200, json: { ...versionSummary(found), name, document: found.document } };
  },
});

const getRingsRoute = defineApiRoute({
  name: "apiGetRings",
  method: "GET",
  path: "tenants/{tenant}/windows/{windowId}/rings",
  tag: "windows",
  summary: "A window's ring order (ETag: the window's)",
  permission: "policies:read",
  params: WindowParamsSchema,
  responses: { 200: { description: "Rings in rollout order", schema: RingsResponseSchema } },
  async handle(call) {
    const { current, window } = await currentWindow(call, call.params.tenant, call.params.windowId);
    return {
      status: 200,
      json: { windowId: window.id, version: current.version, etag: current.etag, rings: window.rings },
      headers: { etag: current.etag },
    };
  },
});

const putRingsRoute = defineApiRoute({
  name: "apiPutRings",
  method: "PUT",
  path: "tenants/{tenant}/windows/{windowId}/rings",
  tag: "windows",
  summary: "Replace a window's ring order (If-Match: the window's ETag); saved as a new version of the window",
  permission: "policies:write",
  audit: "rings.save",
  params: WindowParamsSchema,
  body: RingsBodySchema,
  responses: {
    200: { description: "Updated: a new version of the window", schema: SaveResponseSchema },
    412: { description: "If-Match is not the window's current ETag", schema: ProblemSchema },
    428: { description: "No If-Match sent", schema: ProblemSchema },
  },
  async handle(call) {
    const { tenant, windowId } = call.params;
    const { name, window } = await currentWindow(call, tenant, windowId);
    const next = MaintenanceWindowSchema.parse({ ...window, rings: call.body.rings });
    await checkWindow(call.deps.policies, next);
    return saveDocument(call, name, next, `window:${tenant}/${windowId}`);
  },
});

const windowTargetsRoute = defineApiRoute({
  name: "apiPreviewWindowTargets",
  method: "GET",
  path: "tenants/{tenant}/windows/{windowId}/targets",
  tag: "windows",
  summary: "Dry run: the devices the window would target now, by client and ring, and the resources it would skip",
  permission: "policies:read",
  params: WindowParamsSchema,
  responses: { 200: { description: "Targets and skipped resources", schema: WindowTargetsSchema } },
  async handle(call) {
    const { window } = await currentWindow(call, call.params.tenant, call.params.windowId);
    const discover = makeDiscoverWindowTargets({
      arm: call.deps.arm,
      subscriptionIds: call.deps.config.arm.subscriptionIds,
    });
    const targets = await discover({
      tenant: window.tenant,
      windowId: window.id,
      clients: window.clients,
      targetTags: window.targetTags,
      rings: window.rings.map((r) => r.name),
    });
    return { status: 200, json: targets };
  },
});

/** Every window and ring route. */
export const WINDOW_ROUTES: readonly ApiRoute[] = [
  listWindowsRoute,
  getWindowRoute,
  putWindowRoute,
  windowVersionsRoute,
  windowVersionRoute,
  getRingsRoute,
  putRingsRoute,
  windowTargetsRoute,
] as ApiRoute[];
