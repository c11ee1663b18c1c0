// The fleet dashboard page (`/dashboard` of the local front): the workbook's figures as one self-contained HTML page,
// charts drawn server-side as inline SVG. No scripts and no external assets, so the CSP forbids both.
import type { FleetFigures, HaltedWindow, OpenRegression } from "../../lib/dashboard/fleetFigures";
import { escapeHtml } from "../../lib/domain/report/renderReportHtml";
import type { RemediationRow } from "../../lib/dashboard/remediationView";
import type { QuarantineEntry } from "../../lib/schemas/quarantine";
import {
  complianceColour,
  exitCodeStyle,
  formatPercent,
  renderComplianceChart,
  renderExitCodeChart,
  renderExitCodeLegend,
  renderInlineBar,
} from "./charts";

/** How the page is rendered: when, and where each open regression's report.html is. */
export interface DashboardRenderOptions {
  generatedAt: Date;
  /** URL of the run's HTML report (e.g. the API's artifact route); only http(s) and relative URLs become links. */
  reportUrl: (row: OpenRegression) => string;
  /** Seconds between automatic reloads; 0 turns them off. Default 30. */
  refreshSeconds?: number;
  /** Rows left out because they failed their table's schema (shown as a warning when non-zero). */
  rejectedRows?: number;
  /**
   * Updates quarantined now (the quarantine store, not Log Analytics rows): absent, the section is left out (the
   * workbook has no such table yet).
   */
  quarantined?: readonly QuarantineEntry[];
  /**
   * Remediated regressions (issue 20; lib/dashboard/remediationView.ts, from the run rows and the quarantine store):
   * absent, the section is left out.
   */
  remediations?: readonly RemediationRow[];
}

const CSS = [
  "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1f2328;background:#f6f8fa}",
  "main{max-width:1200px;margin:0 auto;padding:1.5rem}",
  "h1{margin:0 0 .25rem;font-size:1.6rem}h2{font-size:1.15rem;margin:0 0 .75rem}",
  ".sub{color:#57606a;margin:0 0 1.25rem}.muted{fill:#57606a;color:#57606a}",
  "section.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1.25rem;overflow-x:auto}",
  ".tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:1rem;margin-bottom:1.25rem}",
  ".tile{background:#fff;border:1px solid #d0d7de;border-left:6px solid var(--accent);border-radius:8px;padding:.9rem 1rem}",
  ".tile .value{font-size:2.2rem;font-weight:650;color:var(--accent)}.tile .label{font-weight:600}.tile .detail{color:#57606a;font-size:.85rem}",
  "svg.chart text{font-size:12px;fill:#1f2328}svg.chart .tenant{font-weight:650}svg .track{fill:#eaeef2}",
  "svg.chart .grid{stroke:#eaeef2}svg.chart .axis{fill:#57606a;font-size:11px}",
  ".legend{list-style:none;display:flex;flex-wrap:wrap;gap:.4rem 1rem;padding:0;margin:.5rem 0 0;font-size:.85rem}",
  ".swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.35rem;vertical-align:-1px}",
  "table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #d0d7de;padding:.4rem .5rem;text-align:left;vertical-align:top}",
  "th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}code{font-size:.85em;word-break:break-all}",
  "ul.plain{margin:0;padding-left:1rem}.empty{color:#57606a;font-style:italic}.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .75rem;border-radius:6px}",
].join("");

