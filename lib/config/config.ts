import { z } from "zod";

const boolFromEnv = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

const containerName = z
  .string()
  .regex(
    /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/,
    "must be a valid blob container name (3-63 lowercase letters, digits, hyphens)",
  );

/**
 * Every setting PatchPilot reads, keyed by its app-setting name. `local.settings.sample.json` documents each one,
 * and the Bicep (infra/) sets each one; nothing else reads the environment.
 */
export const EnvSchema = z.object({
  /** Functions host + Durable task hub storage as a connection string: `UseDevelopmentStorage=true` / Azurite locally. */
  AzureWebJobsStorage: z.string().min(1).optional(),
  /**
   * Functions host + Durable task hub storage through the managed identity (Azure). The host reads any value of
   * AzureWebJobsStorage as a connection string that wins over this, so in Azure only this one is set.
   */
  AzureWebJobsStorage__accountName: z
    .string()
    .regex(/^[a-z0-9]{3,24}$/, "must be a storage account name")
    .optional(),
  /** Evidence account as a connection string (local / Azurite). Mutually exclusive with the two endpoints. */
  PATCHPILOT_EVIDENCE_CONNECTION_STRING: z.string().min(1).optional(),
  /** Evidence account blob endpoint (Azure, reached with the app's managed identity). */
  PATCHPILOT_EVIDENCE_BLOB_ENDPOINT: z.url().optional(),
  /** Evidence account table endpoint (Azure, reached with the app's managed identity). */
  PATCHPILOT_EVIDENCE_TABLE_ENDPOINT: z.url().optional(),
  /** Immutable container that holds every artifact. */
  PATCHPILOT_EVIDENCE_CONTAINER: containerName.default("evidence"),
  /** Short-lived container for Run Command output append blobs. */
  PATCHPILOT_STAGING_CONTAINER: containerName.default("runcommand-output"),
  /** Container of the policy documents (layers, maintenance windows, client profiles); mutable config, not evidence. */
  PATCHPILOT_POLICY_CONTAINER: containerName.default("policies"),
  /**
   * Days of per-blob (version-level) immutability set on each evidence blob after it is written; 0 = off.
   * Needs a container with version-level immutability support in Azure; Azurite answers 501, so keep 0 locally.
   */
  PATCHPILOT_EVIDENCE_IMMUTABILITY_DAYS: z.coerce.number().int().min(0).max(146000).default(0),
  /** Allow plain-HTTP storage endpoints (Azurite). Never true in Azure. */
  PATCHPILOT_ALLOW_INSECURE_STORAGE: boolFromEnv.default(false),
  /** Azure Resource Manager endpoint; the local fleet emulator's https URL on one machine. */
  PATCHPILOT_ARM_ENDPOINT: z
    .url({ protocol: /^https$/, error: "must be an https URL (the SDKs' bearer-token policy refuses http)" })
    .default("https://management.azure.com"),
  /** Subscriptions whose Arc machines and scale sets PatchPilot inventories, comma-separated. */
  PATCHPILOT_SUBSCRIPTION_IDS: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    )
    // Real ids are GUIDs; the emulator's scenarios may use readable ids, so only require a path-safe token.
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, "must be subscription ids separated by commas"))),
  /** PEM file of a CA to trust for ARM (the local fleet emulator's self-signed certificate). Unset in Azure. */
  PATCHPILOT_ARM_CA_FILE: z.string().min(1).optional(),
  /** Retries of one ARM call on 429/503 (honouring Retry-After) and transient 5xx before the caller is told. */
  PATCHPILOT_ARM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  /**
   * "on": hold back ARM requests the subscription's published token bucket would refuse (lib/azure/armPacer.ts) and
   * wait for their slot in durable time; "off": send them and handle ARM's 429s only.
   */
  PATCHPILOT_ARM_PACING: z.enum(["on", "off"]).default("on"),
  /**
   * Share (1-100 %) of each published bucket the pacer lets PatchPilot use: below 100 leaves headroom for the other
   * callers of the same subscriptions (the MSP's RMM, Azure Policy, people in the portal).
   */
  PATCHPILOT_ARM_PACING_PERCENT: z.coerce.number().int().min(1).max(100).default(100),
  /** Origin prefix of the per-tenant transparency logs: a tenant's log (and its checkpoint key name) is `{prefix}/{tenant}`. */
  PATCHPILOT_TRANSPARENCY_ORIGIN: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,150}$/, "must be a schema-less URL with no spaces or plus signs")
    .default("patchpilot.local/log"),
  /** Ed25519 PKCS#8 PEM file that signs checkpoints (created on first use); the local stack's key. */
  PATCHPILOT_TRANSPARENCY_KEY_FILE: z.string().min(1).optional(),
  /** Key Vault key (https://{vault}.vault.azure.net/keys/{name}[/{version}], EC P-256) that signs checkpoints in Azure. */
  PATCHPILOT_TRANSPARENCY_KEY_ID: z.url({ protocol: /^https?$/ }).optional(),
  /** Container checkpoints are also written to, outside the evidence account's write path: a URL with a create-only SAS. */
  PATCHPILOT_CHECKPOINT_CONTAINER_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Container of built evidence export packages (zip); derived data, not evidence: deletable, rebuildable. */
  PATCHPILOT_EXPORT_CONTAINER: containerName.default("exports"),
  /**
   * Trust the `x-ms-client-principal` header. Only App Service Authentication (Easy Auth) may set it, and it strips
   * any copy a caller sends; true in Azure where the Bicep enables it, false wherever a caller could forge it.
   */
  PATCHPILOT_TRUST_CLIENT_PRINCIPAL: boolFromEnv.default(false),
  /** Claim of an Entra ID principal that lists the tenants (MSP slugs) it may act for, comma-separated or repeated. */
  PATCHPILOT_TENANTS_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_.:/-]{1,200}$/, "must be a claim type")
    .default("patchpilot_tenants"),
  /** Minutes an export download link (SAS) stays valid. */
  PATCHPILOT_EXPORT_LINK_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  /**
   * Event Grid topic (CloudEvents 1.0 input schema) that run and window events go to, reached with the managed
   * identity. Unset: no event is published (the activities say so in their result).
   */
  PATCHPILOT_EVENTGRID_TOPIC_ENDPOINT: z
    .url({ protocol: /^https$/, error: "must be the topic's https endpoint" })
    .optional(),
  /** Logs ingestion endpoint of the data collection endpoint (DCE) that ingestPatchEvents sends rows to. */
  PATCHPILOT_LOGS_INGESTION_ENDPOINT: z
    .url({
      protocol: /^https$/,
      error: "must be an https URL (the Logs Ingestion client sends bearer tokens over TLS only)",
    })
    .optional(),
  /** Immutable id of the data collection rule whose streams (infra/logs/tables.json) take the rows. */
  PATCHPILOT_LOGS_DCR_IMMUTABLE_ID: z
    .string()
    .regex(/^dcr-[0-9a-f]{32}$/, "must be a DCR immutable id (dcr- and 32 hex digits)")
    .optional(),
});

