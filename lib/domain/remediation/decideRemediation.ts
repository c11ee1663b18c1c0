import type {
  NotRequested,
  QuarantineSubject,
  RemediationRecord,
  UninstallRecord,
} from "../../schemas/artifacts/remediation";
import type { Regressions } from "../../schemas/artifacts/validation";
import type { RemediationMode } from "../../schemas/remediationPolicy";
import type { RestoreRecord } from "../../schemas/artifacts/diskSnapshots";

/** What the remediation's outcome is read from (verified evidence of this run). */
export interface RemediationEvidence {
  mode: RemediationMode;
  regressionsBefore: number;
  /** Why it could not run, from the planner (undefined when it ran to the end). */
  notPossible?: string;
  uninstall?: UninstallRecord;
  /** The re-validation's regressions (12-remediation/regressions.json). */
  after?: Regressions;
  /** Installed by this run and not requested (when no uninstall ran: from the removal plan). */
  notRequested: NotRequested[];
  /** restoreSnapshot: the OS-disk swap (12-remediation/restore.json). */
  restore?: RestoreRecord;
  /** restoreSnapshot: what this run installed (a restore takes all of it back, so a recovery quarantines all of it). */
  installedByRun?: QuarantineSubject[];
  readFrom: string[];
  decidedAt: string;
}

/**
 * The outcome of a remediation: recovered when the POST validation run again shows no regression, still failing when
 * it shows one, not possible (and why) when nothing could be removed or re-validated. Pure.
 */
export function decideRemediation(e: RemediationEvidence): RemediationRecord {
  const results = e.uninstall?.results ?? [];
  const uninstalled = results
    .filter((r) => r.result === "Uninstalled")
    .map((r) => ({
      updateId: r.updateId,
      ...(r.kb === undefined ? {} : { kb: r.kb }),
      ...(r.version === undefined ? {} : { version: r.version }),
    }));
  const notUninstalled = results
    .filter((r) => r.result !== "Uninstalled")
    .map((r) => ({
      updateId: r.updateId,
      ...(r.kb === undefined ? {} : { kb: r.kb }),
      result: r.result,
      ...(r.detail === undefined ? {} : { detail: r.detail }),
    }));
  const notRequested = e.uninstall?.notRequested ?? e.notRequested;
  const names = (list: readonly { updateId: string; kb?: string }[]): string =>
    list.map((u) => u.kb ?? u.updateId).join(", ");
  const refused =
    notUninstalled.length === 0
      ? ""
      : `; not removed: ${notUninstalled.map((u) => `${u.kb ?? u.updateId} (${u.result}${u.detail === undefined ? "" : `: ${u.detail}`})`).join(", ")}`;
  const base = {
    schemaVersion: 1 as const,
    mode: e.mode,
    regressionsBefore: e.regressionsBefore,
    uninstalled,
    notUninstalled,
    notRequested,
    quarantine: [] as QuarantineSubject[],
    ...(e.restore === undefined
      ? {}
      : {
          restore: {
            snapshotId: e.restore.snapshotId,
            ...(e.restore.newDiskId === undefined ? {} : { newDiskId: e.restore.newDiskId }),
            ...(e.restore.oldDiskId === undefined ? {} : { oldDiskId: e.restore.oldDiskId }),
          },
        }),
    readFrom: e.readFrom,
    decidedAt: e.decidedAt,
  };
  if (e.notPossible !== undefined || e.after === undefined) {
    return {
      ...base,
      outcome: "not-possible",
      reason: `${e.notPossible ?? "no POST validation after the remediation"}${refused}`,
    };
  }
  const after = e.after.TotalRegressions;
  const restored = e.restore?.ok === true;
  const removed = restored
    ? `restored the OS disk from snapshot ${e.restore!.snapshotId} (disk ${e.restore!.newDiskId ?? "?"} replaces ${e.restore!.oldDiskId ?? "?"}, kept)`
    : uninstalled.length === 0
      ? "nothing removed"
      : `removed ${names(uninstalled)}`;
  if (after === 0) {
    // Removing these cleared the regression: they are what the client's next windows must not install again. A
    // restore took back everything this run installed: all of it is held back.
    const quarantine = restored
      ? (e.installedByRun ?? [])
      : results
          .filter((r) => r.result === "Uninstalled")
          .map((r): QuarantineSubject =>
            r.kb !== undefined ? { kind: "kb", kb: r.kb } : { kind: "package", name: r.updateId },
          );
    return {
      ...base,
      quarantine,
      regressionsAfter: 0,
      outcome: "recovered",
      reason: `${removed}; the POST validation passes again (${e.regressionsBefore} regression(s) before, 0 after)${refused}`,
    };
  }
  const still = e.after.regressions.map((r) => `${r.app}/${r.check}`).join(", ");
  return {
    ...base,
    regressionsAfter: after,
    outcome: "still-failing",
    reason: `${removed}; ${after} regression(s) remain after it: ${still}${refused}`,
  };
}