/** `2026-01-20 03:14 UTC` from an ISO 8601 timestamp (any offset). */
export function formatUtc(timestamp: string): string {
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? timestamp : `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Only http(s) and scheme-less URLs are followed: a `javascript:` URL must never become a link. */
function safeHref(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim());
  return scheme === null || /^https?$/i.test(scheme[1] ?? "") ? url : undefined;
}

const e = escapeHtml;
const td = (text: string, cls?: string): string => `<td${cls === undefined ? "" : ` class="${cls}"`}>${text}</td>`;
const list = (items: readonly string[]): string =>
  items.length === 0
    ? '<span class="empty">none</span>'
    : `<ul class="plain">${items.map((i) => `<li>${e(i)}</li>`).join("")}</ul>`;
const table = (headers: readonly string[], rows: readonly string[], empty: string, testid: string): string =>
  rows.length === 0
    ? `<p class="empty" data-testid="empty-${testid}">${e(empty)}</p>`
    : `<table><thead><tr>${headers.map((h) => `<th>${e(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;

function tile(name: string, label: string, value: string, rawValue: string, detail: string, accent: string): string {
  return `<div class="tile" data-testid="tile-${name}" data-value="${e(rawValue)}" style="--accent:${accent}"><div class="value">${e(value)}</div><div class="label">${e(label)}</div><div class="detail">${e(detail)}</div></div>`;
}

function renderTiles(f: FleetFigures): string {
  const h = f.headline;
  const alarm = (n: number, colour: string): string => (n > 0 ? colour : "#2e7d32");
  return `<div class="tiles">${[
    tile(
      "compliance",
      "Compliance",
      formatPercent(h.percent),
      h.percent === null ? "" : String(h.percent),
      `${h.compliant} of ${h.devices} devices (${h.unknown} unknown: no run in the range)`,
      complianceColour(h.percent),
    ),
    tile(
      "open-regressions",
      "Open regressions",
      String(h.openRegressions),
      String(h.openRegressions),
      "latest run ended 220",
      alarm(h.openRegressions, exitCodeStyle(220).colour),
    ),
    tile(
      "pending-reboot",
      "Pending reboot",
      String(h.pendingReboot),
      String(h.pendingReboot),
      "latest run ended 150",
      alarm(h.pendingReboot, exitCodeStyle(150).colour),
    ),
    tile(
      "halted-windows",
      "Halted windows",
      String(h.haltedWindows),
      String(h.haltedWindows),
      "stopped by maxErrors or a ring gate",
      alarm(h.haltedWindows, exitCodeStyle(210).colour),
    ),
  ].join("")}</div>`;
}

function renderRegressionRow(r: OpenRegression, reportUrl: (row: OpenRegression) => string): string {
  const href = safeHref(reportUrl(r));
  const report =
    href === undefined
      ? e(r.reportPath ?? "report.html")
      : `<a href="${e(href)}" data-testid="report-link">report.html</a>`;
  const ttd = r.timeToDetectMinutes === null ? "\u2014" : `${r.timeToDetectMinutes.toFixed(1)} min`;
  const attrs = `data-testid="open-regression" data-run-id="${e(r.runId)}" data-tenant="${e(r.tenant)}" data-client="${e(r.client)}" data-device="${e(r.device)}"`;
  return `<tr ${attrs}>${[
    td(`<b>${e(r.device)}</b><br><span class="muted">${e(r.tenant)} / ${e(r.client)}</span>`),
    td(e(formatUtc(r.decidedAt))),
    td(list(r.regressionChecks)),
    td(e(ttd), "num"),
    td(e([r.windowId, r.ring].filter((v): v is string => v !== undefined).join(" / ") || "\u2014")),
    td(`${report}<br><code>${e(r.runId)}</code>`),
    td(`<code>${e(r.evidencePrefix)}</code>`),
  ].join("")}</tr>`;
}

function renderQuarantineRow(q: QuarantineEntry): string {
  const update = q.update.kind === "kb" ? q.update.kb : q.update.name;
  const where = q.scope === "tenant" ? `${q.tenant} (every client)` : `${q.tenant} / ${q.client ?? ""}`;
  const attrs = `data-testid="quarantined-update" data-tenant="${e(q.tenant)}" data-scope="${e(q.scope)}" data-update="${e(update)}"`;
  return `<tr ${attrs}>${[
    td(`<b>${e(update)}</b>`),
    td(e(where)),
    td(e(formatUtc(q.quarantinedAt))),
    td(
      `${e(q.reason)}<br><span class="muted">by ${e(q.quarantinedBy)}; clients ${e(q.source.clients.join(", ") || "\u2014")}</span>`,
    ),
    td(list(q.source.runs)),
  ].join("")}</tr>`;
}

function renderRemediationRow(r: RemediationRow): string {
  const attrs = [
    `data-testid="remediation"`,
    `data-run-id="${e(r.runId)}"`,
    `data-device="${e(r.device)}"`,
    `data-outcome="${e(r.outcome)}"`,
    `data-removed="${e(r.removed.join(","))}"`,
    `data-quarantined="${e(
      r.quarantined
        .filter((q) => !q.lifted)
        .map((q) => q.update)
        .join(","),
    )}"`,
  ].join(" ");
  const quarantine = r.quarantined.map((q) => `${q.update} (${q.scope}${q.lifted ? ", lifted" : ""})`);
  return `<tr ${attrs}>${[
    td(`<b>${e(r.device)}</b><br><span class="muted">${e(r.tenant)} / ${e(r.client)}</span>`),
    td(e(formatUtc(r.decidedAt))),
    td(`<b>${e(r.outcome)}</b><br><span class="muted">${e(r.mode)}</span>`),
    td(list(r.removed)),
    td(list(quarantine)),
    td(`${e(r.reason)}<br><code>${e(r.runId)}</code>`),
  ].join("")}</tr>`;
}