/** The Functions host's own storage (task hub): a connection string locally, an account reached by identity in Azure. */
export type HostStorage =
  { kind: "connectionString"; connectionString: string } | { kind: "managedIdentity"; accountName: string };

/** Where the evidence account is and how to authenticate to it. */
export type EvidenceAccount =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "managedIdentity"; blobEndpoint: string; tableEndpoint: string };

/** The parsed, validated configuration passed to everything that needs a setting. */
/** The per-tenant transparency log: its origin, the key that signs checkpoints, where checkpoints are also written. */
export interface TransparencySettings {
  origin: string;
  /** No key: runs are sealed with receipts but not logged (tests of other parts; never in a deployment). */
  key?: { kind: "file"; file: string } | { kind: "keyVault"; keyId: string };
  /** Container URL with a create-only SAS (read + create: no overwrite, no delete), in an account the app cannot otherwise write. */
  checkpointContainerUrl?: string;
}

export interface Config {
  hostStorage: HostStorage;
  evidence: {
    account: EvidenceAccount;
    container: string;
    stagingContainer: string;
    policyContainer: string;
    immutabilityDays: number;
    allowInsecure: boolean;
    transparency: TransparencySettings;
  };
  arm: ArmSettings;
  api: ApiSettings;
  alerts: AlertSettings;
}

