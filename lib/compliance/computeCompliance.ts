import { compliancePercent } from "../dashboard/fleetFigures";
import type { Severity } from "../schemas/policies";
import type { ComplianceReport, ComplianceSla, DeviceCompliance, MissingUpdate } from "./complianceSchemas";

// Compliance over time, defined once (pure: no I/O, no clock). A device's standing on a day is read from its latest
// assessment (a sealed catalog: scan-only or patch run) taken in the period up to that day's end:
// - missing updates = the catalog's applicable updates, less those the same run's install summary says went in;
// - an update's age = days from its release date (or, without one, the first assessment in the data that saw it
//   missing) to the day's end; it breaches when the age exceeds the SLA of its severity;
// - compliant = assessed and no breach; noncompliant = a breach; unknown = no assessment in the period up to that day
//   (a device that could not be looked at is never compliant, and is in every percentage's denominator).

const SEVERITIES: readonly Severity[] = ["Critical", "Important", "Moderate", "Low", "Unspecified"];
const DAY_MS = 86_400_000;

/** One assessment of one device: the catalog of a sealed run, read back and verified. */
export interface Assessment {
  device: string;
  runId: string;
  /** When the catalog was evaluated. */
  at: string;
  catalogSha256: string;
  updates: readonly {
    updateId: string;
    kb?: string | undefined;
    title: string;
    severity: Severity;
    releaseDate: string | null;
    decision: "approved" | "excluded";
  }[];
  /** Update ids the same run installed (install summary, installed=true). */
  installed: readonly string[];
}

/** What the report is computed from. */
export interface ComplianceInput {
  tenant: string;
  client: string;
  from: string;
  to: string;
  sla: ComplianceSla;
  generatedAt: string;
  /** Every device of the client (inventory and the devices that have runs): the denominator. */
  devices: readonly string[];
  assessments: readonly Assessment[];
  unreadable: ComplianceReport["unreadable"];
}

function zeroCounts(): Record<Severity, number> {
  return { Critical: 0, Important: 0, Moderate: 0, Low: 0, Unspecified: 0 };
}

function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

const dayEnd = (day: string): number => Date.parse(`${day}T00:00:00Z`) + DAY_MS - 1;

/** The standing of one device at the end of `day`, from its assessments (sorted by time). */
function standing(
  device: string,
  assessments: readonly Assessment[],
  firstSeen: ReadonlyMap<string, number>,
  periodStart: number,
  day: string,
  sla: ComplianceSla,
): DeviceCompliance {
  const end = dayEnd(day);
  const latest = assessments.filter((a) => Date.parse(a.at) >= periodStart && Date.parse(a.at) <= end).at(-1);
  const base = { device, missingBySeverity: zeroCounts(), breachesBySeverity: zeroCounts(), missing: [] };
  if (latest === undefined) return { ...base, status: "unknown" };
  const installed = new Set(latest.installed);
  const missing: MissingUpdate[] = latest.updates
    .filter((u) => !installed.has(u.updateId))
    .map((u) => {
      const since =
        u.releaseDate === null ? (firstSeen.get(u.updateId) ?? Date.parse(latest.at)) : Date.parse(u.releaseDate);
      const ageDays = Math.max(0, Math.floor((end - since) / DAY_MS));
      const slaDays = sla[u.severity];
      return {
        updateId: u.updateId,
        ...(u.kb === undefined ? {} : { kb: u.kb }),
        title: u.title,
        severity: u.severity,
        since: new Date(since).toISOString(),
        ageDays,
        slaDays,
        breached: ageDays > slaDays,
        decision: u.decision,
      };
    })
    .sort((a, b) => b.ageDays - a.ageDays || (a.updateId < b.updateId ? -1 : a.updateId > b.updateId ? 1 : 0));
  const missingBySeverity = zeroCounts();
  const breachesBySeverity = zeroCounts();
  for (const m of missing) {
    missingBySeverity[m.severity] += 1;
    if (m.breached) breachesBySeverity[m.severity] += 1;
  }
  return {
    device,
    status: missing.some((m) => m.breached) ? "noncompliant" : "compliant",
    lastAssessedAt: latest.at,
    runId: latest.runId,
    catalogSha256: latest.catalogSha256,
    missingBySeverity,
    breachesBySeverity,
    missing,
  };
}

/** The client's compliance report for the period (see the definitions above). */
export function computeCompliance(input: ComplianceInput): ComplianceReport {
  const periodStart = Date.parse(`${input.from}T00:00:00Z`);
  const devices = [...new Set([...input.devices, ...input.assessments.map((a) => a.device)])].sort();
  const byDevice = new Map<string, Assessment[]>();
  for (const a of [...input.assessments].sort((x, y) => Date.parse(x.at) - Date.parse(y.at))) {
    byDevice.set(a.device, [...(byDevice.get(a.device) ?? []), a]);
  }
  const firstSeenOf = new Map<string, Map<string, number>>();
  for (const [device, list] of byDevice) {
    const seen = new Map<string, number>();
    for (const a of list) for (const u of a.updates) if (!seen.has(u.updateId)) seen.set(u.updateId, Date.parse(a.at));
    firstSeenOf.set(device, seen);
  }
  const at = (day: string): DeviceCompliance[] =>
    devices.map((d) =>
      standing(d, byDevice.get(d) ?? [], firstSeenOf.get(d) ?? new Map(), periodStart, day, input.sla),
    );

  const trend = days(input.from, input.to).map((day) => {
    const rows = at(day);
    const compliant = rows.filter((r) => r.status === "compliant").length;
    return {
      day,
      devices: rows.length,
      compliant,
      noncompliant: rows.filter((r) => r.status === "noncompliant").length,
      unknown: rows.filter((r) => r.status === "unknown").length,
      percent: compliancePercent(compliant, rows.length),
    };
  });
  const final = at(input.to);
  const missingBySeverity = zeroCounts();
  const breachesBySeverity = zeroCounts();
  for (const d of final)
    for (const s of SEVERITIES) {
      missingBySeverity[s] += d.missingBySeverity[s] ?? 0;
      breachesBySeverity[s] += d.breachesBySeverity[s] ?? 0;
    }
  const last = trend.at(-1)!;
  return {
    schemaVersion: 1,
    tenant: input.tenant,
    client: input.client,
    from: input.from,
    to: input.to,
    generatedAt: input.generatedAt,
    sla: input.sla,
    summary: {
      devices: last.devices,
      compliant: last.compliant,
      noncompliant: last.noncompliant,
      unknown: last.unknown,
      percent: last.percent,
      missingBySeverity,
      breachesBySeverity,
    },
    trend,
    devices: final,
    unreadable: input.unreadable,
  };
}
