import type { TokenCredential } from "@azure/core-auth";
import type { TableClient } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import { ContainerClient } from "@azure/storage-blob";
import type { TransparencySettings } from "../config/config";
import { keyVaultSigningKey } from "./keyVaultKey";
import { ed25519FileKey } from "./signingKey";
import { TenantLog } from "./tenantLog";

/**
 * The tenant logs of the configured key, or undefined when no key is configured. Checkpoints also go to the
 * configured container through the create-only SAS in its URL: locally a container of the local Azurite; in Azure a
 * container of another storage account (with a locked immutability policy) whose owner issued the SAS.
 */
export function createTransparencyLog(
  settings: TransparencySettings,
  table: TableClient,
  credential: () => TokenCredential = () => new DefaultAzureCredential(),
): TenantLog | undefined {
  if (settings.key === undefined) return undefined;
  const key =
    settings.key.kind === "file"
      ? ed25519FileKey(settings.key.file)
      : keyVaultSigningKey(settings.key.keyId, credential());
  const url = settings.checkpointContainerUrl;
  // The SAS in the URL is the only credential: create and read, no overwrite, no delete.
  const checkpoints = url === undefined ? undefined : new ContainerClient(url);
  return new TenantLog({ table, key, originPrefix: settings.origin, ...(checkpoints ? { checkpoints } : {}) });
}
