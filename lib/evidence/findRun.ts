import { RunRefSchema, type RunRef } from "../schemas/common";
import type { EvidenceIndex } from "./tableIndex";

/**
 * Finds a run's tenant, client and device from its index rows (operator tooling, which holds the account's keys
 * anyway; tenant-facing APIs take the tenant from the caller and check it instead).
 */
export async function findRunRef(index: EvidenceIndex, runId: string): Promise<RunRef | undefined> {
  const rows = await index.readArtifacts(runId);
  const first = rows.values().next();
  if (first.done) return undefined;
  const [tenant, client, device, id] = first.value.blobName.split("/");
  const parsed = RunRefSchema.safeParse({ tenant, client, device, runId: id });
  return parsed.success && parsed.data.runId === runId ? parsed.data : undefined;
}
