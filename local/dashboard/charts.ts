// Server-side inline SVG charts of the fleet dashboard: no scripts, no external assets. Every row-derived string
// goes through escapeHtml (text and attributes alike).
import type { ClientCompliance, ExitCodeDay, TenantCompliance } from "../../lib/dashboard/fleetFigures";
import { EXIT_CODE_NAME, EXIT_CODES_ASCENDING, type ExitCodeValue } from "../../lib/domain/exitCode/exitCodeTable";
import { escapeHtml } from "../../lib/domain/report/renderReportHtml";

const EXIT_CODE_COLOURS: Readonly<Record<ExitCodeValue, string>> = {
  0: "#2e7d32",
  150: "#f2a900",
  170: "#9e9e9e",
  210: "#e8590c",
  220: "#d32f2f",
  230: "#7b1fa2",
  240: "#7f0000",
};

/** Name (lib/domain/exitCode/exitCodeTable.ts) and colour of each exit code; the workbook's chart uses the same colours. */
export const EXIT_CODE_STYLES: Readonly<Record<number, { name: string; colour: string }>> = Object.fromEntries(
  EXIT_CODES_ASCENDING.map((code) => [code, { name: EXIT_CODE_NAME[code], colour: EXIT_CODE_COLOURS[code] }]),
);

const UNKNOWN_CODE_COLOUR = "#546e7a";

/** Style of an exit code, with a neutral one for codes DESIGN.md does not define. */
export function exitCodeStyle(code: number): { name: string; colour: string } {
  return EXIT_CODE_STYLES[code] ?? { name: `exit code ${code}`, colour: UNKNOWN_CODE_COLOUR };
}

/** Colour of a compliance percentage: green from 95 %, amber from 80 %, red below, grey without devices. */
export function complianceColour(percent: number | null): string {
  if (percent === null) return "#9e9e9e";
  return percent >= 95 ? "#2e7d32" : percent >= 80 ? "#f2a900" : "#d32f2f";
}

/** `92.5%`, or an em dash when there is nothing to divide. */
export function formatPercent(percent: number | null): string {
  return percent === null ? "\u2014" : `${percent.toFixed(1)}%`;
}