function renderHaltedRow(w: HaltedWindow): string {
  const reasons = w.haltReasons.map(
    (h) => `${h.kind} \u00b7 ring ${h.ring}${h.client === undefined ? "" : ` \u00b7 client ${h.client}`}: ${h.detail}`,
  );
  const attrs = `data-testid="halted-window" data-tenant="${e(w.tenant)}" data-window-id="${e(w.windowId)}" data-occurrence-id="${e(w.occurrenceId)}"`;
  return `<tr ${attrs}>${[
    td(`<b>${e(w.windowId)}</b><br><span class="muted">${e(w.tenant)} \u00b7 ${e(w.occurrenceId)}</span>`),
    td(e(formatUtc(w.finishedAt))),
    td(list(reasons)),
    td(`${w.succeeded} ok, ${w.failed} failed, ${w.notStarted} not started of ${w.targets}`, "num"),
    td(`<code>${e(w.reportPath)}</code>`),
  ].join("")}</tr>`;
}

/**
 * The fleet dashboard as a complete HTML page: headline tiles, compliance bars per tenant and client, exit codes per
 * day, and tables of open regressions (each linking to its run's report.html), failing KBs, pending reboots and halted
 * windows. Every row-derived string is escaped; `data-testid` hooks carry the figures for browser tests.
 */
