import { ARTIFACTS, PHASES, failurePath, specForPath } from "../domain/artifacts";
import type { PlanRecord } from "../domain/run/planDeviceRun";
import type { EvidenceDeps } from "../evidence/runEvidence";
import type { PhaseFailure } from "../schemas/artifacts/run";
import type { RunRef } from "../schemas/common";
import type { StoredList } from "./storedArtifacts";

/** Writes what a planner decision must leave as evidence (a skipped or failed install, an empty summary). */
export async function carryOutRecords(
  evidence: EvidenceDeps,
  run: RunRef,
  records: readonly PlanRecord[],
  stored: StoredList,
  now: Date,
): Promise<void> {
  for (const record of records) {
    // Written by lib/deviceRun/remediation/recordRemediation.ts (it also quarantines, so it needs more than evidence).
    if (record.kind === "remediation") continue;
    // Carried out by lib/deviceRun/loadBalancer/carryOutLoadBalancer.ts (ARM-side, with its own evidence).
    if (record.kind === "loadBalancer") continue;
    if (record.kind === "empty-install-summary") {
      await stored.put(evidence, run, ARTIFACTS.installSummary, []);
      continue;
    }
    if (record.kind === "phase-failed") {
      // A phase never sent (the agent is known gone): nothing ran, so no transcripts.
      const never: PhaseFailure = {
        schemaVersion: 1,
        phase: PHASES[record.phase],
        kind: record.failureKind,
        message: record.reason,
        at: now.toISOString(),
        transcripts: [],
      };
      await stored.put(evidence, run, specForPath(failurePath(record.phase)), never);
      continue;
    }
    const failure: PhaseFailure = {
      schemaVersion: 1,
      phase: PHASES.install,
      kind: record.failureKind,
      message: record.reason,
      at: now.toISOString(),
      // Every install attempt's transcripts: what the device said before the run gave up on it.
      transcripts: stored
        .list()
        .map((r) => r.path)
        .filter((p) => p.startsWith(`${PHASES.install}/transcripts/`)),
    };
    await stored.put(evidence, run, specForPath(failurePath("install")), failure);
  }
}
