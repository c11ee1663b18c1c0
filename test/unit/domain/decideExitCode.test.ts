import { decideExitCode, type ExitCodeEvidence, type Reading } from "../../../lib/domain/exitCode/decideExitCode";
import type { RunRef } from "../../../lib/schemas/common";
import { buildSampleArtifacts, type SampleScenario } from "../../../local/demo/sampleRun";

const RUN: RunRef = { tenant: "contoso-msp", client: "acme", device: "WIN-SERVER01", runId: "unit-run-0001" };

function ok<T>(value: T): Reading<T> {
  return { status: "verified", value };
}
const MISSING = { status: "missing" } as const;
const TAMPERED = { status: "hash-mismatch", problem: "bytes changed" } as const;

/** Verified readings of the sample run for a scenario, as the activity would hand them to the rules. */
function evidence(scenario: SampleScenario = {}, patch: Partial<ExitCodeEvidence> = {}): ExitCodeEvidence {
  const { artifacts: a, failures } = buildSampleArtifacts(RUN, scenario);
  const r = <K extends keyof typeof a>(k: K): Reading<never> => (a[k] === undefined ? MISSING : ok(a[k] as never));
  const installFailure = failures.find((f) => f.path.startsWith("05-install/"));
  return {
    run: r("run"),
    lockContention: r("lockContention"),
    baseline: r("baseline"),
    preValidation: r("preValidation"),
    gates: MISSING,
    catalog: r("catalog"),
    installSummary: r("installSummary"),
    installFailure: installFailure ? ok(installFailure.value) : MISSING,
    reboot: r("reboot"),
    snapshot: r("snapshot"),
    baselineDiff: r("baselineDiff"),
    postValidation: r("postValidation"),
    regressions: r("regressions"),
    diagnostics: r("diagnostics"),
    diagnosticsFailure: MISSING,
    events: ok([]),
    artifactIndex: ok({}),
    manifest: ok({}),
    otherFailures: {},
    otherIntegrityProblems: [],
    ...patch,
  };
}

describe("decideExitCode: each code", () => {
  it.each<[string, SampleScenario, Partial<ExitCodeEvidence>, number, string]>([
    ["success", {}, {}, 0, "0.success"],
    ["reboot not allowed", { rebootPolicy: "Never" }, {}, 150, "150.reboot-not-completed"],
    ["reboot still pending after the run", { pendingRebootAfter: true }, {}, 150, "150.reboot-pending-after-run"],
    ["lock contention", { lockHeldBy: "other-run-0001" }, {}, 170, "170.lock-contention"],
    ["an update not installed", { failedKb: "KB5012346" }, {}, 210, "210.update-not-installed"],
    ["the install phase failed", { installPhaseFails: true }, {}, 210, "210.install-phase-failed"],
    ["a regression", { regression: true }, {}, 220, "220.regressions"],
    [
      "diagnostics failed and required",
      { diagnosticsFail: true, diagnosticsRequired: true },
      {},
      230,
      "230.diagnostics-required",
    ],
    ["a required artifact missing", { omit: ["reboot"] }, {}, 240, "240.not-collected"],
    ["a tampered artifact", {}, { baseline: TAMPERED }, 240, "240.integrity"],
    [
      "a broken seal",
      {},
      { manifest: { status: "hash-mismatch", problem: "Merkle root differs" } },
      240,
      "240.integrity",
    ],
    [
      "a tampered transcript",
      {},
      { otherIntegrityProblems: [{ path: "05-install/stdout.txt", status: "hash-mismatch" }] },
      240,
      "240.integrity",
    ],
  ])("%s", (_name, scenario, patch, code, rule) => {
    const decision = decideExitCode(evidence(scenario, patch));
    expect(decision.exitCode).toBe(code);
    expect(decision.rule).toBe(rule);
    expect(decision.reasons.length).toBeGreaterThan(0);
  });

  it("names the failed KB and the approved update that has no outcome", () => {
    const { artifacts } = buildSampleArtifacts(RUN, {});
    const outcomes = (artifacts.installSummary as { kb: string }[]).filter((o) => o.kb !== "KB890830");
    const d = decideExitCode(evidence({ failedKb: "KB5012346" }, { installSummary: ok(outcomes as never) }));
    expect(d.exitCode).toBe(210);
    expect(d.reasons.join("\n")).toContain("KB890830");
  });

  it("an update reported installed but gone from the post snapshot (rolled back at the reboot) is a 210, not a success", () => {
    const { artifacts } = buildSampleArtifacts(RUN, {});
    const snapshot = artifacts.snapshot as { installedUpdates: { id: string; kb?: string }[] };
    const rolledBack = {
      ...snapshot,
      installedUpdates: snapshot.installedUpdates.filter((u) => u.kb !== "KB5012345" && u.id !== "KB5012345"),
    };
    const d = decideExitCode(evidence({}, { snapshot: ok(rolledBack as never) }));
    expect([d.exitCode, d.rule]).toEqual([210, "210.update-gone-after-run"]);
    expect(d.reasons[0]).toContain("KB5012345");
  });

  it("a dry run's success says what a dry run did, not that updates were installed", () => {
    const { artifacts } = buildSampleArtifacts(RUN, {});
    const run = { ...(artifacts.run as object), dryRun: true };
    const d = decideExitCode(evidence({}, { run: ok(run as never), installSummary: MISSING }));
    expect([d.exitCode, d.rule]).toEqual([0, "0.success"]);
    expect(d.reasons.join(" ")).not.toMatch(/installed,/);
    expect(d.reasons[0]).toMatch(/^dry run: \d+ update\(s\) approved, none installed/);
    expect(decideExitCode(evidence()).reasons[0]).toMatch(/^\d+ update\(s\) installed/);
  });

  it("a failing diagnostics rule is a 230 when diagnostics are required, naming the rule; nothing otherwise", () => {
    const { artifacts } = buildSampleArtifacts(RUN, { diagnosticsRequired: true });
    const judged = {
      ...(artifacts.diagnostics as object),
      rules: [
        { rule: "wu", type: "updateAgentErrors", verdict: "pass", inputs: { count: 0 }, detail: "0 errors" },
        { rule: "system-disk", type: "diskFree", verdict: "fail", inputs: { freePercent: 4 }, detail: "C: 4% free" },
      ],
    };
    const d = decideExitCode(evidence({ diagnosticsRequired: true }, { diagnostics: ok(judged as never) }));
    expect([d.exitCode, d.rule]).toEqual([230, "230.diagnostics-rule-failed"]);
    expect(d.reasons[0]).toContain("system-disk (fail: C: 4% free)");
    expect(d.reasons[0]).not.toContain("wu (");
    expect(decideExitCode(evidence({}, { diagnostics: ok(judged as never) })).exitCode).toBe(0);
  });

  it("drift the policy declares a regression source (recorded in baseline-diff.json) is a 220", () => {
    const { artifacts } = buildSampleArtifacts(RUN, {});
    const diff = {
      ...(artifacts.baselineDiff as object),
      driftRegressions: {
        regressions: [
          { source: "auto", type: "automaticService", subject: "W3SVC", before: "Running/Auto", after: "Stopped/Auto" },
        ],
        unjudged: [],
      },
    };
    const d = decideExitCode(evidence({}, { baselineDiff: ok(diff as never) }));
    expect([d.exitCode, d.rule]).toEqual([220, "220.drift-regression"]);
    expect(d.reasons[0]).toContain("auto: W3SVC Running/Auto -> Stopped/Auto");
    const clean = { ...diff, driftRegressions: { regressions: [], unjudged: [{ source: "p", why: "not reported" }] } };
    expect(decideExitCode(evidence({}, { baselineDiff: ok(clean as never) })).exitCode).toBe(0);
  });

  it("diagnostics failure is ignored when the policy does not require diagnostics", () => {
    expect(decideExitCode(evidence({ diagnosticsFail: true, diagnosticsRequired: false })).exitCode).toBe(0);
  });

  it("a missing diagnostics.json is a 230 when required, nothing otherwise", () => {
    expect(decideExitCode(evidence({ diagnosticsRequired: true, omit: ["diagnostics"] })).exitCode).toBe(230);
    expect(decideExitCode(evidence({ omit: ["diagnostics"] })).exitCode).toBe(0);
  });
});

