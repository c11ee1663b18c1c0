import { decideExitCode, type ExitCodeEvidence } from "../../../lib/domain/exitCode/decideExitCode";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { decideRemediation } from "../../../lib/domain/remediation/decideRemediation";
import { planRemoval } from "../../../lib/domain/remediation/planRemoval";
import { newDeviceRunState } from "../../../lib/domain/run/newDeviceRunState";
import { planNext, planStart, type StageOutcome } from "../../../lib/domain/run/planDeviceRun";
import type { InstallOutcome } from "../../../lib/schemas/artifacts/catalog";
import type { UninstallRecord } from "../../../lib/schemas/artifacts/remediation";
import type { SystemSnapshot } from "../../../lib/schemas/artifacts/snapshot";
import { DeviceRunStateSchema, type DeviceRunState } from "../../../lib/schemas/deviceRun";
import type { PolicyLayer } from "../../../lib/schemas/policyLayer";

// Issue 20, the pure halves of remediation: the overlay's remediation section, the removal plan, the planner's stages
// after a regression, the outcome, and the exit code's reasons. The end-to-end run is
// test/integration/deviceRun/remediation.test.ts.

const T0 = Date.parse("2026-01-20T02:00:00Z");
const at = (min: number): Date => new Date(T0 + min * 60_000);
const tenant = (remediation?: PolicyLayer["remediation"]): PolicyLayer => ({
  schemaVersion: 1,
  scope: { level: "tenant", tenant: "t" },
  ...(remediation === undefined ? {} : { remediation }),
});

describe("the remediation section of the overlay", () => {
  it("is absent when no layer mentions it (runs behave as before: the demo's exit codes do not move)", () => {
    const { policy, provenance } = resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY, tenant()]);
    expect(policy.remediation).toBeUndefined();
    expect(Object.keys(provenance).filter((k) => k.startsWith("remediation"))).toEqual([]);
    expect(newDeviceRunState(policy, at(0)).policy.remediation).toBeUndefined();
  });

  it("takes the most specific mode and unions keepKbs, with provenance per value", () => {
    const { policy, provenance } = resolveEffectivePolicy([
      DEFAULT_GLOBAL_POLICY,
      tenant({ mode: "uninstall", keepKbs: ["KB5000001"] }),
      {
        schemaVersion: 1,
        scope: { level: "client", tenant: "t", client: "c" },
        remediation: { mode: "none", keepKbs: ["KB5000002", "KB5000001"] },
      },
    ]);
    expect(policy.remediation).toEqual({ mode: "none", keepKbs: ["KB5000001", "KB5000002"] });
    expect(provenance["remediation.mode"]).toBe("client:t/c");
    expect(provenance["remediation.keepKbs[KB5000001]"]).toBe("tenant:t");
    expect(provenance["remediation.keepKbs[KB5000002]"]).toBe("client:t/c");
  });

  it("refuses an unknown mode, naming the layer and field", () => {
    expect(() =>
      resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY, { ...tenant(), remediation: { mode: "rollback" } }]),
    ).toThrow(/tenant:t remediation\.mode/);
  });
});

const outcome = (o: Partial<InstallOutcome> & Pick<InstallOutcome, "updateId" | "finishedAt">): InstallOutcome => ({
  schemaVersion: 1,
  title: o.updateId,
  installed: true,
  result: "Succeeded",
  rebootRequired: false,
  ...o,
});

