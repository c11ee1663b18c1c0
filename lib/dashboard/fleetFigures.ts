import type { RunLogRow, UpdateLogRow, WindowLogRow } from "../azure/logs/logRows";
import { ARTIFACTS } from "../domain/artifacts";
import { EXIT_CODE, eventTypeOf } from "../domain/exitCode/exitCodeTable";
import { compareOrdinal, inRange, latestBy, lookbackRange, timeOf, utcDay, type TimeRange } from "./rowSelection";

// The fleet dashboard's figures, defined once. infra/dashboards/queries/*.kql compute the same figures from the Log
// Analytics tables for the workbook; each query names the field it mirrors, and test/unit/infra/dashboards.test.ts
// checks that the field exists. Change a definition here and in its query together.

/** Exit codes the figures single out (lib/domain/exitCode/exitCodeTable.ts). */
export const EXIT = {
  success: EXIT_CODE.Success,
  rebootRequired: EXIT_CODE.RebootRequired,
  concurrencyLock: EXIT_CODE.ConcurrencyLock,
  validationFailure: EXIT_CODE.ValidationFailure,
  reportingFailure: EXIT_CODE.ReportingFailure,
} as const;

/**
 * Whether a run says the state of its device: not a dry run (it changes nothing) and not a 170 (ConcurrencyLock:
 * another run held the device lock, so this one changed nothing on the device). The queries' `| where DryRun == false`
 * and `| where ExitCode != 170`, both before the latest run per device is taken.
 */
export function saysDeviceState(run: Pick<RunLogRow, "DryRun" | "ExitCode">): boolean {
  return !run.DryRun && run.ExitCode !== EXIT.concurrencyLock;
}

/** The Log Analytics rows the figures are computed from (as read back from the three custom tables). */
export interface FleetRows {
  runs: readonly RunLogRow[];
  updates: readonly UpdateLogRow[];
  windows: readonly WindowLogRow[];
}

/** When the figures are computed for, how far back they look, and an optional tenant / client filter. */
export interface FleetFigureOptions {
  now: Date;
  /** Default 30. */
  lookbackDays?: number;
  /** Only this tenant's rows (the workbook's Tenant parameter). */
  tenant?: string;
  /** Only this client's run and update rows (the workbook's Client parameter); windows span clients and stay. */
  client?: string;
}

/**
 * Devices, compliant devices and the percentage, for one group of devices. `devices` is every known device
 * ({@link KNOWN_DEVICE_DAYS}); one without a run that says its state in the range is `unknown`: in the denominator,
 * never compliant (leaving it out would overstate compliance).
 */
export interface ComplianceCounts {
  devices: number;
  compliant: number;
  unknown: number;
  /** `floor(1000 × compliant / devices) / 10`: rounded down to one decimal, never overstated; null for no devices. */
  percent: number | null;
}

/** Compliance of one tenant. */
export interface TenantCompliance extends ComplianceCounts {
  tenant: string;
}

/** Compliance of one client of a tenant. */
export interface ClientCompliance extends ComplianceCounts {
  tenant: string;
  client: string;
}

/** Run counts of one UTC day, per exit code. */
export interface ExitCodeDay {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** Ascending by exit code; only codes that occurred. */
  counts: { exitCode: number; runs: number }[];
  runs: number;
}

/** A device whose latest run found a regression (220) and has not been patched cleanly since. */
export interface OpenRegression {
  tenant: string;
  client: string;
  device: string;
  runId: string;
  /** TimeGenerated of the run row: when the exit code was decided. */
  decidedAt: string;
  windowId?: string;
  ring?: string;
  /** `app/check` of each regression. */
  regressionChecks: string[];
  reasons: string[];
  regressionDetectedAt?: string;
  installsFinishedAt?: string;
  /** `(RegressionDetectedAt − InstallsFinishedAt)` in minutes, unrounded; null when either time is missing. */
  timeToDetectMinutes: number | null;
  /** Blob path of report.html as the row has it (the run's evidence prefix + `11-report/report.html`). */
  reportPath?: string;
  /** report.html's path inside the run folder, as the API's artifact route takes it ({@link reportArtifactPath}). */
  reportArtifact: string;
  reportSha256?: string;
  evidencePrefix: string;
}

