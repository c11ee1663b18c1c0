import { ARTIFACTS } from "../../artifacts";
import type { InstallOutcome } from "../../../schemas/artifacts/catalog";
import type { BaselineDiff } from "../../../schemas/artifacts/snapshot";
import type { CheckResult, Regressions, ValidationReport } from "../../../schemas/artifacts/validation";
import { escapeHtml } from "./escape";
import { formatHresult, formatTime, hash, notAvailable, passFail, table, textRow } from "./format";
import type { ReportHtmlInput } from "./types";

const OK_RESULTS = new Set<InstallOutcome["result"]>(["Succeeded", "AlreadyInstalled"]);

function resultTag(result: InstallOutcome["result"]): string {
  const tone = OK_RESULTS.has(result)
    ? "ok"
    : result === "SucceededWithErrors"
      ? "warn"
      : result === "NotAttempted"
        ? "skip"
        : "bad";
  const symbol = tone === "ok" ? "✔" : tone === "bad" ? "✘" : "•";
  return `<span class="tag ${tone}">${symbol} ${escapeHtml(result)}</span>`;
}

/** Section 3: one row per approved update and how its install ended. */
export function renderUpdates({ installs }: ReportHtmlInput): string {
  const head = '<section id="updates" data-section="updates"><h2>Updates</h2>';
  if (installs === undefined)
    return `${head}${notAvailable(ARTIFACTS.installSummary.path, "the install summary")}</section>`;
  if (installs.length === 0) return `${head}<p>No update was installed or attempted in this run.</p></section>`;
  const rows = installs.map((i) =>
    [
      '<tr data-testid="update-row">',
      `<td><code>${escapeHtml(i.updateId)}</code></td>`,
      `<td>${escapeHtml(i.kb ?? i.version ?? "")}</td>`,
      `<td>${escapeHtml(i.title)}</td>`,
      `<td>${resultTag(i.result)}${i.rebootRequired ? '<br><span class="muted">needs restart</span>' : ""}</td>`,
      `<td><code>${escapeHtml(formatHresult(i.hresult))}</code></td>`,
      `<td>${formatTime(i.finishedAt)}</td>`,
      "</tr>",
    ].join(""),
  );
  return `${head}${table(["Update id", "KB / version", "Title", "Result", "HRESULT", "Finished"], rows, "updates")}</section>`;
}

type Outcome = Regressions["regressions"][number];

function findCheck(report: ValidationReport | undefined, app: string, check: string): CheckResult | undefined {
  return report?.results.find((r) => r.app === app && r.check === check);
}

function side(
  title: string,
  outcome: Outcome["pre"],
  result: CheckResult | undefined,
  report: ValidationReport | undefined,
  path: string,
): string {
  const attempts =
    report === undefined
      ? `<p class="na">Attempts not available (<code>${escapeHtml(path)}</code> is not in the verified evidence).</p>`
      : result === undefined
        ? '<p class="na">This check is not in the validation report.</p>'
        : `<ol class="attempts">${result.attempts.map((a) => `<li>${formatTime(a.at)} ${passFail(a.success)} ${escapeHtml(a.detail)}</li>`).join("")}</ol>`;
  return [
    `<div class="side" data-side="${title.toLowerCase()}">`,
    `<h4>${escapeHtml(title)} ${title === "PRE" ? "(before patching)" : "(after patching)"}: ${passFail(outcome.success)}</h4>`,
    `<p class="detail">${escapeHtml(outcome.detail)}</p>`,
    attempts,
    "</div>",
  ].join("");
}

/** A regression as a PRE | POST pair, with every attempt the validation reports recorded. */
function regressionBlock(r: Outcome, input: ReportHtmlInput): string {
  const { preValidation, postValidation } = input;
  const pre = findCheck(preValidation, r.app, r.check);
  const post = findCheck(postValidation, r.app, r.check);
  const type = (post ?? pre)?.type;
  return [
    `<div class="regression" data-testid="regression" data-app="${escapeHtml(r.app)}" data-check="${escapeHtml(r.check)}">`,
    `<h3>${escapeHtml(r.app)} / ${escapeHtml(r.check)}${type === undefined ? "" : ` <span class="muted">(${escapeHtml(type)} check)</span>`}</h3>`,
    '<div class="pair">',
    side("PRE", r.pre, pre, preValidation, ARTIFACTS.preValidation.path),
    side("POST", r.post, post, postValidation, ARTIFACTS.postValidation.path),
    "</div></div>",
  ].join("");
}

