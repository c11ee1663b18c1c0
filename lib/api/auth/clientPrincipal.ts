import { z } from "zod";
import { RoleSchema, type Caller, type Role } from "../../schemas/api/access";
import { TenantIdSchema } from "../../schemas/common";
import { unauthorized } from "../apiProblem";

/** Claim types of a principal's object id: the long form Easy Auth usually sends, and the token's short form. */
const OBJECT_ID_CLAIMS = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];

/**
 * The `x-ms-client-principal` body App Service Authentication (Easy Auth) sends. Easy Auth always fills the
 * `*_typ` fields; only `claims` is required here, so a missing role type falls back to `roles`.
 */
export const ClientPrincipalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })),
});
export type ClientPrincipal = z.infer<typeof ClientPrincipalSchema>;

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Turns Easy Auth's `x-ms-client-principal` header into a {@link Caller}: roles from the role claims (only the
 * roles PatchPilot knows), tenants from `tenantsClaim` claims (comma-separated or repeated; only valid slugs), id
 * from the object id. Throws a 401 {@link ApiProblem} for anything malformed.
 */
export function parseClientPrincipal(headerValue: string, tenantsClaim: string): Caller {
  const text = headerValue.trim();
  // Buffer's base64 decoder skips characters it does not know instead of failing, so check the alphabet first.
  if (!BASE64.test(text)) throw unauthorized("the client principal header is not base64");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, "base64").toString("utf8"));
  } catch {
    throw unauthorized("the client principal header is not base64 JSON");
  }
  const parsed = ClientPrincipalSchema.safeParse(json);
  if (!parsed.success) throw unauthorized("the client principal header is not a client principal");
  const principal = parsed.data;

  const values = (...types: string[]): string[] =>
    principal.claims
      .filter((c) => types.includes(c.typ))
      .map((c) => c.val.trim())
      .filter((v) => v !== "");

  // In order of preference of claim type, not of position in the header.
  const first = (...types: string[]): string | undefined => types.map((t) => values(t)[0]).find((v) => v !== undefined);

  const id = first(...OBJECT_ID_CLAIMS);
  if (id === undefined) throw unauthorized("the client principal has no object id");

  const roleTypes = principal.role_typ === undefined ? ["roles"] : [principal.role_typ, "roles"];
  const roles = new Set<Role>();
  for (const value of values(...roleTypes)) {
    const role = RoleSchema.safeParse(value);
    if (role.success) roles.add(role.data);
  }

  const tenants = new Set<string>();
  for (const value of values(tenantsClaim).flatMap((v) => v.split(","))) {
    const tenant = TenantIdSchema.safeParse(value.trim());
    if (tenant.success) tenants.add(tenant.data);
  }

  const name = first(...(principal.name_typ === undefined ? [] : [principal.name_typ]), "preferred_username") ?? id;

  return { kind: "principal", id, name, roles: [...roles], tenants: [...tenants] };
}
