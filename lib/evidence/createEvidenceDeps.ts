import type { ContainerClient } from "@azure/storage-blob";
import type { Config } from "../config/config";
import { EvidenceStore } from "./blobStore";
import type { EvidenceDeps } from "./evidenceSession";
import { EvidenceIndex, type EvidenceTables } from "./tableIndex";

/** The storage clients evidence needs (lib/azure's StorageClients satisfies this; see EvidenceTables for why). */
export interface EvidenceStorage {
  evidence: ContainerClient;
  tables: EvidenceTables;
}

/** The evidence store and index over the configured storage. */
export function createEvidenceDeps(config: Config, clients: EvidenceStorage): EvidenceDeps {
  return {
    store: new EvidenceStore(clients.evidence, { immutabilityDays: config.evidence.immutabilityDays }),
    index: new EvidenceIndex(clients.tables),
  };
}
