import {
  BlobSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import type { StorageClients } from "../azure/storageClients";
import type { Config } from "../config/config";
import type { ExportDownload } from "../schemas/api/exports";

/** Clock skew allowed for the SAS start (as for the Run Command output blobs). */
const SKEW_MS = 5 * 60_000;

/** Blob name of an export package in the exports container: `{tenant}/{exportId}.zip`. */
export function exportBlobName(tenant: string, exportId: string): string {
  return `${tenant}/${exportId}.zip`;
}

/**
 * A read-only link to one package blob, valid for `config.api.exportLinkMinutes`: a blob SAS (never a container or
 * account SAS) signed with the account key when the clients have one (Azurite, connection strings), otherwise with a
 * user delegation key from the app's managed identity.
 */
export async function exportDownloadUrl(
  storage: StorageClients,
  config: Config,
  blobName: string,
  now: Date,
): Promise<ExportDownload> {
  const container = storage.exports;
  const blob = container.getBlobClient(blobName);
  const startsOn = new Date(now.getTime() - SKEW_MS);
  const expiresOn = new Date(now.getTime() + config.api.exportLinkMinutes * 60_000);
  const fileName = blobName.slice(blobName.lastIndexOf("/") + 1);
  const values = {
    containerName: container.containerName,
    blobName,
    permissions: BlobSASPermissions.parse("r"),
    startsOn,
    expiresOn,
    // Azurite serves http; in Azure the link works over https only.
    protocol: new URL(blob.url).protocol === "https:" ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
    // Browsers save it under the export's name whatever the link looks like.
    contentDisposition: `attachment; filename="${fileName}"`,
    contentType: "application/zip",
  };
  const query =
    container.credential instanceof StorageSharedKeyCredential
      ? generateBlobSASQueryParameters(values, container.credential)
      : generateBlobSASQueryParameters(
          values,
          await storage.blobService.getUserDelegationKey(startsOn, expiresOn),
          storage.blobService.accountName,
        );
  return { href: `${blob.url}?${query.toString()}`, expiresAt: expiresOn.toISOString() };
}
