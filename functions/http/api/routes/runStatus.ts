import * as df from "durable-functions";
import { z } from "zod";
import { ARTIFACTS } from "../../../../lib/domain/artifacts";
import type { TenantRun } from "../../../../lib/evidence/findTenantRun";
import { openEvidenceSession, type EvidenceDeps } from "../../../../lib/evidence/evidenceSession";
import type { RunStatus } from "../../../../lib/schemas/api/runs";
import type { ExitCodeRecord } from "../../../../lib/schemas/artifacts/outcome";
import { artifactLink, runLinks } from "../runLinks";
import { isUnknownInstance } from "../../../isUnknownInstance";
import { exitCodeFields } from "../../../../lib/domain/exitCode/exitCodeTable";

// What devicePatchRun publishes as its custom status (orchestrators/devicePatchRun.ts DeviceRunStatus).
const LiveStatusSchema = z.object({ stage: z.string(), progress: z.number().min(0).max(1) });

/**
 * A run as the status API shows it: the Runs row for where it is, the orchestration's custom status for the live
 * stage, and once the exit code exists, its reasons read back from `exit-code.json` verified against the index.
 */
export async function describeRun(
  evidence: EvidenceDeps,
  durable: () => df.DurableClient,
  found: TenantRun,
): Promise<RunStatus> {
  const { ref, row } = found;
  const status: RunStatus = {
    tenant: ref.tenant,
    client: ref.client,
    device: ref.device,
    runId: ref.runId,
    status: row.status,
    startedAt: row.startedAt,
    ...(row.dryRun === undefined ? {} : { dryRun: row.dryRun }),
    ...(row.merkleRoot === undefined ? {} : { merkleRoot: row.merkleRoot }),
    ...(row.eventsChainHead === undefined ? {} : { eventsChainHead: row.eventsChainHead }),
    links: runLinks(ref.tenant, ref.runId),
  };
  if (row.status === "completed") {
    // One session: the exit code is read verified and confined to this run's folder, and the listing below shows
    // only rows inside it (a row naming another run's blob is neither read nor linked).
    const session = openEvidenceSession(evidence, ref);
    const rows = await session.ownRows();
    const reading = await session.read(ARTIFACTS.exitCode);
    if (reading.read.status === "verified") {
      const record = reading.value as ExitCodeRecord;
      Object.assign(status, { exitCode: record.exitCode, exitCodeName: record.name, reasons: record.reasons });
    } else {
      // The row says completed but the decision does not verify: say so rather than repeat an unproven code.
      Object.assign(status, {
        ...exitCodeFields("ReportingFailure"),
        reasons: [`exit-code.json ${reading.read.status}${reading.read.problem ? `: ${reading.read.problem}` : ""}`],
      });
    }
    status.evidence = [...rows.values()]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((r) => ({
        path: r.path,
        sha256: r.sha256,
        size: r.size,
        href: artifactLink(ref.tenant, ref.runId, r.path),
      }));
    return status;
  }
  if (row.instanceId === undefined) return status;
  try {
    const instance = await durable().getStatus(row.instanceId);
    const { Failed, Terminated } = df.OrchestrationRuntimeStatus;
    if (instance.runtimeStatus === Failed || instance.runtimeStatus === Terminated) status.status = "failed";
    const live = LiveStatusSchema.safeParse(instance.customStatus);
    if (live.success) Object.assign(status, { stage: live.data.stage, progress: live.data.progress });
  } catch (error) {
    // Queued and not yet picked up by the host: the row is all there is.
    if (!isUnknownInstance(error)) throw error;
  }
  return status;
}
