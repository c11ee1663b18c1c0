import type { AzuriteInstance } from "../../local/azurite";

export default async function globalTeardown(): Promise<void> {
  const azurite = (globalThis as { __AZURITE__?: AzuriteInstance }).__AZURITE__;
  await azurite?.stop();
}
