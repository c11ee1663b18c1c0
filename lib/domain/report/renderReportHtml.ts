import type { InstallOutcome } from "../../schemas/artifacts/catalog";
import type { FinalReport } from "../../schemas/artifacts/outcome";

/** Escapes text for HTML element content and double-quoted attributes: device output is untrusted. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const row = (cells: readonly string[]): string => `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;

/**
 * `11-report/report.html`: a self-contained page (no scripts, no external assets, a CSP that forbids both) an
 * auditor can open from the evidence store. Every value from a device is escaped.
 */
export function renderReportHtml(report: FinalReport, installs: readonly InstallOutcome[]): string {
  const { run } = report;
  const title = `PatchPilot run ${run.runId}: ${run.device}`;
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeHtml(title)}</title>`,
    "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}code{font-size:.85em}</style>",
    "</head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>Tenant <b>${escapeHtml(run.tenant)}</b>, client <b>${escapeHtml(run.client)}</b>. Generated ${escapeHtml(report.generatedAt)}.</p>`,
    `<h2>Exit code ${report.exitCode} ${escapeHtml(report.exitCodeName)}</h2>`,
    `<ul>${report.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>`,
    "<h2>Updates</h2>",
    `<p>${report.updates.applicable} applicable, ${report.updates.approved} approved, ${report.updates.installed} installed, ${report.updates.failed} failed; ${report.regressions} regressions; reboot: ${escapeHtml(report.reboot)}.</p>`,
    "<table><tr><th>Update</th><th>KB / version</th><th>Title</th><th>Result</th><th>Finished</th></tr>",
    ...installs.map((i) => row([i.updateId, i.kb ?? i.version ?? "", i.title, i.result, i.finishedAt])),
    "</table>",
    "<h2>Compliance evidence</h2>",
    "<table><tr><th>Framework</th><th>Control</th><th>Artifact</th><th>SHA-256</th></tr>",
    ...report.compliance.flatMap((c) => c.artifacts.map((a) => row([c.framework, c.control, a.path, a.sha256]))),
    "</table>",
    "<h2>Seal</h2>",
    `<p>Merkle root <code>${report.evidence.merkleRoot}</code><br>Event chain head <code>${report.evidence.eventsChainHead}</code><br>exit-code.json SHA-256 <code>${report.evidence.exitCodeSha256}</code></p>`,
    "<p>Verify with <code>patchpilot verify --run " + escapeHtml(run.runId) + "</code>.</p>",
    "</body></html>",
    "",
  ].join("\n");
}
