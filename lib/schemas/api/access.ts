import { z } from "zod";
import { TenantIdSchema } from "../common";

/** App roles (Entra ID app roles, or the roles an API key was issued with). */
export const RoleSchema = z.enum(["Operator", "Auditor", "PolicyAuthor", "ReleaseApprover"]);
export type Role = z.infer<typeof RoleSchema>;

/** What a route needs the caller to be allowed to do. */
export const PermissionSchema = z.enum([
  "runs:start",
  "runs:read",
  "evidence:read",
  "evidence:export",
  "policies:read",
  "policies:write",
  "releases:read",
  "releases:approve",
]);
export type Permission = z.infer<typeof PermissionSchema>;

/**
 * Operators start runs and follow them (an RMM script needs its own run's exit code); auditors read evidence,
 * verify it and export it, and may read run status. Neither role alone can both change devices and export.
 * Policy authors change how devices are patched (policy layers, windows, rings) but can neither start a run nor read
 * evidence; auditors may read the configuration and its history (what was in force when), never change it.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  Operator: ["runs:start", "runs:read"],
  Auditor: ["runs:read", "evidence:read", "evidence:export", "policies:read"],
  PolicyAuthor: ["policies:read", "policies:write"],
  // The manual promotion gate (docs/releases.md): sees the releases and approves one; changes nothing else.
  ReleaseApprover: ["releases:read", "releases:approve"],
};

/** Who is calling, once authenticated: an API key or an Entra ID principal. */
export const CallerSchema = z.object({
  kind: z.enum(["apiKey", "principal"]),
  /** Key id, or the principal's object id: what the audit log records. */
  id: z.string().min(1),
  /** Key name or user principal name, for people reading the audit log. */
  name: z.string(),
  roles: z.array(RoleSchema),
  /** Tenants the caller may act for (an API key: exactly its own). */
  tenants: z.array(TenantIdSchema),
});
export type Caller = z.infer<typeof CallerSchema>;

/** Path parameters every tenant route has. */
export const TenantParamsSchema = z.object({ tenant: TenantIdSchema });
