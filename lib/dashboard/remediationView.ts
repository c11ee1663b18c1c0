import type { RunLogRow } from "../azure/logs/logRows";
import { EXIT_CODE } from "../domain/exitCode/exitCodeTable";
import type { QuarantineEntry } from "../schemas/quarantine";
import { RemediationModeSchema, type RemediationMode } from "../schemas/remediationPolicy";
import { compareOrdinal, inRange, lookbackRange, timeOf } from "./rowSelection";

// The dashboard's remediation view (issue 20): one row per run that remediated a regression, from the run rows the
// dashboard already reads (the exit code's reasons end with the remediation's outcome: lib/domain/exitCode/
// decideExitCode.ts writes `remediation (<mode>): <outcome>: <reason>`, and lib/domain/remediation/
// decideRemediation.ts starts the reason with `removed <updates>;` or `nothing removed;`) and the quarantine store
// (the client-layer entry that names the run). Local dashboard only: the workbook has no quarantine table yet.

export const REMEDIATION_OUTCOMES = ["recovered", "still-failing", "not-possible"] as const;
export type RemediationOutcome = (typeof REMEDIATION_OUTCOMES)[number];

/** One run's remediation as the dashboard shows it. */
export interface RemediationRow {
  tenant: string;
  client: string;
  device: string;
  runId: string;
  /** When the run's exit code was decided (its row's TimeGenerated). */
  decidedAt: string;
  mode: RemediationMode;
  outcome: RemediationOutcome;
  /** The updates removed (Windows KBs) or put back to their earlier version (Linux packages), in removal order. */
  removed: string[];
  /** The remediation's own words (why, what remains, what was refused). */
  reason: string;
  /** The quarantine entries naming this run, still in force (`kb` or package name, and where). */
  quarantined: { update: string; scope: QuarantineEntry["scope"]; lifted: boolean }[];
  evidencePrefix: string;
}

const NOTE = /^remediation \(([A-Za-z]+)\): (recovered|still-failing|not-possible): ([\s\S]*)$/;

/** The remediation a run row's reasons name, or undefined (no remediation, or a reason this code did not write). */
export function parseRemediationReason(
  reasons: readonly string[],
): { mode: RemediationMode; outcome: RemediationOutcome; reason: string; removed: string[] } | undefined {
  for (const text of reasons) {
    const match = NOTE.exec(text);
    if (match === null) continue;
    const mode = RemediationModeSchema.safeParse(match[1]);
    if (!mode.success) continue;
    const reason = match[3] ?? "";
    const removed = /^removed ([^;]+);/.exec(reason)?.[1]?.split(", ") ?? [];
    return { mode: mode.data, outcome: match[2] as RemediationOutcome, reason, removed };
  }
  return undefined;
}

const updateOf = (q: QuarantineEntry): string => (q.update.kind === "kb" ? q.update.kb : q.update.name);

/** Every remediated run in the range (latest first), with the quarantine entries that name it. */
export function remediationRows(
  runs: readonly RunLogRow[],
  quarantined: readonly QuarantineEntry[],
  options: { now: Date; lookbackDays?: number; tenant?: string; client?: string },
): RemediationRow[] {
  const range = lookbackRange(options.now, options.lookbackDays ?? 30);
  const rows: RemediationRow[] = [];
  for (const run of runs) {
    if (run.ExitCode !== EXIT_CODE.ValidationFailure || !inRange(run.TimeGenerated, range)) continue;
    if (options.tenant !== undefined && run.Tenant !== options.tenant) continue;
    if (options.client !== undefined && run.Client !== options.client) continue;
    const parsed = parseRemediationReason(run.Reasons);
    if (parsed === undefined) continue;
    const entries = quarantined.filter((q) => q.tenant === run.Tenant && q.source.runs.includes(run.RunId));
    rows.push({
      tenant: run.Tenant,
      client: run.Client,
      device: run.Device,
      runId: run.RunId,
      decidedAt: run.TimeGenerated,
      ...parsed,
      quarantined: entries.map((q) => ({ update: updateOf(q), scope: q.scope, lifted: q.lifted !== undefined })),
      evidencePrefix: run.EvidencePrefix,
    });
  }
  return rows.sort((a, b) => timeOf(b.decidedAt) - timeOf(a.decidedAt) || compareOrdinal(a.runId, b.runId));
}
