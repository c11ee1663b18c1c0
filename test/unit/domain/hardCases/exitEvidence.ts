import type { ExitCodeEvidence, Reading } from "../../../../lib/domain/exitCode/decideExitCode";
import type { Catalog, Diagnostics, InstallOutcome, RebootRecord } from "../../../../lib/schemas/artifacts/catalog";
import type { LockContention, RunRecord } from "../../../../lib/schemas/artifacts/run";
import type { SystemSnapshot } from "../../../../lib/schemas/artifacts/snapshot";
import type { Regressions } from "../../../../lib/schemas/artifacts/validation";
import type { RunRef } from "../../../../lib/schemas/common";
import { buildSampleArtifacts, type SampleScenario } from "../../../../local/demo/sampleRun";

export const RUN: RunRef = { tenant: "contoso-msp", client: "acme", device: "WIN-SERVER01", runId: "unit-run-0021" };

/** The sample run's artifacts, typed, for a test to change before the rules read them. */
export interface EditableArtifacts {
  run?: RunRecord;
  lockContention?: LockContention;
  baseline?: SystemSnapshot;
  catalog?: Catalog;
  installSummary?: InstallOutcome[];
  reboot?: RebootRecord;
  snapshot?: SystemSnapshot;
  regressions?: Regressions;
  diagnostics?: Diagnostics;
  [key: string]: unknown;
}

/** Verified readings of the sample run (the demo's sample builder), after `edit`, as computeExitCode hands them over. */
export function evidenceOf(
  scenario: SampleScenario = {},
  edit: (a: EditableArtifacts) => void = () => undefined,
  patch: Partial<ExitCodeEvidence> = {},
): ExitCodeEvidence {
  const built = buildSampleArtifacts(RUN, scenario);
  const a = structuredClone(built.artifacts) as EditableArtifacts;
  edit(a);
  const r = (k: string): Reading<never> =>
    a[k] === undefined ? { status: "missing" } : { status: "verified", value: a[k] as never };
  const installFailure = built.failures.find((f) => f.path.startsWith("05-install/"));
  return {
    run: r("run"),
    lockContention: r("lockContention"),
    baseline: r("baseline"),
    preValidation: r("preValidation"),
    gates: r("gates"),
    catalog: r("catalog"),
    installSummary: r("installSummary"),
    installFailure: installFailure ? { status: "verified", value: installFailure.value } : { status: "missing" },
    reboot: r("reboot"),
    snapshot: r("snapshot"),
    baselineDiff: r("baselineDiff"),
    postValidation: r("postValidation"),
    regressions: r("regressions"),
    diagnostics: r("diagnostics"),
    diagnosticsFailure: { status: "missing" },
    events: { status: "verified", value: [] },
    artifactIndex: { status: "verified", value: {} },
    manifest: { status: "verified", value: {} },
    otherFailures: {},
    otherIntegrityProblems: [],
    ...patch,
  };
}