const truncate = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}\u2026`);
const num = (n: number): string => String(Math.round(n * 100) / 100);

const ROW = 26;
const LABEL_W = 230;
const BAR_W = 360;
const COMPLIANCE_W = LABEL_W + BAR_W + 150;

/**
 * Horizontal bars of compliance: each tenant (bold), then its clients (indented). Each bar is a
 * `data-testid="compliance-percent"` group carrying the figure's numbers; tenant rows have no `data-client`.
 */
export function renderComplianceChart(
  byTenant: readonly TenantCompliance[],
  byClient: readonly ClientCompliance[],
): string {
  const rows: { label: string; tenant: string; client?: string; figure: TenantCompliance | ClientCompliance }[] = [];
  for (const tenant of byTenant) {
    rows.push({ label: tenant.tenant, tenant: tenant.tenant, figure: tenant });
    for (const client of byClient.filter((c) => c.tenant === tenant.tenant))
      rows.push({ label: client.client, tenant: client.tenant, client: client.client, figure: client });
  }
  const height = rows.length * ROW + 8;
  const bars = rows.map((row, i) => {
    const { percent, compliant, devices } = row.figure;
    const isTenant = row.client === undefined;
    const width = percent === null ? 0 : (BAR_W * percent) / 100;
    const full = isTenant ? row.tenant : `${row.tenant} / ${row.client ?? ""}`;
    const attrs = [
      'data-testid="compliance-percent"',
      `data-tenant="${escapeHtml(row.tenant)}"`,
      ...(isTenant ? [] : [`data-client="${escapeHtml(row.client ?? "")}"`]),
      `data-percent="${percent === null ? "" : String(percent)}"`,
      `data-compliant="${compliant}"`,
      `data-devices="${devices}"`,
    ].join(" ");
    return [
      `<g ${attrs} transform="translate(0,${i * ROW + 4})">`,
      `<title>${escapeHtml(`${full}: ${formatPercent(percent)} compliant (${compliant} of ${devices} devices)`)}</title>`,
      `<text x="${isTenant ? 4 : 20}" y="16" class="${isTenant ? "label tenant" : "label"}">${escapeHtml(truncate(row.label, isTenant ? 30 : 28))}</text>`,
      `<rect x="${LABEL_W}" y="4" width="${BAR_W}" height="16" rx="3" class="track"/>`,
      `<rect x="${LABEL_W}" y="4" width="${num(width)}" height="16" rx="3" fill="${complianceColour(percent)}"/>`,
      `<text x="${LABEL_W + BAR_W + 8}" y="16" class="value">${escapeHtml(formatPercent(percent))} <tspan class="muted">(${compliant}/${devices})</tspan></text>`,
      "</g>",
    ].join("");
  });
  return `<svg class="chart" role="img" aria-label="Patch compliance by tenant and client" viewBox="0 0 ${COMPLIANCE_W} ${height}" width="${COMPLIANCE_W}" height="${height}">${bars.join("")}</svg>`;
}

/** Every UTC day from `from` to `to` (inclusive), `YYYY-MM-DD`. */
export function utcDays(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${to.slice(0, 10)}T00:00:00Z`);
  for (let t = Date.parse(`${from.slice(0, 10)}T00:00:00Z`); t <= end; t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** The smallest whole 1/2/2.5/5 × 10^n at or above `max` (at least 1), so the axis ends on a round number. */
export function niceCeiling(max: number): number {
  if (max <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) {
    const top = step * magnitude;
    if (Number.isInteger(top) && top >= max) return top;
  }
  return 10 * magnitude;
}

const PLOT_H = 200;
const AXIS_W = 40;
const X_LABEL_H = 34;

/**
 * Stacked bars of runs per UTC day, one colour per exit code (bottom-up in code order), over every day of the range
 * so quiet days show as gaps. Each segment is a `data-testid="exit-code-bar"` rect with its day, code and count.
 */
export function renderExitCodeChart(days: readonly ExitCodeDay[], range: { from: string; to: string }): string {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const axisDays = [...new Set([...utcDays(range.from, range.to), ...byDay.keys()])].sort();
  const top = niceCeiling(Math.max(0, ...days.map((d) => d.runs)));
  const step = Math.max(6, Math.min(40, Math.floor(760 / Math.max(axisDays.length, 1))));
  const barW = Math.max(3, step - 3);
  const width = AXIS_W + axisDays.length * step + 8;
  const height = PLOT_H + X_LABEL_H + 8;
  const y = (count: number): number => 8 + PLOT_H - (PLOT_H * count) / top;
  // Whole-number gridlines: run counts are integers.
  const parts = top >= 4 && top % 4 === 0 ? 4 : top % 5 === 0 ? 5 : top % 2 === 0 ? 2 : 1;
  const grid = Array.from({ length: parts + 1 }, (_, k) => (top * k) / parts).map((value) => {
    const label = String(value);
    return `<line x1="${AXIS_W}" x2="${width - 4}" y1="${num(y(value))}" y2="${num(y(value))}" class="grid"/><text x="${AXIS_W - 6}" y="${num(y(value) + 4)}" class="axis" text-anchor="end">${label}</text>`;
  });
  const labelEvery = Math.ceil(axisDays.length / 12);
  const columns = axisDays.map((day, i) => {
    const x = AXIS_W + i * step + 2;
    let base = 0;
    const segments = (byDay.get(day)?.counts ?? []).map(({ exitCode, runs }) => {
      const style = exitCodeStyle(exitCode);
      const rect = `<rect data-testid="exit-code-bar" data-day="${escapeHtml(day)}" data-code="${exitCode}" data-count="${runs}" x="${x}" y="${num(y(base + runs))}" width="${barW}" height="${num(y(base) - y(base + runs))}" fill="${style.colour}"><title>${escapeHtml(`${day}: ${runs} run${runs === 1 ? "" : "s"} ended ${exitCode} ${style.name}`)}</title></rect>`;
      base += runs;
      return rect;
    });
    const label =
      i % labelEvery === 0
        ? `<text x="${num(x + barW / 2)}" y="${8 + PLOT_H + 16}" class="axis" text-anchor="middle">${escapeHtml(day.slice(5))}</text>`
        : "";
    return segments.join("") + label;
  });
  return `<svg class="chart" role="img" aria-label="Non-dry runs per day by exit code" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${grid.join("")}${columns.join("")}</svg>`;
}

/** Legend of the exit-code chart: DESIGN.md's seven codes, then any other code the figures contain. */
export function renderExitCodeLegend(days: readonly ExitCodeDay[]): string {
  const codes = [
    ...new Set([...Object.keys(EXIT_CODE_STYLES).map(Number), ...days.flatMap((d) => d.counts.map((c) => c.exitCode))]),
  ].sort((a, b) => a - b);
  const items = codes.map((code) => {
    const style = exitCodeStyle(code);
    return `<li data-testid="exit-code-legend" data-code="${code}"><span class="swatch" style="background:${style.colour}"></span>${code} ${escapeHtml(style.name)}</li>`;
  });
  return `<ul class="legend">${items.join("")}</ul>`;
}

/** A small horizontal bar for a table cell (share of the largest value in the column). */
export function renderInlineBar(value: number, max: number, colour: string): string {
  const width = max <= 0 ? 0 : (100 * value) / max;
  return `<svg class="inline-bar" viewBox="0 0 100 10" width="100" height="10" aria-hidden="true"><rect width="100" height="10" rx="2" class="track"/><rect width="${num(width)}" height="10" rx="2" fill="${colour}"/></svg>`;
}
