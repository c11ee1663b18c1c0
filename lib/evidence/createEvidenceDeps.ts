import type { StorageClients } from "../azure/storageClients";
import type { Config } from "../config/config";
import { EvidenceStore } from "./blobStore";
import type { EvidenceDeps } from "./runEvidence";
import { EvidenceIndex } from "./tableIndex";

/** The evidence store and index over the configured storage. */
export function createEvidenceDeps(config: Config, clients: StorageClients): EvidenceDeps {
  return {
    store: new EvidenceStore(clients.evidence, { immutabilityDays: config.evidence.immutabilityDays }),
    index: new EvidenceIndex(clients.tables),
  };
}