export function renderDashboardHtml(figures: FleetFigures, options: DashboardRenderOptions): string {
  const refresh = options.refreshSeconds ?? 30;
  const f = figures;
  const maxFailures = Math.max(0, ...f.topFailingKbs.map((k) => k.failures));
  const compliance =
    f.compliance.byTenant.length === 0
      ? '<p class="empty" data-testid="empty-compliance">No non-dry runs in the range.</p>'
      : renderComplianceChart(f.compliance.byTenant, f.compliance.byClient);
  const exitCodes =
    f.exitCodesByDay.length === 0
      ? '<p class="empty" data-testid="empty-exit-codes">No non-dry runs in the range.</p>'
      : renderExitCodeChart(f.exitCodesByDay, f.range) + renderExitCodeLegend(f.exitCodesByDay);
  const rejected = options.rejectedRows ?? 0;
  return `${[
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    refresh > 0 ? `<meta http-equiv="refresh" content="${Math.floor(refresh)}">` : "",
    "<title>PatchPilot fleet</title>",
    `<style>${CSS}</style>`,
    "</head><body><main>",
    "<h1>PatchPilot fleet</h1>",
    `<p class="sub" data-testid="range" data-from="${e(f.range.from)}" data-to="${e(f.range.to)}">Last ${f.range.lookbackDays} days (${e(formatUtc(f.range.from))} \u2013 ${e(formatUtc(f.range.to))}); generated ${e(formatUtc(options.generatedAt.toISOString()))}. A device counts by its latest non-dry run that is not a 170 (ConcurrencyLock changed nothing); dry runs are left out.</p>`,
    rejected > 0
      ? `<p class="warn" data-testid="rejected-rows">${rejected} row${rejected === 1 ? "" : "s"} failed their table's schema and are left out.</p>`
      : "",
    renderTiles(f),
    `<section class="card"><h2>Patch compliance by tenant and client</h2>${compliance}</section>`,
    `<section class="card"><h2>Exit codes per day</h2>${exitCodes}</section>`,
    `<section class="card"><h2>Open regressions</h2>${table(
      ["Device", "Decided", "Failed checks", "Time to detect", "Window / ring", "Report", "Evidence"],
      f.openRegressions.map((r) => renderRegressionRow(r, options.reportUrl)),
      "No device's latest run ended with a regression.",
      "open-regressions",
    )}</section>`,
    `<section class="card"><h2>Top failing KBs</h2>${table(
      ["KB", "Title", "Failures", "Devices", "HRESULTs"],
      f.topFailingKbs.map(
        (k) =>
          `<tr data-testid="failing-kb" data-kb="${e(k.kb)}" data-failures="${k.failures}" data-devices="${k.devices}">${[
            td(`<b>${e(k.kb)}</b>`),
            td(e(k.title)),
            td(`${renderInlineBar(k.failures, maxFailures, exitCodeStyle(210).colour)} ${k.failures}`, "num"),
            td(String(k.devices), "num"),
            td(
              k.hresults.length === 0
                ? '<span class="empty">none</span>'
                : k.hresults.map((h) => `<code>${e(h)}</code>`).join(" "),
            ),
          ].join("")}</tr>`,
      ),
      "No failed installs in the range.",
      "failing-kbs",
    )}</section>`,
    `<section class="card"><h2>Devices pending reboot</h2>${table(
      ["Device", "Decided", "Reboot", "Reasons"],
      f.pendingReboot.map(
        (p) =>
          `<tr data-testid="pending-reboot" data-run-id="${e(p.runId)}" data-tenant="${e(p.tenant)}" data-client="${e(p.client)}" data-device="${e(p.device)}">${[
            td(`<b>${e(p.device)}</b><br><span class="muted">${e(p.tenant)} / ${e(p.client)}</span>`),
            td(e(formatUtc(p.decidedAt))),
            td(e(p.reboot)),
            td(list(p.reasons)),
          ].join("")}</tr>`,
      ),
      "No device is waiting for a reboot.",
      "pending-reboot",
    )}</section>`,
    ...(
      [
        [
          "Unreachable or could not report (240)",
          (c: string) => c !== "integrity",
          "Every 240 device answered and reported.",
        ],
        ["Evidence integrity failures (240)", (c: string) => c === "integrity", "No evidence failed verification."],
      ] as const
    ).map(
      ([title, pick, empty]) =>
        `<section class="card"><h2>${e(title)}</h2>${table(
          ["Device", "Decided", "Cause", "Reasons"],
          f.reportingFailures
            .filter((r) => pick(r.cause))
            .map(
              (r) =>
                `<tr data-testid="reporting-failure" data-cause="${e(r.cause)}" data-run-id="${e(r.runId)}" data-device="${e(r.device)}">${[
                  td(`<b>${e(r.device)}</b><br><span class="muted">${e(r.tenant)} / ${e(r.client)}</span>`),
                  td(e(formatUtc(r.decidedAt))),
                  td(`${e(r.cause)}<br><code>${e(r.rule)}</code>`),
                  td(list(r.reasons)),
                ].join("")}</tr>`,
            ),
          empty,
          pick("integrity") ? "integrity-failures" : "unreachable",
        )}</section>`,
    ),
    options.remediations === undefined
      ? ""
      : `<section class="card"><h2>Remediated regressions</h2>${table(
          ["Device", "Decided", "Outcome", "Removed", "Quarantined", "Why"],
          options.remediations.map(renderRemediationRow),
          "No run remediated a regression in the range.",
          "remediations",
        )}</section>`,
    options.quarantined === undefined
      ? ""
      : `<section class="card"><h2>Quarantined updates</h2>${table(
          ["Update", "Where", "Since", "Why", "Regressing runs"],
          options.quarantined.filter((q) => q.lifted === undefined).map(renderQuarantineRow),
          "No update is quarantined.",
          "quarantined",
        )}</section>`,
    `<section class="card"><h2>Halted maintenance windows</h2>${table(
      ["Window", "Finished", "Why it stopped", "Devices", "Window report"],
      f.haltedWindows.map(renderHaltedRow),
      "No window was halted in the range.",
      "halted-windows",
    )}</section>`,
    '<p class="sub">The same figures as the Azure Monitor workbook (infra/dashboards); definitions in lib/dashboard/fleetFigures.ts. On call: docs/operations.md.</p>',
    "</main></body></html>",
  ]
    .filter((line) => line !== "")
    .join("\n")}\n`;
}