/** A KB (or an update without one, by its update id) that failed to install. */
export interface FailingKb {
  /** `Kb`, or `UpdateId` when the row has no KB. */
  kb: string;
  /** The ordinally smallest non-empty title seen for it ("" if none). */
  title: string;
  failures: number;
  devices: number;
  /** Distinct non-empty HRESULTs, ascending. */
  hresults: string[];
}

/** A device whose latest run ended with 150: it still needs the reboot that policy did not allow or that did not finish. */
export interface PendingReboot {
  tenant: string;
  client: string;
  device: string;
  runId: string;
  decidedAt: string;
  reboot: string;
  reasons: string[];
  reportPath?: string;
}

/**
 * Why a device's latest run is a 240 (issue 21), from its rule's event type in the exit-code table: the device could
 * not be reached, the evidence could not be collected, or stored evidence fails verification (the incident). A rule
 * the table does not list (a row from before the split) counts as integrity: never understated.
 */
export type ReportingFailureCause = "unreachable" | "could-not-report" | "integrity";

/** A device whose latest run ended with 240, with its cause. */
export interface ReportingFailure {
  tenant: string;
  client: string;
  device: string;
  runId: string;
  decidedAt: string;
  rule: string;
  cause: ReportingFailureCause;
  reasons: string[];
}

/** The cause of a 240 by its rule. */
export function reportingFailureCause(rule: string | undefined): ReportingFailureCause {
  const type = eventTypeOf(EXIT.reportingFailure, rule ?? "");
  if (type === "io.patchpilot.device.unreachable") return "unreachable";
  if (type === "io.patchpilot.evidence.incomplete") return "could-not-report";
  return "integrity";
}

/** A maintenance window occurrence a safety stop (maxErrors or a ring gate) halted. */
export interface HaltedWindow {
  tenant: string;
  windowId: string;
  occurrenceId: string;
  scheduledStart: string;
  /** TimeGenerated of the window row: when the occurrence finished. */
  finishedAt: string;
  haltReasons: WindowLogRow["HaltReasons"];
  targets: number;
  completed: number;
  succeeded: number;
  failed: number;
  notStarted: number;
  reportPath: string;
}

/** The headline numbers (the workbook's tiles). */
export interface FleetHeadline extends ComplianceCounts {
  openRegressions: number;
  pendingReboot: number;
  haltedWindows: number;
}

/** Everything the fleet dashboard and the workbook show. */
export interface FleetFigures {
  range: { from: string; to: string; lookbackDays: number };
  headline: FleetHeadline;
  compliance: { byTenant: TenantCompliance[]; byClient: ClientCompliance[] };
  exitCodesByDay: ExitCodeDay[];
  openRegressions: OpenRegression[];
  topFailingKbs: FailingKb[];
  pendingReboot: PendingReboot[];
  haltedWindows: HaltedWindow[];
  /** Devices whose latest run is a 240, each with its cause (issue 21). */
  reportingFailures: ReportingFailure[];
}

/** How many failing KBs the figures list. */
export const TOP_FAILING_KBS = 10;

/** `floor(1000 × compliant / devices) / 10` in integers, as the queries' `todouble((1000 * Compliant) / Devices) / 10`. */
export function compliancePercent(compliant: number, devices: number): number | null {
  if (devices === 0) return null;
  const scaled = 1000 * compliant;
  return (scaled - (scaled % devices)) / devices / 10;
}

/**
 * How far before the range a run row still makes its device known: a device seen then but without a run that says
 * its state in the range counts as unknown. The queries' `between ((rangeStart - 90d) .. rangeEnd)`.
 */
export const KNOWN_DEVICE_DAYS = 90;

/** A known device: its key and, when a run in the range says its state, that run. */
interface KnownDevice {
  Tenant: string;
  Client: string;
  Device: string;
  latest: RunLogRow | undefined;
}

function counts(devices: readonly KnownDevice[]): ComplianceCounts {
  const compliant = devices.filter((d) => d.latest?.ExitCode === EXIT.success).length;
  const unknown = devices.filter((d) => d.latest === undefined).length;
  return { devices: devices.length, compliant, unknown, percent: compliancePercent(compliant, devices.length) };
}

