import { startAzurite } from "../../local/azurite";

// One Azurite for the whole run, on free ports, in memory. Workers find it through the environment,
// which Jest copies into each worker; tests build their Config from these values.
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite({ inMemory: true });
  (globalThis as { __AZURITE__?: typeof azurite }).__AZURITE__ = azurite;
  process.env.PATCHPILOT_TEST_AZURITE_CONNECTION_STRING = azurite.connectionString;
}
