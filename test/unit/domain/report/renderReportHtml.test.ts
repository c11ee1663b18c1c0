import { ARTIFACTS, PHASES } from "../../../../lib/domain/artifacts";
import { buildFinalReport } from "../../../../lib/domain/report/buildFinalReport";
import { formatDuration, formatHresult } from "../../../../lib/domain/report/html/format";
import { escapeHtml, renderReportHtml, type ReportHtmlInput } from "../../../../lib/domain/report/renderReportHtml";
import { chainEvents, type RunEventInput } from "../../../../lib/evidence/hashChain";
import type { Catalog, InstallOutcome, RebootRecord } from "../../../../lib/schemas/artifacts/catalog";
import type { ExitCode, ExitCodeName } from "../../../../lib/schemas/artifacts/outcome";
import type { RunRecord } from "../../../../lib/schemas/artifacts/run";
import type { BaselineDiff } from "../../../../lib/schemas/artifacts/snapshot";
import type { Regressions, ValidationReport } from "../../../../lib/schemas/artifacts/validation";
import { at, buildSampleArtifacts, type SampleScenario } from "../../../../local/demo/sampleRun";

const run = { tenant: "contoso", client: "acme", device: "WIN-SERVER01", runId: "run-20260120-0001" };
const h = (c: string): string => c.repeat(64);

const NAMES: Record<ExitCode, ExitCodeName> = {
  0: "Success",
  150: "RebootRequired",
  170: "ConcurrencyLock",
  210: "InstallFailure",
  220: "ValidationFailure",
  230: "DiagnosticsFailure",
  240: "ReportingFailure",
};

/** A full input as writeReport would assemble it from the sample run's verified artifacts. */
function fullInput(
  scenario: SampleScenario = {},
  exitCode: ExitCode = 220,
  extraEvents: RunEventInput[] = [],
): ReportHtmlInput {
  const { artifacts, events } = buildSampleArtifacts(run, scenario);
  const paths = Object.keys(artifacts).map((k) => ARTIFACTS[k as keyof typeof ARTIFACTS].path);
  const entries = [...paths, ARTIFACTS.events.path].sort().map((path) => ({ path, sha256: h("d"), size: 100 }));
  const chained = chainEvents(run.runId, [
    ...events,
    ...extraEvents,
    { at: at(56), type: "run.sealed", phase: PHASES.index },
  ]);
  const installs = artifacts.installSummary as InstallOutcome[] | undefined;
  const regressions = artifacts.regressions as Regressions | undefined;
  const reboot = artifacts.reboot as RebootRecord | undefined;
  const report = buildFinalReport({
    exitCode: {
      schemaVersion: 1,
      run,
      exitCode,
      name: NAMES[exitCode],
      rule: "rule",
      reasons: ["WebApp/HealthEndpoint regressed"],
      decidedAt: at(57),
      artifactsRead: [],
    },
    exitCodeSha256: h("e"),
    manifest: {
      schemaVersion: 1,
      run,
      sealedAt: at(56),
      merkle: { algorithm: "rfc6962-sha256", leafCount: entries.length, root: h("a") },
      artifactIndexSha256: h("b"),
      events: { count: chained.length, chainHead: h("c") },
    },
    artifactIndex: { schemaVersion: 1, runId: run.runId, entries },
    catalog: artifacts.catalog as Catalog | undefined,
    installs,
    regressions,
    reboot,
    generatedAt: at(58),
  });
  return {
    report,
    runRecord: artifacts.run as RunRecord,
    installs,
    regressions,
    preValidation: artifacts.preValidation as ValidationReport | undefined,
    postValidation: artifacts.postValidation as ValidationReport | undefined,
    baselineDiff: artifacts.baselineDiff as BaselineDiff | undefined,
    events: chained,
    reboot,
    artifactIndex: entries,
  };
}

/** The HTML of the first element carrying `marker` up to the matching `</tag>` (no nesting of the same tag inside). */
function element(html: string, marker: string, tag: string): string {
  const start = html.lastIndexOf(`<${tag}`, html.indexOf(marker));
  expect(html.indexOf(marker)).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf(`</${tag}>`, start) + tag.length + 3);
}

function regressionBlock(html: string, check: string): string {
  const marker = html.indexOf(`data-check="${check}"`);
  expect(marker).toBeGreaterThanOrEqual(0);
  const start = html.lastIndexOf("<div", marker);
  // A regression block ends where the next one (or the section) begins.
  const ends = [html.indexOf('data-testid="regression"', marker), html.indexOf("</section>", marker)].filter(
    (i) => i >= 0,
  );
  return html.slice(start, Math.min(...ends));
}

