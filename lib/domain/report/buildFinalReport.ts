import type { Catalog, InstallOutcome, RebootRecord } from "../../schemas/artifacts/catalog";
import type { Manifest, ArtifactIndex } from "../../schemas/artifacts/integrity";
import type { ExitCodeRecord, FinalReport } from "../../schemas/artifacts/outcome";
import type { Regressions } from "../../schemas/artifacts/validation";
import type { RemediationRecord } from "../../schemas/artifacts/remediation";
import { ARTIFACTS } from "../artifacts";
import { COMPLIANCE_MAP, controlLabel } from "./complianceMap";

/** The verified artifacts a final report summarises; absent ones are reported as such, not guessed. */
export interface FinalReportInput {
  exitCode: ExitCodeRecord;
  exitCodeSha256: string;
  manifest: Manifest;
  artifactIndex: ArtifactIndex;
  catalog?: Catalog;
  installs?: readonly InstallOutcome[];
  regressions?: Regressions;
  reboot?: RebootRecord;
  /** Issue 20: the remediation after a regression, when the run had one. */
  remediation?: RemediationRecord;
  generatedAt: string;
}

/**
 * `11-report/final-report.json`: counts for RMM tools and dashboards, and per control the artifacts (with their
 * sealed hashes) an auditor checks it against. Only artifacts present in the sealed index are cited.
 */
export function buildFinalReport(input: FinalReportInput): FinalReport {
  const sealed = new Map(input.artifactIndex.entries.map((e) => [e.path, e.sha256]));
  const updates = input.catalog?.updates ?? [];
  const installs = input.installs ?? [];
  return {
    schemaVersion: 1,
    run: input.exitCode.run,
    generatedAt: input.generatedAt,
    exitCode: input.exitCode.exitCode,
    exitCodeName: input.exitCode.name,
    reasons: input.exitCode.reasons,
    updates: {
      applicable: updates.length,
      approved: updates.filter((u) => u.decision === "approved").length,
      installed: installs.filter((i) => i.installed).length,
      failed: installs.filter((i) => !i.installed && i.result !== "NotAttempted").length,
    },
    regressions: input.regressions?.TotalRegressions ?? 0,
    ...(input.remediation === undefined
      ? {}
      : {
          remediation: {
            mode: input.remediation.mode,
            outcome: input.remediation.outcome,
            reason: input.remediation.reason,
            ...(input.remediation.regressionsAfter === undefined
              ? {}
              : { regressionsAfter: input.remediation.regressionsAfter }),
          },
        }),
    reboot: input.reboot?.outcome ?? (sealed.has(ARTIFACTS.reboot.path) ? "unknown" : "not recorded"),
    compliance: COMPLIANCE_MAP.map((m) => ({
      framework: m.framework,
      control: controlLabel(m),
      artifacts: m.paths.flatMap((path) => {
        const sha256 = sealed.get(path);
        return sha256 === undefined ? [] : [{ path, sha256 }];
      }),
    })).filter((c) => c.artifacts.length > 0),
    evidence: {
      merkleRoot: input.manifest.merkle.root,
      eventsChainHead: input.manifest.events.chainHead,
      exitCodeSha256: input.exitCodeSha256,
    },
  };
}