/** Every device with any run row (dry runs and 170s included) from KNOWN_DEVICE_DAYS before the range to its end. */
function knownDevices(all: readonly RunLogRow[], latest: readonly RunLogRow[], range: TimeRange): KnownDevice[] {
  const from = range.from - KNOWN_DEVICE_DAYS * 86_400_000;
  const byKey = new Map<string, KnownDevice>();
  for (const r of all) {
    const t = timeOf(r.TimeGenerated);
    if (t < from || t > range.to) continue;
    const key = JSON.stringify([r.Tenant, r.Client, r.Device]);
    if (!byKey.has(key)) byKey.set(key, { Tenant: r.Tenant, Client: r.Client, Device: r.Device, latest: undefined });
  }
  for (const r of latest) {
    const key = JSON.stringify([r.Tenant, r.Client, r.Device]);
    byKey.set(key, { Tenant: r.Tenant, Client: r.Client, Device: r.Device, latest: r });
  }
  return [...byKey.values()];
}

function groupBy<T>(
  rows: readonly T[],
  key: (row: T) => readonly string[],
): Map<string, { key: readonly string[]; rows: T[] }> {
  const groups = new Map<string, { key: readonly string[]; rows: T[] }>();
  for (const row of rows) {
    const parts = key(row);
    const k = JSON.stringify(parts);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, { key: parts, rows: [row] });
    else group.rows.push(row);
  }
  return groups;
}

/**
 * The latest run of each device (Tenant, Client, Device) that says its state ({@link saysDeviceState}: non-dry, exit
 * code other than 170), from the runs given (the caller limits them to the range): KQL `| where DryRun == false`,
 * `| where ExitCode != 170`, then `summarize arg_max(TimeGenerated, *) by Tenant, Client, Device`. A later 170 or dry
 * run therefore never hides an earlier 220, 150 or 0, and a device with no such run has no entry. Copies of one run
 * (retried delivery) are equal, so which copy wins does not matter; two different runs decided at the same instant are
 * settled by the greater RunId so the page is stable (arg_max takes either; runs of one device are serialised by its
 * lock, so that tie does not arise from real runs).
 */
export function latestRunPerDevice(runs: readonly RunLogRow[]): RunLogRow[] {
  return latestBy(
    runs.filter(saysDeviceState),
    (r) => [r.Tenant, r.Client, r.Device],
    (a, b) => compareOrdinal(a.RunId, b.RunId),
  );
}

const byNewestThenDevice = <T extends { decidedAt: string; tenant: string; client: string; device: string }>(
  a: T,
  b: T,
): number =>
  timeOf(b.decidedAt) - timeOf(a.decidedAt) ||
  compareOrdinal(a.tenant, b.tenant) ||
  compareOrdinal(a.client, b.client) ||
  compareOrdinal(a.device, b.device);

/**
 * report.html's path inside the run folder: ReportPath without the run's EvidencePrefix (rows carry the blob path),
 * ReportPath itself when it is already relative, `11-report/report.html` when the row has none. The query's
 * `ReportArtifact` is the same expression (case-sensitive prefix, as `startswith_cs`).
 */
export function reportArtifactPath(row: Pick<RunLogRow, "ReportPath" | "EvidencePrefix">): string {
  const path = row.ReportPath;
  if (path === undefined || path === "") return ARTIFACTS.reportHtml.path;
  return path.startsWith(row.EvidencePrefix) ? path.slice(row.EvidencePrefix.length) : path;
}

/** The fields every per-device table row starts with. */
function deviceRun(r: RunLogRow): Pick<PendingReboot, "tenant" | "client" | "device" | "runId" | "decidedAt"> {
  return { tenant: r.Tenant, client: r.Client, device: r.Device, runId: r.RunId, decidedAt: r.TimeGenerated };
}