function timelineRow(html: string, folder: string): string {
  const match = new RegExp(`<tr data-phase="${folder}">(.*?)</tr>`).exec(html);
  expect(match).not.toBeNull();
  return match?.[1] ?? "";
}

const cells = (row: string): string[] =>
  [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => (m[1] ?? "").replace(/<[^>]+>/g, ""));

describe("renderReportHtml", () => {
  it("escapes hostile device strings wherever they land: update titles, check names and details, attempts", () => {
    const input = fullInput({ regression: true });
    const hostile = `<script>alert("x")</script> & 'q'`;
    const escaped = "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;q&#39;";
    const attrBreak = `HealthEndpoint" onmouseover="alert(1)`;
    input.installs = input.installs?.map((i, n) => (n === 0 ? { ...i, title: hostile } : i));
    input.regressions = {
      schemaVersion: 1,
      TotalRegressions: 1,
      regressions: [
        {
          app: "WebApp",
          check: attrBreak,
          pre: { success: true, detail: hostile },
          post: { success: false, detail: `<img src=x onerror=alert(1)>` },
        },
      ],
      preExisting: [
        {
          app: "<b>App</b>",
          check: "Disk",
          pre: { success: false, detail: hostile },
          post: { success: false, detail: "still" },
        },
      ],
    };
    const pre = input.preValidation;
    if (pre === undefined) throw new Error("sample has pre-validation");
    input.preValidation = {
      ...pre,
      results: [
        {
          app: "WebApp",
          check: attrBreak,
          type: "http",
          success: true,
          attempts: [{ at: at(3), success: true, detail: hostile }],
        },
      ],
    };
    const html = renderReportHtml(input);

    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('" onmouseover="');
    expect(html).not.toContain("<b>App</b>");
    expect(html).toContain(escaped);
    expect(html).toContain(`data-check="HealthEndpoint&#34; onmouseover=&#34;alert(1)"`);
    expect(html).toContain("&#60;img src=x onerror=alert(1)&#62;");
    expect(escapeHtml(`"<&>'`)).toBe("&#34;&#60;&#38;&#62;&#39;");
  });

  it("shows controls and bidi formatting characters visibly instead of passing them through", () => {
    // Unicode's explicit directional formatting characters (UAX #9 section 2, "Explicit Directional Embeddings,
    // Overrides and Isolates", plus the implicit marks of section 2.6), and C0 controls NUL and ESC.
    const bidi = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c];
    const controls = [0x00, 0x1b, 0x07, 0x7f, 0x85, 0x9b];
    const hostile = [...bidi, ...controls].map((cp) => `x${String.fromCodePoint(cp)}`).join("") + "\tend\n";
    const input = fullInput({ regression: true });
    input.installs = input.installs?.map((i, n) => (n === 0 ? { ...i, title: hostile } : i));
    input.regressions = {
      schemaVersion: 1,
      TotalRegressions: 1,
      regressions: [
        {
          app: "WebApp",
          check: `Health\u202eEndpoint`,
          pre: { success: true, detail: "ok" },
          post: { success: false, detail: `ok\u0000\u001b[31mred` },
        },
      ],
      preExisting: [],
    };
    const html = renderReportHtml(input);
    for (const cp of [...bidi, ...controls]) {
      expect(html).not.toContain(String.fromCodePoint(cp));
      expect(html).toContain(`[U+${cp.toString(16).toUpperCase().padStart(4, "0")}]`);
    }
    expect(html).toContain('data-check="Health[U+202E]Endpoint"');
    expect(html).toContain("ok[U+0000][U+001B][31mred");
    // Layout whitespace is text, not a hazard.
    expect(escapeHtml("a\tb\nc\r")).toBe("a\tb\nc\r");
  });

  it("is self-contained and locked down: CSP, no scripts, no external assets, print rules, wrapping hashes", () => {
    const html = renderReportHtml(fullInput({ regression: true }));
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    expect(html).not.toMatch(/<(script|link|img|iframe|object)\b/i);
    expect(html).not.toMatch(/\b(src|href)=/i);
    expect(html).toContain("@media print");
    expect(html).toMatch(/code\.hash\{[^}]*overflow-wrap:anywhere/);
    expect(html).toMatch(/break-inside:avoid/);
  });

  it("puts the exit code before everything, then the sections in the documented order", () => {
    const html = renderReportHtml(fullInput({ regression: true }));
    const body = html.slice(html.indexOf("<body>"));
    const positions = [
      'data-testid="exit-code"',
      'id="summary-h"',
      'id="timeline"',
      'id="updates"',
      'id="regressions"',
      'id="baseline-diff"',
      'id="compliance"',
      'id="hashes"',
    ].map((marker) => body.indexOf(marker));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // Nothing but the summary section's opening tag precedes the banner.
    expect(body.slice(0, positions[0])).toMatch(
      /^<body><main>\n<section id="summary" data-section="summary">\n<div class="banner [^"]*" role="status" $/,
    );
  });

  it.each([
    [0, "outcome-green", "Succeeded"],
    [150, "outcome-amber", "Action needed"],
    [170, "outcome-grey", "Not run"],
    [210, "outcome-red", "Failed"],
    [220, "outcome-red", "Failed"],
    [230, "outcome-red", "Failed"],
    [240, "outcome-red", "Failed"],
  ] as const)("colours exit code %i as %s and spells the verdict out", (code, cls, label) => {
    const html = renderReportHtml(fullInput({}, code));
    const banner = element(html, 'data-testid="exit-code"', "div");
    expect(banner).toContain(`class="banner ${cls}"`);
    expect(banner).toContain(`data-exit-code="${code}"`);
    expect(banner).toContain(`<span class="num">${code}</span>`);
    expect(banner).toContain(NAMES[code]);
    expect(banner).toContain(label);
    expect(banner).toMatch(/<p class="meaning">[A-Z][^<]{20,}\.<\/p>/);
  });

  it("summarises who, what, when and why", () => {
    const html = renderReportHtml(fullInput({ regression: true }));
    const summary = element(html, 'id="summary"', "section");
    for (const text of [
      "contoso",
      "acme",
      "WIN-SERVER01",
      "run-20260120-0001",
      "demo run",
      "2026-01-20 02:00:00 UTC",
      "2026-01-20 02:58:00 UTC",
      "WebApp/HealthEndpoint regressed",
      "Completed",
    ]) {
      expect(summary).toContain(text);
    }
    expect(summary).toMatch(/<li><b>3<\/b> approved<\/li>/);
    expect(summary).toMatch(/<li><b>1<\/b> regression<\/li>/);
  });

  it("shows a regression's PRE and POST side by side, with the attempts of each validation report", () => {
    const input = fullInput({ regression: true });
    const html = renderReportHtml(input);
    expect(html.match(/data-testid="regression"/g)).toHaveLength(1);
    const block = regressionBlock(html, "HealthEndpoint");
    expect(block).toContain('data-app="WebApp"');
    expect(block).toContain('<div class="pair">');
    const preAt = block.indexOf('data-side="pre"');
    const postAt = block.indexOf('data-side="post"');
    expect(preAt).toBeGreaterThan(0);
    expect(postAt).toBeGreaterThan(preAt);
    const pre = block.slice(preAt, postAt);
    const post = block.slice(postAt);
    expect(pre).toContain("PASS");
    expect(pre).not.toContain("FAIL");
    expect(pre).toContain("HTTP 200 in 84 ms");
    expect(pre.match(/<li>/g)).toHaveLength(1);
    expect(post).toContain("FAIL");
    expect(post).toContain("HTTP 500 Internal Server Error after 3 tries");
    expect(post.match(/<li>/g)).toHaveLength(3);
    expect(post).toContain("HTTP 500 Internal Server Error (try 3)");
  });

  it("lists pre-existing failures apart, as not counted", () => {
    const input = fullInput({});
    input.regressions = {
      schemaVersion: 1,
      TotalRegressions: 0,
      regressions: [],
      preExisting: [
        {
          app: "Billing",
          check: "Port1433",
          pre: { success: false, detail: "refused" },
          post: { success: false, detail: "refused again" },
        },
      ],
    };
    const html = renderReportHtml(input);
    expect(html).not.toContain('data-testid="regression"');
    expect(html).toContain("No regressions");
    expect(html).toContain("Pre-existing failures (not counted)");
    expect(html).toMatch(/<li><b>Billing \/ Port1433<\/b>: before .*refused; after .*refused again<\/li>/);
  });

  it("builds the timeline from the events: per phase first/last times and durations, in execution order", () => {
    const html = renderReportHtml(fullInput({}, 0, [{ at: at(40), type: "reboot.requested", phase: PHASES.reboot }]));
    // Events are appended after the sample's, out of time order: grouping must not depend on arrival order.
    const reboot = cells(timelineRow(html, "06-reboot"));
    expect(reboot.slice(1, 6)).toEqual([
      "completed",
      "2026-01-20 02:40:00 UTC",
      "2026-01-20 02:45:00 UTC",
      "5 min",
      "10 min",
    ]);
    expect(reboot[6]).toBe("phase.completed, reboot.requested");
    const install = cells(timelineRow(html, "05-install"));
    expect(install.slice(1, 6)).toEqual([
      "completed",
      "2026-01-20 02:35:00 UTC",
      "2026-01-20 02:35:00 UTC",
      "0 s",
      "29 min",
    ]);
    const rows = [...html.matchAll(/<tr data-phase="([^"]+)">/g)].map((m) => m[1]);
    expect(rows).toEqual([
      "01-init",
      "02-baseline",
      "04-pre-validation",
      "03-catalog",
      "05-install",
      "06-reboot",
      "07-post-snapshot",
      "08-post-validation",
      "09-diagnostics",
      "10-index",
      "11-report",
    ]);
    expect(cells(timelineRow(html, "11-report"))[1]).toBe("this report");
    expect(html).toMatch(/<b data-testid="run-duration">56 min<\/b> in all, 11 events/);
  });

  it("marks phases without events as not reached, skipped, or completed when their artifacts were sealed", () => {
    const contended = renderReportHtml(fullInput({ lockHeldBy: "run-other-0001" }, 170));
    expect(cells(timelineRow(contended, "01-init"))[1]).toBe("stopped: device locked by another run");
    // Sealing always happens, so it does not make the device phases of a stopped run look skipped.
    expect(cells(timelineRow(contended, "05-install"))[1]).toBe("not reached");
    expect(cells(timelineRow(contended, "10-index"))[1]).toBe("completed");

    const input = fullInput({});
    const events = input.events ?? [];
    const dropped: string[] = [PHASES.baseline, PHASES.postSnapshot, PHASES.diagnostics, PHASES.index];
    input.events = events.filter((e) => e.phase === undefined || !dropped.includes(e.phase));
    const unsealed = [PHASES.baseline, PHASES.diagnostics, PHASES.index].map((folder) => `${folder}/`);
    input.artifactIndex = input.artifactIndex?.filter((e) => !unsealed.some((folder) => e.path.startsWith(folder)));
    const html = renderReportHtml(input);
    expect(cells(timelineRow(html, "02-baseline"))[1]).toBe("skipped");
    expect(cells(timelineRow(html, "07-post-snapshot"))[1]).toBe("completed (no events recorded)");
    expect(cells(timelineRow(html, "08-post-validation"))[1]).toBe("completed");
    expect(cells(timelineRow(html, "09-diagnostics"))[1]).toBe("not reached");
    expect(cells(timelineRow(html, "10-index"))[1]).toBe("not reached");
  });

  it("marks a phase failed when its events or its failure record say so", () => {
    const html = renderReportHtml(fullInput({ installPhaseFails: true }, 210));
    expect(cells(timelineRow(html, "05-install"))[1]).toBe("failed");
    const input = fullInput({}, 230);
    input.artifactIndex = [
      ...(input.artifactIndex ?? []),
      { path: `${PHASES.diagnostics}/failure.json`, sha256: h("f"), size: 10 },
    ];
    expect(cells(timelineRow(renderReportHtml(input), "09-diagnostics"))[1]).toBe("failed");
  });

  it("shows every missing or unverified artifact as not available instead of failing", () => {
    const { report } = fullInput({ regression: true });
    const html = renderReportHtml({ report });
    for (const path of [
      ARTIFACTS.events.path,
      ARTIFACTS.installSummary.path,
      ARTIFACTS.regressions.path,
      ARTIFACTS.baselineDiff.path,
      ARTIFACTS.artifactIndex.path,
    ]) {
      expect(html).toContain(`(<code>${path}</code>) is not in the verified evidence`);
    }
    expect(html.match(/data-testid="not-available"/g)).toHaveLength(5);
    expect(element(html, 'id="summary"', "section")).toMatch(
      /<dt>Trigger<\/dt><dd><span class="na">not available<\/span>/,
    );
    // The seal comes from the final report itself, so it is always there.
    expect(element(html, 'data-testid="merkle-root"', "code")).toContain(h("a"));

    const partial = fullInput({ regression: true });
    delete partial.preValidation;
    delete partial.postValidation;
    const block = regressionBlock(renderReportHtml(partial), "HealthEndpoint");
    expect(block).toContain("HTTP 200 in 84 ms");
    expect(block).toContain(`Attempts not available (<code>${ARTIFACTS.preValidation.path}</code>`);
    expect(block).toContain(`Attempts not available (<code>${ARTIFACTS.postValidation.path}</code>`);
  });

  it("renders update rows with the HRESULT as 0x%08X hex", () => {
    const input = fullInput({ failedKb: "KB5012346" }, 210);
    const html = renderReportHtml(input);
    const rows = [...html.matchAll(/<tr data-testid="update-row">(.*?)<\/tr>/g)].map((m) => m[1] ?? "");
    expect(rows).toHaveLength(input.installs?.length ?? -1);
    const failed = rows.find((r) => r.includes("KB5012346")) ?? "";
    expect(failed).toContain("Failed");
    expect(failed).toContain("<code>0x80240017</code>");
    expect(rows.filter((r) => r.includes("0x"))).toHaveLength(1);
    expect(formatHresult(-2145124329)).toBe("0x80240017");
    expect(formatHresult(1)).toBe("0x00000001");
    expect(formatHresult(-1)).toBe("0xFFFFFFFF");
    expect(formatHresult(undefined)).toBe("");
  });

  it("says when no update was attempted", () => {
    const input = fullInput({});
    input.installs = [];
    const html = renderReportHtml(input);
    expect(html).not.toContain('data-testid="update-row"');
    expect(html).toContain("No update was installed or attempted in this run.");
  });

  it("renders the baseline diff as readable tables", () => {
    const input = fullInput({});
    input.baselineDiff = {
      schemaVersion: 1,
      osBuild: { before: "20348.2227", after: "20348.2340" },
      updatesAdded: ["KB5012345"],
      updatesRemoved: ["KB5000001"],
      services: [{ name: "W3SVC", before: "Running", after: "Stopped" }],
      drivers: [{ name: "newdrv", before: null, after: "1.2.3" }],
      apps: [],
    };
    const section = element(renderReportHtml(input), 'id="baseline-diff"', "section");
    expect(section).toContain("OS build <b>20348.2227</b> → <b>20348.2340</b>");
    expect(section).toMatch(/Updates added<\/h3><ul><li>KB5012345<\/li>/);
    expect(section).toMatch(/Updates removed<\/h3><ul><li>KB5000001<\/li>/);
    expect(section).toContain("<tr><td>W3SVC</td><td>Running</td><td>Stopped</td></tr>");
    expect(section).toContain("<tr><td>newdrv</td><td>(absent)</td><td>1.2.3</td></tr>");
    expect(section).toMatch(/Applications<\/h3><p class="muted">No changes\.<\/p>/);
  });

  it("lists the compliance mapping and the seal with every sealed artifact's hash", () => {
    const input = fullInput({ regression: true });
    const html = renderReportHtml(input);
    const compliance = element(html, 'id="compliance"', "section");
    expect(compliance).toContain("SI-2 Flaw Remediation");
    expect(compliance).toContain(`<code>${ARTIFACTS.installSummary.path}</code>`);
    const hashes = element(html, 'id="hashes"', "section");
    expect(element(hashes, 'data-testid="merkle-root"', "code")).toBe(
      `<code class="hash" data-testid="merkle-root">${h("a")}</code>`,
    );
    expect(hashes).toContain(h("c"));
    expect(hashes).toContain(h("e"));
    for (const e of input.artifactIndex ?? [])
      expect(hashes).toContain(
        `<tr><td><code>${e.path}</code></td><td><code class="hash">${e.sha256}</code></td><td>${e.size}</td></tr>`,
      );
  });

  it("is deterministic: the same input gives the same bytes whatever the clock says", () => {
    const first = renderReportHtml(fullInput({ regression: true, failedKb: "KB5012346" }));
    jest.useFakeTimers().setSystemTime(new Date("2031-07-04T12:00:00Z"));
    try {
      expect(renderReportHtml(fullInput({ regression: true, failedKb: "KB5012346" }))).toBe(first);
    } finally {
      jest.useRealTimers();
    }
    expect(first).not.toContain("2031");
    expect(formatDuration(3_900_000)).toBe("1 h 05 min");
    expect(formatDuration(270_000)).toBe("4 min 30 s");
  });
});
