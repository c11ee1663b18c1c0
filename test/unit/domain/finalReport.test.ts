import { buildFinalReport } from "../../../lib/domain/report/buildFinalReport";
import { escapeHtml, renderReportHtml } from "../../../lib/domain/report/renderReportHtml";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { FinalReportSchema } from "../../../lib/schemas/artifacts/outcome";
import type { Catalog, InstallOutcome, RebootRecord } from "../../../lib/schemas/artifacts/catalog";
import type { Regressions } from "../../../lib/schemas/artifacts/validation";
import { at, buildSampleArtifacts } from "../../../local/demo/sampleRun";

const run = { tenant: "contoso", client: "acme", device: "WIN-SERVER01", runId: "run-20260120-0001" };
const h = (c: string): string => c.repeat(64);

function inputs(scenario: Parameters<typeof buildSampleArtifacts>[1] = {}) {
  const { artifacts } = buildSampleArtifacts(run, scenario);
  const paths = Object.keys(artifacts).map((k) => ARTIFACTS[k as keyof typeof ARTIFACTS].path);
  return {
    exitCode: {
      schemaVersion: 1 as const,
      run,
      exitCode: 220 as const,
      name: "ValidationFailure" as const,
      rule: "220.regressions",
      reasons: ["WebApp/health regressed"],
      decidedAt: at(57),
      artifactsRead: [],
    },
    exitCodeSha256: h("e"),
    manifest: {
      schemaVersion: 1 as const,
      run,
      sealedAt: at(56),
      merkle: { algorithm: "rfc6962-sha256" as const, leafCount: paths.length, root: h("a") },
      artifactIndexSha256: h("b"),
      events: { count: 9, chainHead: h("c") },
    },
    artifactIndex: {
      schemaVersion: 1 as const,
      runId: run.runId,
      entries: paths.map((path) => ({ path, sha256: h("d"), size: 1 })),
    },
    catalog: artifacts.catalog as Catalog,
    installs: artifacts.installSummary as InstallOutcome[],
    regressions: artifacts.regressions as Regressions,
    reboot: artifacts.reboot as RebootRecord,
    generatedAt: at(58),
  };
}

describe("final report", () => {
  it("counts updates and regressions from the verified artifacts and cites sealed hashes per control", () => {
    const input = inputs({ regression: true, failedKb: "KB5012346" });
    const report = buildFinalReport(input);
    expect(FinalReportSchema.safeParse(report).success).toBe(true);
    expect(report.updates.applicable).toBe(input.catalog.updates.length);
    expect(report.updates.approved).toBe(input.catalog.updates.filter((u) => u.decision === "approved").length);
    expect(report.updates.failed).toBe(1);
    expect(report.regressions).toBe(1);
    const si2 = report.compliance.find((c) => c.control === "SI-2 Flaw Remediation");
    expect(si2?.artifacts).toEqual([
      { path: ARTIFACTS.catalog.path, sha256: h("d") },
      { path: ARTIFACTS.installSummary.path, sha256: h("d") },
      { path: ARTIFACTS.baselineDiff.path, sha256: h("d") },
    ]);
    expect(report.evidence).toEqual({ merkleRoot: h("a"), eventsChainHead: h("c"), exitCodeSha256: h("e") });
  });

  it("cites only artifacts that are in the sealed index", () => {
    const input = inputs();
    input.artifactIndex.entries = input.artifactIndex.entries.filter((e) => e.path !== ARTIFACTS.catalog.path);
    const report = buildFinalReport(input);
    expect(report.compliance.flatMap((c) => c.artifacts.map((a) => a.path))).not.toContain(ARTIFACTS.catalog.path);
  });

  it("renders an HTML page with device-provided text escaped and no scripts", () => {
    const input = inputs();
    const installs = input.installs.map((i, n) => (n === 0 ? { ...i, title: `<script>alert("x")</script> & 'q'` } : i));
    const html = renderReportHtml({ report: buildFinalReport(input), installs });
    expect(html).not.toContain("<script>");
    expect(html).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;q&#39;");
    expect(html).toContain("default-src 'none'");
    expect(html).toContain(h("a"));
    expect(escapeHtml(`"<&>'`)).toBe("&#34;&#60;&#38;&#62;&#39;");
  });
});
