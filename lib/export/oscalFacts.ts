import { ARTIFACTS } from "../domain/artifacts";
import { InstallOutcomeSchema } from "../schemas/artifacts/catalog";
import { ExitCodeRecordSchema } from "../schemas/artifacts/outcome";
import { RegressionsSchema } from "../schemas/artifacts/validation";

/** One update outcome as install-summary.jsonl records it (the fields an assessment result cites). */
export interface OscalInstallFact {
  updateId: string;
  kb?: string;
  title: string;
  installed: boolean;
  result: string;
  finishedAt: string;
  /** 1-based line of install-summary.jsonl. */
  line: number;
}

/**
 * What the OSCAL assessment results of one run state beyond the matrix: the verified update outcomes, decision and
 * regressions. Small (tens of lines per run), taken from the bytes as they stream into the package, only from
 * artifacts whose hash and schema verified; an artifact that did not verify contributes nothing here.
 */
export interface OscalRunFacts {
  installs?: OscalInstallFact[];
  decision?: { exitCode: number; name: string; rule: string; reasons: string[]; decidedAt: string };
  regressions?: { total: number; items: { app: string; check: string }[] };
}

/** Paths whose verified content {@link collectOscalFacts} reads. */
export const OSCAL_FACT_PATHS: ReadonlySet<string> = new Set([
  ARTIFACTS.installSummary.path,
  ARTIFACTS.exitCode.path,
  ARTIFACTS.regressions.path,
]);

/** Adds what a verified artifact's bytes state to `facts` (nothing for other paths or unparseable content). */
export function collectOscalFacts(facts: OscalRunFacts, path: string, bytes: Buffer): void {
  const text = bytes.toString("utf8");
  try {
    if (path === ARTIFACTS.installSummary.path) {
      facts.installs = text
        .split("\n")
        .map((line, i) => ({ line, n: i + 1 }))
        .filter(({ line }) => line.trim() !== "")
        .map(({ line, n }) => {
          const o = InstallOutcomeSchema.parse(JSON.parse(line));
          return {
            updateId: o.updateId,
            ...(o.kb === undefined ? {} : { kb: o.kb }),
            title: o.title,
            installed: o.installed,
            result: o.result,
            finishedAt: o.finishedAt,
            line: n,
          };
        });
    } else if (path === ARTIFACTS.exitCode.path) {
      const r = ExitCodeRecordSchema.parse(JSON.parse(text));
      facts.decision = { exitCode: r.exitCode, name: r.name, rule: r.rule, reasons: r.reasons, decidedAt: r.decidedAt };
    } else if (path === ARTIFACTS.regressions.path) {
      const r = RegressionsSchema.parse(JSON.parse(text));
      facts.regressions = {
        total: r.TotalRegressions,
        items: r.regressions.map((x) => ({ app: x.app, check: x.check })),
      };
    }
  } catch (error) {
    // The export-time check already reports the artifact; the assessment states nothing from it.
    if (error instanceof SyntaxError || (error instanceof Error && error.name === "ZodError")) return;
    throw error;
  }
}
