import { parseArgs } from "node:util";
import { ApiKeyStore } from "../../lib/api/auth/apiKeyStore";
import { createStorageClients, ensureStorage } from "../../lib/azure/storageClients";
import type { Config } from "../../lib/config/config";
import { RoleSchema, type Role } from "../../lib/schemas/api/access";
import { TenantIdSchema } from "../../lib/schemas/common";

/** Usage of `patchpilot apikey`. */
export const API_KEY_USAGE = `usage:
  patchpilot apikey issue --tenant TENANT --name NAME --role ${RoleSchema.options.join("|")} [--role ...]
      issue an API key for an RMM tool; the key is printed once and cannot be shown again
  patchpilot apikey revoke --tenant TENANT --key-id KEY_ID
      revoke a key (idempotent); exit status 1 when the tenant has no such key
  patchpilot apikey list --tenant TENANT
      the tenant's keys (ids, names, roles, created, revoked); never the keys themselves`;

/** A command line this command refuses; the message goes above the usage text. */
class UsageError extends Error {}

const OPTIONS = {
  tenant: { type: "string" },
  name: { type: "string" },
  role: { type: "string", multiple: true },
  "key-id": { type: "string" },
} as const;

/** A parsed, validated command line. */
type ApiKeyCommand =
  | { subcommand: "issue"; tenant: string; name: string; roles: Role[] }
  | { subcommand: "revoke"; tenant: string; keyId: string }
  | { subcommand: "list"; tenant: string };

/** Parses and validates the arguments after `api-key`; throws {@link UsageError} naming every problem it finds. */
function parseCommand(args: string[]): ApiKeyCommand {
  const [subcommand, ...rest] = args;
  if (subcommand !== "issue" && subcommand !== "revoke" && subcommand !== "list") {
    throw new UsageError(subcommand === undefined ? "a subcommand is required" : `unknown subcommand ${subcommand}`);
  }
  const { values } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false });
  const problems: string[] = [];
  const tenant = TenantIdSchema.safeParse(values.tenant);
  if (!tenant.success)
    problems.push(
      values.tenant === undefined ? "--tenant is required" : `--tenant ${values.tenant}: must be a lowercase slug`,
    );
  const roles: Role[] = [];
  const name = values.name?.trim() ?? "";
  if (subcommand === "issue") {
    if (name === "") problems.push("--name is required");
    if (name.length > 200) problems.push("--name must be at most 200 characters");
    if (values.role === undefined || values.role.length === 0) problems.push("at least one --role is required");
    for (const role of values.role ?? []) {
      const parsed = RoleSchema.safeParse(role);
      if (parsed.success) roles.push(parsed.data);
      else problems.push(`--role ${role}: must be one of ${RoleSchema.options.join(", ")}`);
    }
  }
  if (subcommand === "revoke" && values["key-id"] === undefined) problems.push("--key-id is required");
  if (problems.length > 0 || !tenant.success) throw new UsageError(problems.join("\n"));
  if (subcommand === "issue") return { subcommand, tenant: tenant.data, name, roles };
  if (subcommand === "revoke") return { subcommand, tenant: tenant.data, keyId: values["key-id"] ?? "" };
  return { subcommand, tenant: tenant.data };
}

/**
 * `patchpilot apikey issue|revoke|list`: operator tooling for the per-tenant API keys RMM tools send in
 * `x-api-key`. Returns the process exit status: 0 done, 1 no such key (revoke), 2 bad arguments.
 */
export async function runApiKeyCommand(args: string[], config: Config, log: (line: string) => void): Promise<number> {
  let command: ApiKeyCommand;
  try {
    command = parseCommand(args);
  } catch (error) {
    // parseArgs reports unknown options and missing values as TypeErrors (code ERR_PARSE_ARGS_*).
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    log(error.message);
    log(API_KEY_USAGE);
    return 2;
  }

  const clients = createStorageClients(config);
  await ensureStorage(clients);
  const store = new ApiKeyStore(clients.tables.apiKeys);

  switch (command.subcommand) {
    case "issue": {
      const { key, info } = await store.issue(command.tenant, { name: command.name, roles: command.roles }, new Date());
      log(`issued API key ${info.keyId} "${info.name}" for tenant ${info.tenant} with roles ${info.roles.join(", ")}:`);
      log("");
      log(`  ${key}`);
      log("");
      log("Store it now (e.g. in the RMM tool's secret store): only its hash is kept, it cannot be shown again.");
      log(
        `Send it in the x-api-key header. Revoke it with: patchpilot apikey revoke --tenant ${info.tenant} --key-id ${info.keyId}`,
      );
      return 0;
    }
    case "revoke": {
      const { tenant, keyId } = command;
      if (await store.revoke(tenant, keyId, new Date())) {
        log(`API key ${keyId} of tenant ${tenant} is revoked`);
        return 0;
      }
      log(`tenant ${tenant} has no API key ${keyId}`);
      return 1;
    }
    case "list": {
      const { tenant } = command;
      const keys = await store.list(tenant);
      if (keys.length === 0) {
        log(`tenant ${tenant} has no API keys`);
        return 0;
      }
      for (const k of keys) {
        const state = k.revokedAt === undefined ? "active" : `revoked ${k.revokedAt}`;
        log(`${k.keyId}  ${k.name}  roles ${k.roles.join(",")}  created ${k.createdAt}  ${state}`);
      }
      return 0;
    }
  }
}