function openRegression(r: RunLogRow): OpenRegression {
  const detected = r.RegressionDetectedAt;
  const finished = r.InstallsFinishedAt;
  return {
    ...deviceRun(r),
    ...(r.WindowId === undefined ? {} : { windowId: r.WindowId }),
    ...(r.Ring === undefined ? {} : { ring: r.Ring }),
    regressionChecks: [...r.RegressionChecks],
    reasons: [...r.Reasons],
    ...(detected === undefined ? {} : { regressionDetectedAt: detected }),
    ...(finished === undefined ? {} : { installsFinishedAt: finished }),
    timeToDetectMinutes:
      detected === undefined || finished === undefined ? null : (timeOf(detected) - timeOf(finished)) / 60_000,
    ...(r.ReportPath === undefined ? {} : { reportPath: r.ReportPath }),
    reportArtifact: reportArtifactPath(r),
    ...(r.ReportSha256 === undefined ? {} : { reportSha256: r.ReportSha256 }),
    evidencePrefix: r.EvidencePrefix,
  };
}

function pendingReboot(r: RunLogRow): PendingReboot {
  return {
    ...deviceRun(r),
    reboot: r.Reboot,
    reasons: [...r.Reasons],
    ...(r.ReportPath === undefined ? {} : { reportPath: r.ReportPath }),
  };
}

function exitCodesByDay(runs: readonly RunLogRow[]): ExitCodeDay[] {
  // Every run once, however often its row was delivered: arg_max by Tenant, Client, Device, RunId.
  const distinctRuns = latestBy(runs, (r) => [r.Tenant, r.Client, r.Device, r.RunId]);
  return [...groupBy(distinctRuns, (r) => [utcDay(r.TimeGenerated)]).values()]
    .map(({ key, rows }) => {
      const perCode = [...groupBy(rows, (r) => [String(r.ExitCode)]).values()]
        .map((g) => ({ exitCode: Number(g.key[0]), runs: g.rows.length }))
        .sort((a, b) => a.exitCode - b.exitCode);
      return { day: key[0] ?? "", counts: perCode, runs: rows.length };
    })
    .sort((a, b) => compareOrdinal(a.day, b.day));
}

function topFailingKbs(updates: readonly UpdateLogRow[]): FailingKb[] {
  const failed = updates.filter((u) => !u.Installed && u.Result !== "NotAttempted");
  const distinct = latestBy(failed, (u) => [u.Tenant, u.Client, u.Device, u.RunId, u.UpdateId]);
  const sortedSet = (values: readonly string[]): string[] =>
    [...new Set(values.filter((v) => v !== ""))].sort(compareOrdinal);
  return [...groupBy(distinct, (u) => [u.Kb === undefined || u.Kb === "" ? u.UpdateId : u.Kb]).values()]
    .map(({ key, rows }) => ({
      kb: key[0] ?? "",
      title: sortedSet(rows.map((u) => u.Title))[0] ?? "",
      failures: rows.length,
      devices: new Set(rows.map((u) => JSON.stringify([u.Tenant, u.Client, u.Device]))).size,
      hresults: sortedSet(rows.map((u) => u.HResult ?? "")),
    }))
    .sort((a, b) => b.failures - a.failures || compareOrdinal(a.kb, b.kb))
    .slice(0, TOP_FAILING_KBS);
}

function haltedWindows(windows: readonly WindowLogRow[]): HaltedWindow[] {
  return latestBy(windows, (w) => [w.Tenant, w.WindowId, w.OccurrenceId])
    .filter((w) => w.Halted)
    .sort(
      (a, b) =>
        timeOf(b.TimeGenerated) - timeOf(a.TimeGenerated) ||
        compareOrdinal(a.Tenant, b.Tenant) ||
        compareOrdinal(a.WindowId, b.WindowId) ||
        compareOrdinal(a.OccurrenceId, b.OccurrenceId),
    )
    .map((w) => ({
      tenant: w.Tenant,
      windowId: w.WindowId,
      occurrenceId: w.OccurrenceId,
      scheduledStart: w.ScheduledStart,
      finishedAt: w.TimeGenerated,
      haltReasons: w.HaltReasons.map((h) => ({ ...h })),
      targets: w.Targets,
      completed: w.Completed,
      succeeded: w.Succeeded,
      failed: w.Failed,
      notStarted: w.NotStarted,
      reportPath: w.ReportPath,
    }));
}

