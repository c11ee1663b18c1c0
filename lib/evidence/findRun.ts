import { RunRefSchema, type RunRef } from "../schemas/common";
import { artifactBlobName } from "./keys";
import type { EvidenceIndex } from "./tableIndex";

/**
 * Finds a run's tenant, client and device from its index rows (operator tooling, which holds the account's keys
 * anyway; tenant-facing APIs take the tenant from the caller and check it instead). The run is the folder most of its
 * rows name exactly (`artifactBlobName(run, path)`), so one forged row pointing elsewhere cannot move the run to
 * another tenant's folder; verifying the run then reports that row as outside it. Undefined when no folder wins.
 */
export async function findRunRef(index: EvidenceIndex, runId: string): Promise<RunRef | undefined> {
  const votes = new Map<string, { ref: RunRef; count: number }>();
  for (const row of (await index.readArtifacts(runId)).values()) {
    const [tenant, client, device, id] = row.blobName.split("/");
    const parsed = RunRefSchema.safeParse({ tenant, client, device, runId: id });
    if (!parsed.success || parsed.data.runId !== runId || artifactBlobName(parsed.data, row.path) !== row.blobName)
      continue;
    const key = row.blobName.slice(0, row.blobName.length - row.path.length);
    const vote = votes.get(key) ?? { ref: parsed.data, count: 0 };
    vote.count += 1;
    votes.set(key, vote);
  }
  const ranked = [...votes.values()].sort((a, b) => b.count - a.count);
  const [first, second] = ranked;
  if (first === undefined || (second !== undefined && second.count === first.count)) return undefined;
  return first.ref;
}
