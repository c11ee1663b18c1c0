import { ROLE_PERMISSIONS, type Caller, type Permission, type Role } from "../../schemas/api/access";
import { forbidden, unauthorized } from "../apiProblem";
import type { ApiKeyStore } from "./apiKeyStore";
import { parseClientPrincipal } from "./clientPrincipal";

/**
 * Header that carries an API key. Not `Authorization: Bearer`: with App Service Authentication in front of the app,
 * Easy Auth validates every Authorization bearer token itself as an Entra ID token and would reject our keys.
 */
export const API_KEY_HEADER = "x-api-key";

/** Header App Service Authentication sets (and strips from callers) with the signed-in principal. */
export const CLIENT_PRINCIPAL_HEADER = "x-ms-client-principal";

/** What {@link authenticate} needs. */
export interface AuthDeps {
  apiKeys: ApiKeyStore;
  /** Only where Easy Auth sits in front may the principal header be believed; elsewhere any caller could forge it. */
  trustClientPrincipal: boolean;
  tenantsClaim: string;
}

/**
 * Who is calling: an API key in `x-api-key` (checked first), else the Easy Auth principal when trusted. Throws a 401
 * {@link ApiProblem} when neither is there or the key is not valid.
 */
export async function authenticate(headers: { get(name: string): string | null }, deps: AuthDeps): Promise<Caller> {
  const presented = headers.get(API_KEY_HEADER);
  if (presented !== null) {
    const info = await deps.apiKeys.check(presented.trim());
    // One answer for unknown, wrong and revoked keys, so a caller cannot probe which key ids exist.
    if (info === undefined) throw unauthorized("the API key is not valid");
    return { kind: "apiKey", id: info.keyId, name: info.name, roles: info.roles, tenants: [info.tenant] };
  }
  const principal = deps.trustClientPrincipal ? headers.get(CLIENT_PRINCIPAL_HEADER) : null;
  if (principal !== null) return parseClientPrincipal(principal, deps.tenantsClaim);
  throw unauthorized("send an API key in x-api-key, or sign in with Entra ID");
}

/**
 * Throws a 403 {@link ApiProblem} unless the caller may act for `tenant` and one of its roles grants `permission`.
 * The tenant refusal never names the caller's own tenants or the one asked for.
 */
export function authorize(caller: Caller, tenant: string, permission: Permission): void {
  if (!caller.tenants.includes(tenant)) throw forbidden("this caller may not act for this tenant");
  if (caller.roles.some((role) => ROLE_PERMISSIONS[role].includes(permission))) return;
  const granting = (Object.keys(ROLE_PERMISSIONS) as Role[]).filter((role) =>
    ROLE_PERMISSIONS[role].includes(permission),
  );
  throw forbidden(`this needs the ${permission} permission, which the ${granting.join(" or ")} role grants`);
}
