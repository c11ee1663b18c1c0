import { TableClient, type TableServiceClientOptions } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { Config } from "../config/config";

/** Table names from DESIGN.md's storage layout. */
export const TABLES = {
  runs: "Runs",
  artifacts: "Artifacts",
  installs: "Installs",
  locks: "Locks",
  /** Per-tenant API keys (hashes only), for RMM tools. */
  apiKeys: "ApiKeys",
  /** Hash-chained record of every API call that reads or exports evidence. */
  auditLog: "AuditLog",
  /** Evidence export packages: scope, status, where the zip is. */
  exports: "Exports",
  /** Which CloudEvents ingestPatchEvents has sent to Log Analytics: a redelivered event is not ingested twice. */
  ingestions: "Ingestions",
  /** Per-tenant transparency logs of run receipts (RFC 6962) and their signed checkpoints. */
  transparency: "TransparencyLog",
  /** Quarantined updates per tenant (client- and tenant-scope), applied to every run's policy at its start. */
  quarantine: "Quarantine",
} as const;

/** The storage clients PatchPilot's evidence layer needs, built once from config. */
export interface StorageClients {
  blobService: BlobServiceClient;
  evidence: ContainerClient;
  staging: ContainerClient;
  policies: ContainerClient;
  exports: ContainerClient;
  tables: Record<keyof typeof TABLES, TableClient>;
}

/** Builds the real Azure SDK clients for the configured evidence account (Azurite locally). */
export function createStorageClients(config: Config): StorageClients {
  const { account } = config.evidence;
  const tableOptions: TableServiceClientOptions = { allowInsecureConnection: config.evidence.allowInsecure };
  let blobService: BlobServiceClient;
  let table: (name: string) => TableClient;
  if (account.kind === "connectionString") {
    blobService = BlobServiceClient.fromConnectionString(account.connectionString);
    table = (name) => TableClient.fromConnectionString(account.connectionString, name, tableOptions);
  } else {
    const credential = new DefaultAzureCredential();
    blobService = new BlobServiceClient(account.blobEndpoint, credential);
    table = (name) => new TableClient(account.tableEndpoint, name, credential, tableOptions);
  }
  return {
    blobService,
    evidence: blobService.getContainerClient(config.evidence.container),
    staging: blobService.getContainerClient(config.evidence.stagingContainer),
    policies: blobService.getContainerClient(config.evidence.policyContainer),
    exports: blobService.getContainerClient(config.api.exportContainer),
    tables: {
      runs: table(TABLES.runs),
      artifacts: table(TABLES.artifacts),
      installs: table(TABLES.installs),
      locks: table(TABLES.locks),
      apiKeys: table(TABLES.apiKeys),
      auditLog: table(TABLES.auditLog),
      exports: table(TABLES.exports),
      ingestions: table(TABLES.ingestions),
      transparency: table(TABLES.transparency),
      quarantine: table(TABLES.quarantine),
    },
  };
}

/**
 * Creates the containers and tables if they do not exist. In Azure the deployment creates them (with
 * immutability); this is for Azurite and is harmless there.
 */
export async function ensureStorage(clients: StorageClients): Promise<void> {
  await clients.evidence.createIfNotExists();
  await clients.staging.createIfNotExists();
  await clients.policies.createIfNotExists();
  await clients.exports.createIfNotExists();
  // createTable treats "already exists" as success.
  await Promise.all(Object.values(clients.tables).map((t) => t.createTable()));
}
