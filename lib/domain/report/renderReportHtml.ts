import { escapeHtml } from "./html/escape";
import { renderBaselineDiff, renderCompliance, renderHashes, renderRegressions, renderUpdates } from "./html/sections";
import { REPORT_CSS } from "./html/styles";
import { renderSummary } from "./html/summary";
import { renderTimeline } from "./html/timeline";
import type { ReportHtmlInput } from "./html/types";

export { escapeHtml } from "./html/escape";
export type { ReportHtmlInput } from "./html/types";

/**
 * `11-report/report.html`: a self-contained, printable page (no scripts, no external assets, a CSP that forbids both)
 * a client's IT manager or an auditor can open from the evidence store. Every value from a device is escaped. The
 * output depends only on the input (times come from the report), because the page is hashed as evidence.
 */
export function renderReportHtml(input: ReportHtmlInput): string {
  const { run } = input.report;
  const title = `PatchPilot run ${run.runId}: ${run.device} (exit code ${input.report.exitCode})`;
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    "</head><body><main>",
    renderSummary(input),
    renderTimeline(input),
    renderUpdates(input),
    renderRegressions(input),
    renderBaselineDiff(input),
    renderCompliance(input),
    renderHashes(input),
    "</main></body></html>",
    "",
  ].join("\n");
}
