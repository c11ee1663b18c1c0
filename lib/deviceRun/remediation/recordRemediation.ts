import { ARTIFACTS } from "../../domain/artifacts";
import { decideRemediation } from "../../domain/remediation/decideRemediation";
import type { PlanRecord } from "../../domain/run/planDeviceRun";
import type { EvidenceDeps } from "../../evidence/runEvidence";
import type { QuarantineSubject, RemediationRecord, UninstallRecord } from "../../schemas/artifacts/remediation";
import type { Regressions } from "../../schemas/artifacts/validation";
import type { OsFamily, RunRef } from "../../schemas/common";
import type { QuarantineStore } from "../../quarantine/quarantineStore";
import type { QuarantineRequest } from "../../schemas/quarantine";
import type { RunFacts } from "../runFacts";
import type { StoredList } from "../storedArtifacts";
import { removalOf } from "./removalOf";
import { installedByRun } from "../../domain/remediation/planRemoval";
import type { InstallOutcome } from "../../schemas/artifacts/catalog";
import type { RestoreRecord } from "../../schemas/artifacts/diskSnapshots";

/** Who a quarantine entry written by a remediation names as its author. */
export const REMEDIATION_QUARANTINED_BY = "patchpilot:remediation";

function entryFor(run: RunRef, subject: QuarantineSubject, record: RemediationRecord): QuarantineRequest {
  const what = subject.kind === "kb" ? subject.kb : subject.name;
  return {
    tenant: run.tenant,
    scope: "client",
    client: run.client,
    update: subject.kind === "kb" ? { kind: "kb", kb: subject.kb } : { kind: "package", name: subject.name },
    reason: `regression after ${what} was installed by run ${run.runId} on ${run.device}; remediation ${record.mode}: ${record.outcome}`,
    source: { runs: [run.runId], clients: [run.client] },
    quarantinedAt: record.decidedAt,
    quarantinedBy: REMEDIATION_QUARANTINED_BY,
  };
}

/**
 * Carries out a planner's `remediation` record: reads the run's verified evidence (regressions before, the uninstall
 * answer, the regressions after), writes `12-remediation/remediation.json` (create-once: a retry writes the same
 * bytes, `now` comes from the orchestrator) and quarantines the updates this run installed at the client layer, naming
 * the run, so the client's next window does not install them again until an operator lifts them.
 */
export async function recordRemediation(
  deps: { evidence: EvidenceDeps; quarantine: Pick<QuarantineStore, "quarantine"> },
  run: RunRef,
  os: OsFamily,
  facts: RunFacts,
  records: readonly PlanRecord[],
  stored: StoredList,
  now: Date,
): Promise<RemediationRecord | undefined> {
  const planned = records.find((r) => r.kind === "remediation");
  if (planned === undefined) return undefined;
  const read = async <T>(spec: { path: string }, value: Promise<T | undefined>) => ({
    path: spec.path,
    value: await value,
  });
  const uninstall = await read(ARTIFACTS.uninstall, facts.read<UninstallRecord>(ARTIFACTS.uninstall));
  const after = await read(ARTIFACTS.remediationRegressions, facts.read<Regressions>(ARTIFACTS.remediationRegressions));
  const removal = await removalOf(facts, os);
  const restore = await read(ARTIFACTS.restore, facts.read<RestoreRecord>(ARTIFACTS.restore));
  const readFrom = [
    ARTIFACTS.installSummary.path,
    ...[uninstall, restore, after].filter((r) => r.value !== undefined).map((r) => r.path),
  ];
  const installed =
    restore.value === undefined
      ? []
      : installedByRun((await facts.read<InstallOutcome[]>(ARTIFACTS.installSummary)) ?? []).flatMap(
          (o): QuarantineSubject[] =>
            os === "linux"
              ? [{ kind: "package", name: o.updateId }]
              : o.kb === undefined
                ? [] // a Windows update without a KB (a definition update) cannot be held back by KB
                : [{ kind: "kb", kb: o.kb }],
        );
  const record = decideRemediation({
    mode: planned.mode,
    regressionsBefore: planned.regressionsBefore,
    ...(planned.notPossible === undefined ? {} : { notPossible: planned.notPossible }),
    ...(uninstall.value === undefined ? {} : { uninstall: uninstall.value }),
    ...(after.value === undefined ? {} : { after: after.value }),
    ...(restore.value === undefined ? {} : { restore: restore.value, installedByRun: installed }),
    notRequested: removal.notRequested,
    readFrom,
    decidedAt: now.toISOString(),
  });
  await stored.put(deps.evidence, run, ARTIFACTS.remediation, record);
  // Idempotent (the entry id derives from scope and update): a retried advance finds the entry it wrote.
  for (const subject of record.quarantine) await deps.quarantine.quarantine(entryFor(run, subject, record));
  return record;
}
