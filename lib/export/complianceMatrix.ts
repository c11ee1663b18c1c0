import { COMPLIANCE_MAP, type ComplianceMapping } from "../domain/report/complianceMap";
import { escapeHtml } from "../domain/report/renderReportHtml";

type Framework = ComplianceMapping["framework"];

/** A control and the artifacts that evidence it: an entry of COMPLIANCE_MAP, the one mapping the run report uses too. */
export type MatrixControl = ComplianceMapping;

const PHASE_ORDER = ["Plan", "Assess", "Deploy", "Verify"];
const FRAMEWORK_ORDER: readonly Framework[] = ["NIST SP 800-40r4", "NIST SP 800-53r5", "CIS Controls v8"];

/** Natural order of ids (CM-2 < CM-3 < CM-8, 7.3 < 8.2 < 12); SP 800-40r4 phases in lifecycle order. */
function compareControls(a: MatrixControl, b: MatrixControl): number {
  const framework = FRAMEWORK_ORDER.indexOf(a.framework) - FRAMEWORK_ORDER.indexOf(b.framework);
  if (framework !== 0) return framework;
  const phase = PHASE_ORDER.indexOf(a.id) - PHASE_ORDER.indexOf(b.id);
  if (phase !== 0) return phase;
  return a.id.localeCompare(b.id, "en", { numeric: true });
}

/** Every control of the matrix, in the order the CSV and HTML list them. */
export const MATRIX_CONTROLS: readonly MatrixControl[] = [...COMPLIANCE_MAP].sort(compareControls);

/** Every artifact path the matrix can cite (what the package writer keeps per run for it). */
export const MATRIX_PATHS: ReadonlySet<string> = new Set(MATRIX_CONTROLS.flatMap((c) => c.paths));

/** A run's artifacts as the matrix sees them: present in the package, with the indexed hash and the export-time check. */
export interface MatrixRun {
  client: string;
  device: string;
  runId: string;
  folder: string;
  artifacts: ReadonlyMap<string, { sha256: string; status: string }>;
}

/** One row: a control and one artifact of one run that evidences it. */
export interface MatrixRow {
  framework: Framework;
  id: string;
  title: string;
  client: string;
  device: string;
  runId: string;
  /** Path inside the package. */
  artifact: string;
  sha256: string;
  status: string;
}

/** Rows control by control, then run by run, then in the control's artifact order; only artifacts present. */
export function* matrixRows(runs: readonly MatrixRun[]): Generator<MatrixRow> {
  for (const control of MATRIX_CONTROLS) yield* controlRows(control, runs);
}

function* controlRows(control: MatrixControl, runs: readonly MatrixRun[]): Generator<MatrixRow> {
  for (const run of runs) {
    for (const path of control.paths) {
      const artifact = run.artifacts.get(path);
      if (artifact === undefined) continue;
      yield {
        framework: control.framework,
        id: control.id,
        title: control.title,
        client: run.client,
        device: run.device,
        runId: run.runId,
        artifact: `${run.folder}${path}`,
        sha256: artifact.sha256,
        status: artifact.status,
      };
    }
  }
}

/** Column names of matrix.csv. */
export const MATRIX_CSV_HEADER = [
  "framework",
  "id",
  "title",
  "client",
  "device",
  "runId",
  "artifact",
  "sha256",
  "status",
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma or line break, quotes doubled. A field a spreadsheet
 * would run as a formula (= + - @, tab, CR) is prefixed with an apostrophe (OWASP CSV injection), because the file is
 * meant to be opened in Excel by people who did not write it.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A CSV record with the RFC 4180 line end. */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/** `compliance/matrix.csv`, line by line. */
export function* matrixCsv(runs: readonly MatrixRun[]): Generator<string> {
  yield csvLine(MATRIX_CSV_HEADER);
  for (const r of matrixRows(runs))
    yield csvLine([r.framework, r.id, r.title, r.client, r.device, r.runId, r.artifact, r.sha256, r.status]);
}

/** What the HTML page's heading states about the export. */
export interface MatrixContext {
  tenant: string;
  exportId: string;
  createdAt: string;
  from: string;
  to: string;
}

const STYLE = [
  "body{font-family:system-ui,sans-serif;margin:2rem;color:#111}",
  "table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}",
  "td,th{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.85rem}",
  "th{background:#eee}code{font-size:.8rem;word-break:break-all}.bad{color:#a00;font-weight:bold}",
  "@media print{body{margin:0}h2{page-break-before:always}h2:first-of-type{page-break-before:avoid}thead{display:table-header-group}tr{page-break-inside:avoid}}",
].join("");

/**
 * `compliance/matrix.html`, chunk by chunk: a printable, self-contained page (no scripts, no external assets, a CSP
 * that forbids both), a summary of runs per control, then one table per control. Every value is escaped.
 */
export function* matrixHtml(runs: readonly MatrixRun[], context: MatrixContext): Generator<string> {
  const e = escapeHtml;
  const title = `Compliance evidence matrix: ${context.tenant}, export ${context.exportId}`;
  yield [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${e(title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head><body>",
    `<h1>${e(title)}</h1>`,
    `<p>Runs started from ${e(context.from)} to ${e(context.to)} (exclusive); package created ${e(context.createdAt)}. ${runs.length} runs.`,
    " Each row names an artifact in this package and its SHA-256 as indexed; the status is the check made when the package was built.",
    " Verify the package with <code>patchpilot verify --package</code> (see README.md) before relying on it.</p>",
    "<h2>Summary</h2>",
    "<table><thead><tr><th>Framework</th><th>Id</th><th>Title</th><th>Evidencing artifacts</th><th>Runs with evidence</th></tr></thead><tbody>",
    "",
  ].join("\n");
  for (const control of MATRIX_CONTROLS) {
    const withEvidence = runs.filter((r) => control.paths.some((p) => r.artifacts.has(p))).length;
    yield `<tr><td>${e(control.framework)}</td><td>${e(control.id)}</td><td>${e(control.title)}</td><td>${control.paths.map((p) => `<code>${e(p)}</code>`).join("<br>")}</td><td>${withEvidence} of ${runs.length}</td></tr>\n`;
  }
  yield "</tbody></table>\n";
  for (const control of MATRIX_CONTROLS) {
    yield `<h2>${e(control.framework)} ${e(control.id)}: ${e(control.title)}</h2>\n`;
    yield "<table><thead><tr><th>Client</th><th>Device</th><th>Run</th><th>Artifact</th><th>SHA-256</th><th>Status</th></tr></thead><tbody>\n";
    for (const r of controlRows(control, runs)) {
      const status = r.status === "verified" ? e(r.status) : `<span class="bad">${e(r.status)}</span>`;
      yield `<tr><td>${e(r.client)}</td><td>${e(r.device)}</td><td>${e(r.runId)}</td><td><code>${e(r.artifact)}</code></td><td><code>${e(r.sha256)}</code></td><td>${status}</td></tr>\n`;
    }
    yield "</tbody></table>\n";
  }
  yield "</body></html>\n";
}