describe("decideExitCode: precedence (first match wins: 170, 220, 210, 240, 230, 150)", () => {
  it.each<[string, SampleScenario, Partial<ExitCodeEvidence>, number, number[]]>([
    ["170 over 240: a contended run has no other artifacts", { lockHeldBy: "other-run-0001" }, {}, 170, []],
    ["220 over 210", { regression: true, failedKb: "KB5012345" }, {}, 220, [210]],
    ["220 over 240", { regression: true }, { baseline: TAMPERED }, 220, [240]],
    ["220 over 150", { regression: true, rebootPolicy: "Never" }, {}, 220, [150]],
    ["210 over 240", { failedKb: "KB5012345" }, { snapshot: TAMPERED }, 210, [240]],
    ["210 over 230", { failedKb: "KB5012345", diagnosticsFail: true, diagnosticsRequired: true }, {}, 210, [230]],
    ["240 over 230", { diagnosticsFail: true, diagnosticsRequired: true }, { catalog: TAMPERED }, 240, [230]],
    ["240 over 150", { rebootPolicy: "Never" }, { events: TAMPERED }, 240, [150]],
    ["230 over 150", { diagnosticsFail: true, diagnosticsRequired: true, rebootPolicy: "Never" }, {}, 230, [150]],
    ["an unverifiable regressions.json cannot fire 220: 240", { regression: true }, { regressions: TAMPERED }, 240, []],
    [
      "an unverifiable summary cannot fire 210, and 210 from elsewhere still beats 240",
      {},
      {
        installSummary: TAMPERED,
        installFailure: ok({
          schemaVersion: 1,
          phase: "05-install",
          kind: "Timeout",
          message: "late",
          at: "2026-01-20T04:00:00.000Z",
          transcripts: [],
        }),
      },
      210,
      [240],
    ],
    [
      "a tampered lock record is not trusted: 240",
      { lockHeldBy: "other-run-0001" },
      { lockContention: TAMPERED },
      240,
      [],
    ],
  ])("%s", (_name, scenario, patch, code, alsoReported) => {
    const decision = decideExitCode(evidence(scenario, patch));
    expect(decision.exitCode).toBe(code);
    // The lower-priority findings are still reported, after the one that decided.
    expect(decision.reasons.length).toBeGreaterThanOrEqual(1 + alsoReported.length);
  });

  it("is deterministic", () => {
    const e = evidence({ regression: true, failedKb: "KB5012345", rebootPolicy: "Never" });
    expect(decideExitCode(e)).toEqual(decideExitCode(e));
  });
});