describe("planRemoval", () => {
  it("Windows: the KBs this run installed, newest first; not those it found installed, kept ones, or ones without a KB", () => {
    const plan = planRemoval(
      "windows",
      [
        outcome({ updateId: "a", kb: "KB5000001", finishedAt: "2026-01-20T02:10:00Z" }),
        outcome({ updateId: "b", kb: "KB5000002", finishedAt: "2026-01-20T02:20:00Z" }),
        outcome({ updateId: "c", kb: "KB5000003", finishedAt: "2026-01-20T02:05:00Z", result: "AlreadyInstalled" }),
        outcome({
          updateId: "d",
          kb: "KB5000004",
          finishedAt: "2026-01-20T02:06:00Z",
          installed: false,
          result: "Failed",
        }),
        outcome({ updateId: "e", kb: "KB5000005", finishedAt: "2026-01-20T02:07:00Z" }),
        outcome({ updateId: "f", finishedAt: "2026-01-20T02:08:00Z" }),
      ],
      undefined,
      ["KB5000005"],
    );
    expect(plan.request).toEqual({ os: "windows", kbs: ["KB5000002", "KB5000001"] });
    expect(plan.notRequested.map((n) => [n.updateId, n.reason])).toEqual([
      ["f", expect.stringMatching(/no KB number/)],
      ["e", expect.stringMatching(/keepKbs/)],
    ]);
  });

  it("Linux: back to the baseline's version; a package new in this run is left with the reason", () => {
    const baseline = { installedUpdates: [{ id: "openssl", version: "3.0.2-1" }] } as unknown as SystemSnapshot;
    const plan = planRemoval(
      "linux",
      [
        outcome({ updateId: "openssl", version: "3.0.2-2", finishedAt: "2026-01-20T02:10:00Z" }),
        outcome({ updateId: "newpkg", version: "1.0", finishedAt: "2026-01-20T02:11:00Z" }),
      ],
      baseline,
      [],
    );
    expect(plan.request).toEqual({ os: "linux", packages: [{ name: "openssl", version: "3.0.2-1" }] });
    expect(plan.notRequested).toEqual([{ updateId: "newpkg", reason: expect.stringMatching(/new in this run/) }]);
  });

  it("has no request when nothing may be removed", () => {
    expect(planRemoval("windows", [], undefined, []).request).toBeUndefined();
  });
});

function regressed(mode: "none" | "uninstall" | "restoreSnapshot" | undefined): DeviceRunState {
  const { policy } = resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY, tenant(mode === undefined ? undefined : { mode })]);
  let state = planStart(newDeviceRunState(policy, at(0)), at(0)).state;
  const steps: StageOutcome[] = [
    { stage: "pre", baselineOk: true, preValidationOk: true },
    { stage: "catalog", ok: true, approved: 2 },
    { stage: "install", documentProduced: true, installed: 2, failed: 0, rebootRequired: false },
  ];
  steps.forEach((o, i) => {
    state = planNext(state, o, { now: at(i + 1), dryRun: false }).state;
  });
  expect(state.stage).toBe("post");
  return state;
}

describe("the planner after a regression", () => {
  const post = (removable: number): StageOutcome => ({ stage: "post", regressions: 1, removable });

  it("ends the run as before when the policy asks for no remediation", () => {
    for (const mode of [undefined, "none"] as const) {
      const plan = planNext(regressed(mode), post(2), { now: at(10), dryRun: false });
      expect(plan.state.stage).toBe("done");
      expect(plan.record).toEqual([]);
    }
  });

  it("uninstall: remediate, then revalidate, then done with the remediation record", () => {
    const first = planNext(regressed("uninstall"), post(2), { now: at(10), dryRun: false });
    expect(first.state.stage).toBe("remediate");
    expect(first.submit).toEqual(["uninstall"]);
    expect(DeviceRunStateSchema.safeParse(first.state).success).toBe(true);
    const second = planNext(
      first.state,
      { stage: "remediate", answered: true, removed: 2, notRemoved: 0, rebootRequired: false },
      { now: at(14), dryRun: false },
    );
    expect(second.state.stage).toBe("revalidate");
    expect(second.submit).toEqual(["revalidation"]);
    const done = planNext(second.state, { stage: "revalidate", regressionsAfter: 0 }, { now: at(16), dryRun: false });
    expect(done.state.stage).toBe("done");
    expect(done.record).toEqual([
      expect.objectContaining({ kind: "remediation", mode: "uninstall", regressionsBefore: 1 }),
    ]);
    expect(done.state.events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        "remediation.started",
        "remediation.uninstalled",
        "remediation.revalidated",
        "remediation.finished",
      ]),
    );
  });

  it("uninstall with nothing removable, or nothing removed: done, not possible, and why", () => {
    const none = planNext(regressed("uninstall"), post(0), { now: at(10), dryRun: false });
    expect(none.state.stage).toBe("done");
    expect(none.record[0]).toMatchObject({
      kind: "remediation",
      notPossible: expect.stringMatching(/may be uninstalled/),
    });
    const started = planNext(regressed("uninstall"), post(1), { now: at(10), dryRun: false }).state;
    const refused = planNext(
      started,
      { stage: "remediate", answered: true, removed: 0, notRemoved: 1, rebootRequired: false },
      { now: at(12), dryRun: false },
    );
    expect(refused.state.stage).toBe("done");
    expect(refused.record[0]).toMatchObject({ notPossible: expect.stringMatching(/removed none/) });
  });

  it("restoreSnapshot: recorded as not possible (no pre-install snapshot yet), never silently ignored", () => {
    const plan = planNext(regressed("restoreSnapshot"), post(2), { now: at(10), dryRun: false });
    expect(plan.state.stage).toBe("done");
    expect(plan.record[0]).toMatchObject({ mode: "restoreSnapshot", notPossible: expect.stringMatching(/snapshot/) });
  });
});

