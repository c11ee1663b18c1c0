import type { TokenCredential } from "@azure/core-auth";
import type { TableClient } from "@azure/data-tables";
import { DefaultAzureCredential, ManagedIdentityCredential } from "@azure/identity";
import { ContainerClient } from "@azure/storage-blob";
import type { TransparencySettings } from "../config/config";
import { keyVaultSigningKey } from "./keyVaultKey";
import { ed25519FileKey } from "./signingKey";
import { TenantLog } from "./tenantLog";

/**
 * The tenant logs of the configured key, or undefined when no key is configured. Checkpoints also go to the
 * configured container: locally through a create-only SAS in its URL; in Azure with the separate writer identity
 * (a user-assigned identity whose only role is on that container of another account).
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
  const checkpoints =
    url === undefined
      ? undefined
      : settings.checkpointWriterClientId === undefined
        ? new ContainerClient(url)
        : new ContainerClient(url, new ManagedIdentityCredential({ clientId: settings.checkpointWriterClientId }));
  return new TenantLog({ table, key, originPrefix: settings.origin, ...(checkpoints ? { checkpoints } : {}) });
}