/** Where run and window events go, and where their rows are ingested. */
export interface AlertSettings {
  eventGridTopicEndpoint: string | undefined;
  logsIngestion: { endpoint: string; ruleId: string } | undefined;
}

/** How the HTTP API authenticates callers and hands out export packages. */
export interface ApiSettings {
  exportContainer: string;
  trustClientPrincipal: boolean;
  tenantsClaim: string;
  exportLinkMinutes: number;
}

/** How PatchPilot reaches Azure Resource Manager. */
export interface ArmSettings {
  endpoint: string;
  subscriptionIds: readonly string[];
  /** Extra CA (PEM file path) to trust, for the local emulator. */
  caFile: string | undefined;
  maxRetries: number;
  /** Client-side pacing at ARM's published per-subscription buckets (lib/azure/armPacer.ts). */
  pacing: boolean;
  /** Share of each published bucket (size and refill) the pacer uses, in percent. */
  pacingPercent: number;
}

/** One bad setting: its name and what is wrong with it. */
export interface ConfigIssue {
  field: string;
  message: string;
}

/** Raised at start-up when settings are missing or malformed; names every bad field at once. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i.field}: ${i.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses settings (an environment-shaped record) into a {@link Config}, or throws {@link ConfigError}. */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // Empty strings are how app settings say "unset"; treat them so, or defaults would never apply.
  const present = Object.fromEntries(
    Object.keys(EnvSchema.shape).map((key) => [key, env[key] === "" ? undefined : env[key]]),
  );
  const parsed = EnvSchema.safeParse(present);
  // Checked beside the schema so every bad field is named at once.
  const hostIssues: ConfigIssue[] =
    present.AzureWebJobsStorage === undefined && present.AzureWebJobsStorage__accountName === undefined
      ? [
          {
            field: "AzureWebJobsStorage",
            message: "is required (or AzureWebJobsStorage__accountName, with the managed identity)",
          },
        ]
      : [];
  if (!parsed.success || hostIssues.length > 0) {
    throw new ConfigError([
      ...hostIssues,
      ...(parsed.success
        ? []
        : parsed.error.issues.map((issue) => ({ field: String(issue.path[0] ?? "(root)"), message: issue.message }))),
    ]);
  }
  const s = parsed.data;
  let hostStorage: HostStorage;
  if (s.AzureWebJobsStorage !== undefined)
    hostStorage = { kind: "connectionString", connectionString: s.AzureWebJobsStorage };
  else if (s.AzureWebJobsStorage__accountName !== undefined)
    hostStorage = { kind: "managedIdentity", accountName: s.AzureWebJobsStorage__accountName };
  else throw new Error("unreachable: host storage was checked above");
  const cs = s.PATCHPILOT_EVIDENCE_CONNECTION_STRING;
  const blob = s.PATCHPILOT_EVIDENCE_BLOB_ENDPOINT;
  const table = s.PATCHPILOT_EVIDENCE_TABLE_ENDPOINT;
  let account: EvidenceAccount;
  if (cs !== undefined && blob === undefined && table === undefined) {
    account = { kind: "connectionString", connectionString: cs };
  } else if (cs === undefined && blob !== undefined && table !== undefined) {
    account = { kind: "managedIdentity", blobEndpoint: blob, tableEndpoint: table };
  } else {
    const message =
      cs !== undefined
        ? "set either the connection string or both endpoints, not both"
        : "set PATCHPILOT_EVIDENCE_CONNECTION_STRING, or both PATCHPILOT_EVIDENCE_BLOB_ENDPOINT and PATCHPILOT_EVIDENCE_TABLE_ENDPOINT";
    const fields =
      cs !== undefined
        ? ["PATCHPILOT_EVIDENCE_CONNECTION_STRING"]
        : [blob === undefined ? "PATCHPILOT_EVIDENCE_BLOB_ENDPOINT" : "PATCHPILOT_EVIDENCE_TABLE_ENDPOINT"];
    throw new ConfigError(fields.map((field) => ({ field, message })));
  }
  const logsEndpoint = s.PATCHPILOT_LOGS_INGESTION_ENDPOINT;
  const ruleId = s.PATCHPILOT_LOGS_DCR_IMMUTABLE_ID;
  if ((logsEndpoint === undefined) !== (ruleId === undefined)) {
    const missing =
      logsEndpoint === undefined ? "PATCHPILOT_LOGS_INGESTION_ENDPOINT" : "PATCHPILOT_LOGS_DCR_IMMUTABLE_ID";
    throw new ConfigError([
      { field: missing, message: "is required with the other Logs Ingestion setting (set both or neither)" },
    ]);
  }
  return {
    hostStorage,
    evidence: {
      account,
      container: s.PATCHPILOT_EVIDENCE_CONTAINER,
      stagingContainer: s.PATCHPILOT_STAGING_CONTAINER,
      policyContainer: s.PATCHPILOT_POLICY_CONTAINER,
      immutabilityDays: s.PATCHPILOT_EVIDENCE_IMMUTABILITY_DAYS,
      allowInsecure: s.PATCHPILOT_ALLOW_INSECURE_STORAGE,
      transparency: {
        origin: s.PATCHPILOT_TRANSPARENCY_ORIGIN.replace(/\/+$/, ""),
        ...(s.PATCHPILOT_TRANSPARENCY_KEY_ID !== undefined
          ? { key: { kind: "keyVault" as const, keyId: s.PATCHPILOT_TRANSPARENCY_KEY_ID } }
          : s.PATCHPILOT_TRANSPARENCY_KEY_FILE !== undefined
            ? { key: { kind: "file" as const, file: s.PATCHPILOT_TRANSPARENCY_KEY_FILE } }
            : {}),
        ...(s.PATCHPILOT_CHECKPOINT_CONTAINER_URL === undefined
          ? {}
          : { checkpointContainerUrl: s.PATCHPILOT_CHECKPOINT_CONTAINER_URL }),
      },
    },
    arm: {
      endpoint: s.PATCHPILOT_ARM_ENDPOINT.replace(/\/+$/, ""),
      subscriptionIds: s.PATCHPILOT_SUBSCRIPTION_IDS,
      caFile: s.PATCHPILOT_ARM_CA_FILE,
      maxRetries: s.PATCHPILOT_ARM_MAX_RETRIES,
      pacing: s.PATCHPILOT_ARM_PACING === "on",
      pacingPercent: s.PATCHPILOT_ARM_PACING_PERCENT,
    },
    api: {
      exportContainer: s.PATCHPILOT_EXPORT_CONTAINER,
      trustClientPrincipal: s.PATCHPILOT_TRUST_CLIENT_PRINCIPAL,
      tenantsClaim: s.PATCHPILOT_TENANTS_CLAIM,
      exportLinkMinutes: s.PATCHPILOT_EXPORT_LINK_MINUTES,
    },
    alerts: {
      eventGridTopicEndpoint: s.PATCHPILOT_EVENTGRID_TOPIC_ENDPOINT,
      logsIngestion:
        logsEndpoint === undefined || ruleId === undefined
          ? undefined
          : { endpoint: logsEndpoint.replace(/\/+$/, ""), ruleId },
    },
  };
}

/** The one place the process environment is read: call once at start-up and pass the result on. */
export function loadConfigFromProcessEnv(): Config {
  return parseConfig(process.env);
}
