import { BlobServiceClient, ContainerSASPermissions } from "@azure/storage-blob";

/** Container of published checkpoints in the local stack (see docs/evidence.md: outside the app's write path). */
export const LOCAL_CHECKPOINT_CONTAINER = "checkpoints";

/**
 * Creates the local checkpoint container and returns a SAS URL for it that may only read and create blobs (no write
 * over an existing blob, no delete): the app writes checkpoints with this separate credential, not with the account
 * key it uses for evidence. In Azure the container lives in another account, with a locked immutability policy, and
 * is written by a user-assigned identity whose only role is on it.
 */
export async function localCheckpointContainerUrl(connectionString: string): Promise<string> {
  const container =
    BlobServiceClient.fromConnectionString(connectionString).getContainerClient(LOCAL_CHECKPOINT_CONTAINER);
  await container.createIfNotExists();
  return container.generateSasUrl({
    permissions: ContainerSASPermissions.parse("rc"),
    expiresOn: new Date(Date.now() + 365 * 24 * 3600_000),
  });
}
