import {
  BlobSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
  type BlobServiceClient,
  type ContainerClient,
} from "@azure/storage-blob";

/**
 * Permissions the Run Command agent needs on its output / error blob: create the append blob, append to it, and
 * read + write as the Run Command documentation requires ("read, append, create, write"). No delete, no list, and
 * scoped to the one blob (a blob SAS, never a container or account SAS).
 */
export const OUTPUT_BLOB_SAS_PERMISSIONS = "racw";

/** How long a SAS stays valid: the command's timeout plus slack for the agent's queueing and retries. */
export interface SasWindow {
  startsOn: Date;
  expiresOn: Date;
}

/** The SAS window for a command with this timeout: starts 5 min back (clock skew), ends 30 min after the timeout. */
export function sasWindowFor(timeoutInSeconds: number, now: Date = new Date()): SasWindow {
  return {
    startsOn: new Date(now.getTime() - 5 * 60_000),
    expiresOn: new Date(now.getTime() + (timeoutInSeconds + 30 * 60) * 1000),
  };
}

/**
 * A SAS URL for one staging blob: signed with the account key when the clients have one (Azurite, connection
 * strings), otherwise with a user delegation key from the app's managed identity (Arc agents cannot use managed
 * identity for these blobs, so a SAS is the only way in).
 */
export async function outputBlobSasUrl(
  blobService: BlobServiceClient,
  staging: ContainerClient,
  blobName: string,
  window: SasWindow,
): Promise<string> {
  const blob = staging.getBlobClient(blobName);
  const https = new URL(blob.url).protocol === "https:";
  const values = {
    containerName: staging.containerName,
    blobName,
    permissions: BlobSASPermissions.parse(OUTPUT_BLOB_SAS_PERMISSIONS),
    startsOn: window.startsOn,
    expiresOn: window.expiresOn,
    // Azurite serves http; in Azure the SAS is refused over anything but https.
    protocol: https ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
  };
  if (staging.credential instanceof StorageSharedKeyCredential) {
    return `${blob.url}?${generateBlobSASQueryParameters(values, staging.credential).toString()}`;
  }
  const key = await blobService.getUserDelegationKey(window.startsOn, window.expiresOn);
  return `${blob.url}?${generateBlobSASQueryParameters(values, key, blobService.accountName).toString()}`;
}
