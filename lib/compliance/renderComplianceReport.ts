import { escapeHtml } from "../domain/report/html/escape";
import type { ComplianceReport } from "./complianceSchemas";

// The report an MSP sends its customer: CSV (one row per device and missing update; a device with none, or not
// assessed, gets one row) and a self-contained HTML page. Both are derived from report.json only.

const SEVERITIES = ["Critical", "Important", "Moderate", "Low", "Unspecified"] as const;

/** RFC 4180 field: quoted when needed; a leading = + - @ is prefixed with ' so a spreadsheet never runs it. */
function csvField(value: string | number | boolean | undefined): string {
  let text = value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** `report.csv`: CRLF line ends (RFC 4180). */
export function renderComplianceCsv(report: ComplianceReport): string {
  const header = [
    "tenant",
    "client",
    "device",
    "status",
    "lastAssessedAt",
    "runId",
    "updateId",
    "kb",
    "title",
    "severity",
    "since",
    "ageDays",
    "slaDays",
    "breached",
    "decision",
  ];
  const rows: (string | number | boolean | undefined)[][] = [];
  for (const d of report.devices) {
    const base = [report.tenant, report.client, d.device, d.status, d.lastAssessedAt, d.runId];
    if (d.missing.length === 0) rows.push([...base, "", "", "", "", "", "", "", "", ""]);
    for (const m of d.missing)
      rows.push([
        ...base,
        m.updateId,
        m.kb,
        m.title,
        m.severity,
        m.since,
        m.ageDays,
        m.slaDays,
        m.breached,
        m.decision,
      ]);
  }
  return [header, ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** `report.html`: summary, SLA, trend per day, devices and their breaches. */
export function renderComplianceHtml(report: ComplianceReport): string {
  const e = escapeHtml;
  const s = report.summary;
  const pct = (p: number | null): string => (p === null ? "–" : `${p}%`);
  const sevRow = (label: string, counts: Record<string, number>): string =>
    `<tr><th>${e(label)}</th>${SEVERITIES.map((v) => `<td>${counts[v] ?? 0}</td>`).join("")}</tr>`;
  const trend = report.trend
    .map(
      (t) =>
        `<tr><td>${e(t.day)}</td><td>${t.compliant}</td><td>${t.noncompliant}</td><td>${t.unknown}</td><td>${pct(t.percent)}</td></tr>`,
    )
    .join("");
  const devices = report.devices
    .map((d) => {
      const breaches = d.missing.filter((m) => m.breached);
      const list =
        breaches.length === 0
          ? ""
          : `<ul>${breaches.map((m) => `<li>${e(m.kb ?? m.updateId)} ${e(m.severity)}: ${m.ageDays} days (SLA ${m.slaDays}) – ${e(m.title)}</li>`).join("")}</ul>`;
      return `<tr class="${d.status}"><td>${e(d.device)}</td><td>${e(d.status)}</td><td>${e(d.lastAssessedAt ?? "never in this period")}</td><td>${d.missing.length}</td><td>${breaches.length}${list}</td></tr>`;
    })
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Patch compliance ${e(report.client)} ${e(report.from)} – ${e(report.to)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}tr.noncompliant td:nth-child(2){color:#a00;font-weight:bold}tr.unknown td:nth-child(2){color:#a60}</style>
</head><body>
<h1>Patch compliance: ${e(report.client)}</h1>
<p>Tenant ${e(report.tenant)}, period ${e(report.from)} to ${e(report.to)} (UTC), generated ${e(report.generatedAt)}.</p>
<p><strong>${pct(s.percent)} compliant</strong>: ${s.compliant} of ${s.devices} devices; ${s.noncompliant} breach the SLA; ${s.unknown} unknown (no assessment in the period; never counted as compliant).</p>
<h2>Missing updates at period end</h2>
<table><tr><th></th>${SEVERITIES.map((v) => `<th>${v}</th>`).join("")}</tr>${sevRow("SLA (days)", report.sla)}${sevRow("Missing", s.missingBySeverity)}${sevRow("Beyond SLA", s.breachesBySeverity)}</table>
<h2>Trend per day</h2>
<table><tr><th>Day</th><th>Compliant</th><th>Noncompliant</th><th>Unknown</th><th>Compliant %</th></tr>${trend}</table>
<h2>Devices</h2>
<table><tr><th>Device</th><th>Status</th><th>Last assessed</th><th>Missing</th><th>Beyond SLA</th></tr>${devices}</table>
${report.unreadable.length === 0 ? "" : `<h2>Assessments that could not be read</h2><ul>${report.unreadable.map((u) => `<li>${e(u.device)} run ${e(u.runId)}: ${e(u.problem)}</li>`).join("")}</ul>`}
</body></html>
`;
}