/**
 * The fleet figures from the three tables' rows. Pure. Definitions (the KQL in infra/dashboards/queries mirrors them):
 * - rows count when TimeGenerated is in `[now − lookbackDays, now]`; dry runs (DryRun=true) are left out of every run
 *   figure;
 * - a device is Tenant/Client/Device; its state is its latest non-dry run with an exit code other than 170 in the range
 *   ({@link latestRunPerDevice}): a 170 (ConcurrencyLock) changed nothing on the device, so it neither sets nor hides
 *   the device's state, and a device whose only runs in the range are 170s (or dry) is not counted at all;
 * - the devices counted for compliance are every device with any run row (dry and 170 included) from
 *   {@link KNOWN_DEVICE_DAYS} before the range to its end; one without a state in the range is unknown (in the
 *   denominator, never compliant);
 * - compliant = latest run ended 0; open regression = latest run ended 220; pending reboot = latest run ended 150;
 * - exit codes per UTC day count every non-dry run once, 170s included (copies of a row by RunId collapse);
 * - failing KBs: update rows with Installed=false and Result other than NotAttempted, one per run and update, grouped
 *   by Kb (UpdateId without one), top {@link TOP_FAILING_KBS} by failures then KB;
 * - halted windows: the latest row of each Tenant/WindowId/OccurrenceId with Halted=true, newest first.
 */
export function computeFleetFigures(rows: FleetRows, options: FleetFigureOptions): FleetFigures {
  const lookbackDays = options.lookbackDays ?? 30;
  const range: TimeRange = lookbackRange(options.now, lookbackDays);
  const { tenant, client } = options;
  const scoped = <T extends { TimeGenerated: string; Tenant: string; Client: string }>(r: T): boolean =>
    inRange(r.TimeGenerated, range) &&
    (tenant === undefined || r.Tenant === tenant) &&
    (client === undefined || r.Client === client);

  const runs = rows.runs.filter((r) => !r.DryRun && scoped(r));
  const latest = latestRunPerDevice(runs);
  const known = knownDevices(
    rows.runs.filter(
      (r) => (tenant === undefined || r.Tenant === tenant) && (client === undefined || r.Client === client),
    ),
    latest,
    range,
  );

  const byTenant = [...groupBy(known, (r) => [r.Tenant]).values()]
    .map(({ key, rows: group }) => ({ tenant: key[0] ?? "", ...counts(group) }))
    .sort((a, b) => compareOrdinal(a.tenant, b.tenant));
  const byClient = [...groupBy(known, (r) => [r.Tenant, r.Client]).values()]
    .map(({ key, rows: group }) => ({ tenant: key[0] ?? "", client: key[1] ?? "", ...counts(group) }))
    .sort((a, b) => compareOrdinal(a.tenant, b.tenant) || compareOrdinal(a.client, b.client));

  const openRegressions = latest
    .filter((r) => r.ExitCode === EXIT.validationFailure)
    .map(openRegression)
    .sort(byNewestThenDevice);
  const reboots = latest
    .filter((r) => r.ExitCode === EXIT.rebootRequired)
    .map(pendingReboot)
    .sort(byNewestThenDevice);
  const reportingFailures = latest
    .filter((r) => r.ExitCode === EXIT.reportingFailure)
    .map((r): ReportingFailure => ({
      ...deviceRun(r),
      rule: r.Rule ?? "",
      cause: reportingFailureCause(r.Rule),
      reasons: [...r.Reasons],
    }))
    .sort(
      (a, b) =>
        compareOrdinal(a.tenant, b.tenant) || compareOrdinal(a.client, b.client) || compareOrdinal(a.device, b.device),
    );
  const halted = haltedWindows(
    rows.windows.filter((w) => inRange(w.TimeGenerated, range) && (tenant === undefined || w.Tenant === tenant)),
  );

  return {
    range: { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), lookbackDays },
    headline: {
      ...counts(known),
      openRegressions: openRegressions.length,
      pendingReboot: reboots.length,
      haltedWindows: halted.length,
    },
    compliance: { byTenant, byClient },
    exitCodesByDay: exitCodesByDay(runs),
    openRegressions,
    topFailingKbs: topFailingKbs(rows.updates.filter(scoped)),
    pendingReboot: reboots,
    haltedWindows: halted,
    reportingFailures,
  };
}
