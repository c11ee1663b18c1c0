import { parseConfig, type Config } from "../../lib/config/config";
import { createStorageClients, ensureStorage, type StorageClients } from "../../lib/azure/storageClients";

/** Config pointing at the Azurite the global setup started. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const connectionString = process.env.PATCHPILOT_TEST_AZURITE_CONNECTION_STRING;
  if (!connectionString) throw new Error("Azurite is not running: the Jest global setup did not run");
  return parseConfig({
    AzureWebJobsStorage: connectionString,
    PATCHPILOT_EVIDENCE_CONNECTION_STRING: connectionString,
    PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
    ...overrides,
  });
}

/** Storage clients with containers and tables created. */
export async function testStorage(config: Config = testConfig()): Promise<StorageClients> {
  const clients = createStorageClients(config);
  await ensureStorage(clients);
  return clients;
}

let counter = 0;
/** A run id unique within this test process, so parallel tests never share a partition. */
export function uniqueRunId(prefix = "run"): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
