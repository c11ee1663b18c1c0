import { ClientIdSchema, DeviceIdSchema, TenantIdSchema } from "../schemas/common";
import type { PolicyScope } from "../schemas/policyLayer";

// Blob layout of the policy container. Every id is schema-checked before it becomes part of a name, so no caller
// can reach another tenant's documents with `..` or `/` in an id.

/** A maintenance window id, as MaintenanceWindowSchema allows it. */
const WindowIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Blob name of a policy layer: `layers/global.json`, `layers/tenants/{t}.json`, `.../clients/{c}.json`, `.../devices/{d}.json`. */
export function layerBlobName(scope: PolicyScope): string {
  switch (scope.level) {
    case "global":
      return "layers/global.json";
    case "tenant":
      return `layers/tenants/${TenantIdSchema.parse(scope.tenant)}.json`;
    case "client":
      return `layers/tenants/${TenantIdSchema.parse(scope.tenant)}/clients/${ClientIdSchema.parse(scope.client)}.json`;
    case "device":
      return (
        `layers/tenants/${TenantIdSchema.parse(scope.tenant)}/clients/${ClientIdSchema.parse(scope.client)}` +
        `/devices/${DeviceIdSchema.parse(scope.device)}.json`
      );
  }
}

/** Blob name of a maintenance window: `windows/{tenant}/{windowId}.json`. */
export function windowBlobName(tenant: string, windowId: string): string {
  if (!WindowIdPattern.test(windowId))
    throw new RangeError(`invalid maintenance window id: ${JSON.stringify(windowId)}`);
  return `windows/${TenantIdSchema.parse(tenant)}/${windowId}.json`;
}

/** Prefix every maintenance window blob starts with (optionally one tenant's). */
export function windowPrefix(tenant?: string): string {
  return tenant === undefined ? "windows/" : `windows/${TenantIdSchema.parse(tenant)}/`;
}

/** Blob name of a client profile: `clients/{tenant}/{client}.json`. */
export function clientBlobName(tenant: string, client: string): string {
  return `clients/${TenantIdSchema.parse(tenant)}/${ClientIdSchema.parse(client)}.json`;
}

/** Tenant and window id of a window blob name, or undefined when the name is not one. */
export function parseWindowBlobName(blobName: string): { tenant: string; windowId: string } | undefined {
  const match = /^windows\/([^/]+)\/([^/]+)\.json$/.exec(blobName);
  if (match === null) return undefined;
  const [, tenant = "", windowId = ""] = match;
  return TenantIdSchema.safeParse(tenant).success && WindowIdPattern.test(windowId) ? { tenant, windowId } : undefined;
}