/** Section 4: checks that passed before patching and fail after it, PRE and POST side by side. */
export function renderRegressions(input: ReportHtmlInput): string {
  const { regressions } = input;
  const head = '<section id="regressions" data-section="regressions"><h2>Regressions</h2>';
  if (regressions === undefined)
    return `${head}${notAvailable(ARTIFACTS.regressions.path, "the regression report")}</section>`;
  const blocks =
    regressions.regressions.length === 0
      ? "<p>No regressions: every check that passed before patching still passes after it.</p>"
      : regressions.regressions.map((r) => regressionBlock(r, input)).join("\n");
  const preExisting =
    regressions.preExisting.length === 0
      ? ""
      : [
          "<h3>Pre-existing failures (not counted)</h3>",
          '<p class="muted">These checks were already failing before patching, so patching did not cause them.</p>',
          `<ul class="pre-existing">${regressions.preExisting
            .map(
              (p) =>
                `<li><b>${escapeHtml(p.app)} / ${escapeHtml(p.check)}</b>: before ${passFail(p.pre.success)} ${escapeHtml(p.pre.detail)}; after ${passFail(p.post.success)} ${escapeHtml(p.post.detail)}</li>`,
            )
            .join("")}</ul>`,
        ].join("");
  return `${head}${blocks}${preExisting}</section>`;
}

function changeTable(title: string, changes: BaselineDiff["services"]): string {
  if (changes.length === 0) return `<h3>${escapeHtml(title)}</h3><p class="muted">No changes.</p>`;
  const cell = (v: string | null): string => (v === null ? "(absent)" : v);
  return `<h3>${escapeHtml(title)}</h3>${table(
    ["Name", "Before", "After"],
    changes.map((c) => textRow([c.name, cell(c.before), cell(c.after)])),
  )}`;
}

function updateList(title: string, ids: readonly string[]): string {
  return `<h3>${escapeHtml(title)}</h3>${ids.length === 0 ? '<p class="muted">None.</p>' : `<ul>${ids.map((id) => `<li>${escapeHtml(id)}</li>`).join("")}</ul>`}`;
}

/** Section 5: what changed on the device between the baseline and the post snapshot. */
export function renderBaselineDiff({ baselineDiff: d }: ReportHtmlInput): string {
  const head = '<section id="baseline-diff" data-section="baseline-diff"><h2>Baseline diff</h2>';
  if (d === undefined) return `${head}${notAvailable(ARTIFACTS.baselineDiff.path, "the baseline diff")}</section>`;
  const build =
    d.osBuild.before === d.osBuild.after
      ? `<p>OS build unchanged: <b>${escapeHtml(d.osBuild.before)}</b>.</p>`
      : `<p>OS build <b>${escapeHtml(d.osBuild.before)}</b> → <b>${escapeHtml(d.osBuild.after)}</b>.</p>`;
  return [
    head,
    build,
    updateList("Updates added", d.updatesAdded),
    updateList("Updates removed", d.updatesRemoved),
    changeTable("Services", d.services),
    changeTable("Drivers", d.drivers),
    changeTable("Applications", d.apps),
    "</section>",
  ].join("\n");
}

/** Section 6: per control, the sealed artifacts an auditor checks it against. */
export function renderCompliance({ report }: ReportHtmlInput): string {
  const head = '<section id="compliance" data-section="compliance"><h2>Compliance mapping</h2>';
  if (report.compliance.length === 0)
    return `${head}<p class="na">No control is evidenced by a sealed artifact of this run.</p></section>`;
  const rows = report.compliance.flatMap((c) =>
    c.artifacts.map(
      (a) =>
        `<tr><td>${escapeHtml(c.framework)}</td><td>${escapeHtml(c.control)}</td><td><code>${escapeHtml(a.path)}</code></td><td>${hash(a.sha256)}</td></tr>`,
    ),
  );
  return `${head}${table(["Framework", "Control", "Artifact", "SHA-256"], rows, "compliance")}</section>`;
}

/** Section 7: the seal, and every sealed artifact with its hash, so a printout can be checked against the store. */
export function renderHashes({ report, artifactIndex }: ReportHtmlInput): string {
  const e = report.evidence;
  const seal = [
    '<dl class="facts seal">',
    `<dt>Merkle root</dt><dd><code class="hash" data-testid="merkle-root">${escapeHtml(e.merkleRoot)}</code></dd>`,
    `<dt>Event chain head</dt><dd>${hash(e.eventsChainHead)}</dd>`,
    `<dt>exit-code.json SHA-256</dt><dd>${hash(e.exitCodeSha256)}</dd>`,
    "</dl>",
  ].join("");
  const index =
    artifactIndex === undefined
      ? notAvailable(ARTIFACTS.artifactIndex.path, "the artifact index")
      : table(
          ["Artifact", "SHA-256", "Bytes"],
          artifactIndex.map(
            (a) => `<tr><td><code>${escapeHtml(a.path)}</code></td><td>${hash(a.sha256)}</td><td>${a.size}</td></tr>`,
          ),
          "artifact-index",
        );
  return [
    '<section id="hashes" data-section="hashes"><h2>Hashes and seal</h2>',
    seal,
    "<h3>Sealed artifacts</h3>",
    index,
    `<p class="verify">Check this run against the evidence store with <code>patchpilot verify --run ${escapeHtml(report.run.runId)}</code>. This page is written after the seal (indexed, but not a Merkle leaf): the hashes above are the evidence.</p>`,
    "</section>",
  ].join("\n");
}