const uninstall = (results: UninstallRecord["results"]): UninstallRecord => ({
  schemaVersion: 1,
  results,
  notRequested: [],
  rebootRequired: false,
});
const removed = (kb: string, result: UninstallRecord["results"][number]["result"] = "Uninstalled") => ({
  updateId: kb,
  kb,
  result,
  method: "wusa" as const,
  rebootRequired: false,
  finishedAt: "2026-01-20T02:30:00Z",
});
const regressions = (n: number) => ({
  schemaVersion: 1 as const,
  TotalRegressions: n,
  regressions: Array.from({ length: n }, (_, i) => ({
    app: "WebApp",
    check: `c${i}`,
    pre: { success: true, detail: "200" },
    post: { success: false, detail: "503" },
  })),
  preExisting: [],
});

describe("decideRemediation", () => {
  const base = {
    mode: "uninstall" as const,
    regressionsBefore: 1,
    notRequested: [],
    readFrom: [],
    decidedAt: "2026-01-20T02:40:00Z",
  };

  it("recovered: quarantines exactly what was removed", () => {
    const r = decideRemediation({
      ...base,
      uninstall: uninstall([removed("KB5000001"), removed("KB2267602", "NotUninstallable")]),
      after: regressions(0),
    });
    expect(r.outcome).toBe("recovered");
    expect(r.quarantine).toEqual([{ kind: "kb", kb: "KB5000001" }]);
    expect(r.reason).toMatch(/removed KB5000001; the POST validation passes again/);
    expect(r.reason).toMatch(/not removed: KB2267602 \(NotUninstallable\)/);
  });

  it("still failing: names the checks, quarantines nothing", () => {
    const r = decideRemediation({
      ...base,
      uninstall: uninstall([removed("KB5000001")]),
      after: regressions(1),
    });
    expect(r).toMatchObject({ outcome: "still-failing", regressionsAfter: 1, quarantine: [] });
    expect(r.reason).toMatch(/WebApp\/c0/);
  });

  it("not possible: the planner's reason", () => {
    const r = decideRemediation({ ...base, notPossible: "this run installed nothing" });
    expect(r).toMatchObject({ outcome: "not-possible", reason: "this run installed nothing", quarantine: [] });
  });
});

describe("the exit code after a remediation", () => {
  it("stays 220 and names the outcome among the reasons; a tampered remediation record adds a 240 reason behind the 220", () => {
    const verified = <T>(value: T) => ({ status: "verified" as const, value });
    const record = decideRemediation({
      mode: "uninstall",
      regressionsBefore: 1,
      notRequested: [],
      readFrom: [],
      decidedAt: "2026-01-20T02:40:00Z",
      uninstall: uninstall([removed("KB5000001")]),
      after: regressions(0),
    });
    const minimal = {
      regressions: verified(regressions(1)),
      remediation: verified(record),
    } as unknown as ExitCodeEvidence;
    const filled = new Proxy(minimal, {
      get: (target, key: string) =>
        key in target
          ? target[key as keyof ExitCodeEvidence]
          : key === "otherFailures"
            ? {}
            : key === "otherIntegrityProblems"
              ? []
              : { status: "missing" },
    });
    const decision = decideExitCode(filled);
    expect(decision.exitCode).toBe(220);
    expect(decision.rule).toBe("220.regressions");
    expect(decision.reasons).toContainEqual(
      expect.stringMatching(/^remediation \(uninstall\): recovered: removed KB5000001/),
    );
    const tampered = decideExitCode(
      new Proxy(filled, {
        get: (target, key: string) =>
          key === "remediation"
            ? { status: "hash-mismatch", problem: "sha256 differs" }
            : target[key as keyof ExitCodeEvidence],
      }),
    );
    expect(tampered.exitCode).toBe(220);
    expect(tampered.reasons).toContainEqual(
      expect.stringMatching(/12-remediation\/remediation\.json is hash-mismatch/),
    );
  });
});
