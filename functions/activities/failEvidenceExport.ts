import type { StorageClients } from "../../lib/azure/storageClients";
import { ExportStore } from "../../lib/export/exportStore";
import { FailEvidenceExportInputSchema } from "../../lib/schemas/api/exports";

/** Builds the activity that marks an export failed with the build's last error (so GET says why). */
export function makeFailEvidenceExport(deps: { storage: StorageClients }) {
  return async function failEvidenceExport(rawInput: unknown): Promise<void> {
    const { tenant, exportId, message, now } = FailEvidenceExportInputSchema.parse(rawInput);
    await new ExportStore(deps.storage.tables.exports).markFailed(tenant, exportId, message, new Date(now));
  };
}
