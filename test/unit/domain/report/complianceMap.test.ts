import { readFileSync } from "node:fs";
import path from "node:path";
import { ARTIFACTS } from "../../../../lib/domain/artifacts";
import { buildFinalReport } from "../../../../lib/domain/report/buildFinalReport";
import { matrixRows, type MatrixRun } from "../../../../lib/export/complianceMatrix";

// The seed's "Standards Mapping", vendored verbatim with its provenance (test/fixtures/reference/README.md).
const SEED = readFileSync(path.resolve(__dirname, "../../../fixtures/reference/seed/standards-mapping.md"), "utf8");

interface SeedMapping {
  framework: string;
  /** The seed's name for the control: `Plan`, `SI-2 (Flaw Remediation)`, `CM-2/3 (...)`, `Control 7 (...)`. */
  name: string;
  artifacts: string[];
}

/** `**1. NIST SP 800-40r4 (...)**` headings, then `- **Name** → \`a\`, \`b\`` bullets. */
function parseSeed(text: string): SeedMapping[] {
  const out: SeedMapping[] = [];
  let framework = "";
  for (const line of text.split("\n")) {
    const heading = /^\*\*\d+\. (.+?)(?: \(.*\))?\*\*$/.exec(line.trim());
    if (heading?.[1] !== undefined) framework = heading[1];
    const bullet = /^- \*\*(.+?)\*\* → (.+)$/.exec(line.trim());
    if (bullet?.[1] !== undefined && bullet[2] !== undefined) {
      out.push({ framework, name: bullet[1], artifacts: [...bullet[2].matchAll(/`([^`]+)`/g)].map((m) => m[1]!) });
    }
  }
  return out;
}

/** The seed writes "NIST 800-53r5"; the standards' own name (and ours) is "NIST SP 800-53r5". */
const framework = (seedName: string): string => seedName.replace(/^NIST (?!SP )/, "NIST SP ");

/** The control ids a seed name stands for: `CM-2/3` is CM-2 and CM-3; CIS `Control 7` is control 7 or a 7.x safeguard. */
function idsFor(name: string): (id: string) => boolean {
  const cis = /^Control (\d+)/.exec(name);
  if (cis?.[1] !== undefined) return (id) => id === cis[1] || id.startsWith(`${cis[1]}.`);
  const family = /^([A-Z]{2})-(\d+)\/(\d+)/.exec(name);
  if (family) return (id) => id === `${family[1]}-${family[2]}` || id === `${family[1]}-${family[3]}`;
  const plain = name.split(" (")[0]!;
  return (id) => id === plain;
}

/**
 * The seed's artifact names to run paths: by file name, except the seed's separate policy files, which a run records
 * as its effective policy with provenance in run.json.
 */
function pathFor(seedArtifact: string): string {
  if (seedArtifact === "UpdatePolicy.json" || seedArtifact === "AppValidationPolicy.json") return ARTIFACTS.run.path;
  const found = Object.values(ARTIFACTS).find((a) => a.path.endsWith(`/${seedArtifact}`));
  if (found === undefined) throw new Error(`seed artifact ${seedArtifact} is no run artifact`);
  return found.path;
}

const ALL_PATHS = Object.values(ARTIFACTS).map((a) => a.path);
const run = { tenant: "contoso-msp", client: "acme", device: "WIN-SERVER01", runId: "r20260120-0001" };

/** What the run report cites when every artifact but the report itself is sealed. */
function reportCitations(): Map<string, string[]> {
  const entries = ALL_PATHS.filter((p) => !p.startsWith("11-report/")).map((p) => ({
    path: p,
    sha256: "d".repeat(64),
    size: 1,
  }));
  const report = buildFinalReport({
    exitCode: {
      schemaVersion: 1,
      run,
      exitCode: 0,
      name: "Success",
      rule: "0.success",
      reasons: ["ok"],
      decidedAt: "2026-01-20T03:00:00Z",
      artifactsRead: [],
    },
    exitCodeSha256: "e".repeat(64),
    manifest: {
      schemaVersion: 1,
      run,
      sealedAt: "2026-01-20T03:00:00Z",
      merkle: { algorithm: "rfc6962-sha256", leafCount: entries.length, root: "a".repeat(64) },
      artifactIndexSha256: "b".repeat(64),
      events: { count: 1, chainHead: "c".repeat(64) },
    },
    artifactIndex: { schemaVersion: 1, runId: run.runId, entries },
    generatedAt: "2026-01-20T03:01:00Z",
  });
  return new Map(report.compliance.map((c) => [`${c.framework}|${c.control}`, c.artifacts.map((a) => a.path)]));
}

/** What the export's matrix cites for one run with every artifact present. */
function matrixCitations(): Map<string, string[]> {
  const folder = "runs/acme/WIN-SERVER01/r20260120-0001/";
  const matrixRun: MatrixRun = {
    ...run,
    folder,
    artifacts: new Map(ALL_PATHS.map((p) => [p, { sha256: "d".repeat(64), status: "verified" }])),
  };
  const out = new Map<string, string[]>();
  // The rows matrix.csv and matrix.html are written from.
  for (const row of matrixRows([matrixRun])) {
    const key = `${row.framework}|${row.id}`;
    out.set(key, [...(out.get(key) ?? []), row.artifact.replace(folder, "")]);
  }
  return out;
}

describe("compliance mapping against the seed's Standards Mapping", () => {
  const seed = parseSeed(SEED);
  const report = reportCitations();
  const matrix = matrixCitations();
  const reportIds = [...report.keys()].map((k) => {
    const [fw, control] = k.split("|") as [string, string];
    return { key: k, framework: fw, id: control.split(/[ :]/)[0]! };
  });

  it("reads the vendored excerpt: three frameworks, ten mappings", () => {
    expect(new Set(seed.map((s) => s.framework)).size).toBe(3);
    expect(seed).toHaveLength(10);
  });

  it.each(parseSeed(SEED).map((s) => [`${s.framework} ${s.name}`, s] as const))(
    "the run report cites %s with the artifacts the seed names",
    (_name, s) => {
      const matching = reportIds.filter((r) => r.framework === framework(s.framework) && idsFor(s.name)(r.id));
      expect(matching.length).toBeGreaterThan(0);
      const cited = new Set(matching.flatMap((r) => report.get(r.key) ?? []));
      // The report is written after the seal and cannot cite its own hash; the export can.
      for (const a of s.artifacts.map(pathFor).filter((p) => p !== ARTIFACTS.finalReport.path)) {
        expect([...cited]).toContain(a);
      }
    },
  );

  it.each(parseSeed(SEED).map((s) => [`${s.framework} ${s.name}`, s] as const))(
    "the export's matrix cites %s with the artifacts the seed names",
    (_name, s) => {
      const keys = [...matrix.keys()].filter((k) => {
        const [fw, id] = k.split("|") as [string, string];
        return fw === framework(s.framework) && idsFor(s.name)(id);
      });
      expect(keys.length).toBeGreaterThan(0);
      const cited = new Set(keys.flatMap((k) => matrix.get(k) ?? []));
      for (const a of s.artifacts.map(pathFor)) expect([...cited]).toContain(a);
    },
  );

  it("claims nothing the evidence cannot show: no CIS 7.4 (no application patching), in the report or the export", () => {
    expect(reportIds.map((r) => `${r.framework}|${r.id}`)).not.toContain("CIS Controls v8|7.4");
    expect([...matrix.keys()]).not.toContain("CIS Controls v8|7.4");
  });

  it("the report and the export render one mapping: the same controls citing the same artifacts", () => {
    const fromReport = reportIds.map((r) => `${r.framework}|${r.id}`).sort();
    expect([...matrix.keys()].sort()).toEqual(fromReport);
    for (const r of reportIds) {
      const exported = matrix.get(`${r.framework}|${r.id}`) ?? [];
      // Same artifacts, except the report's own file, which only the export can cite.
      expect(exported.filter((p) => p !== ARTIFACTS.finalReport.path)).toEqual(report.get(r.key));
    }
  });
});
