import { decideExitCode, type ExitCodeEvidence, type Reading } from "../../../lib/domain/exitCode/decideExitCode";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { decideRemediation } from "../../../lib/domain/remediation/decideRemediation";
import { newDeviceRunState } from "../../../lib/domain/run/newDeviceRunState";
import { planNext, planStart, type StageOutcome } from "../../../lib/domain/run/planDeviceRun";
import { planRetention, snapshotName, type SnapshotSeen } from "../../../lib/domain/snapshots/planRetention";
import {
  DiskSnapshotsRecordSchema,
  SNAPSHOT_TAGS,
  type DiskSnapshotsRecord,
  type RestoreRecord,
} from "../../../lib/schemas/artifacts/diskSnapshots";
import type { RunRef } from "../../../lib/schemas/common";
import { DeviceRunStateSchema, type DeviceRunState } from "../../../lib/schemas/deviceRun";
import type { PolicyLayer } from "../../../lib/schemas/policyLayer";
import { buildSampleArtifacts } from "../../../local/demo/sampleRun";

// Issue 20, the pure halves of snapshots before install and the restoreSnapshot remediation: the overlay's snapshots
// section, retention's choice, the planner's snapshot / restore / restoreWait stages, the exit code and the outcome.
// The end-to-end run is test/integration/deviceRun/snapshotRestore.test.ts.

const T0 = Date.parse("2026-01-20T02:00:00Z");
const at = (min: number): Date => new Date(T0 + min * 60_000);
const DAY = 86_400_000;
const RUN: RunRef = { tenant: "t", client: "c", device: "VM01", runId: "run-20260120-vm01-0001" };

const layer = (level: "tenant" | "client" | "device", section: PolicyLayer["snapshots"]): PolicyLayer => ({
  schemaVersion: 1,
  scope:
    level === "tenant"
      ? { level, tenant: "t" }
      : level === "client"
        ? { level, tenant: "t", client: "c" }
        : { level, tenant: "t", client: "c", device: "VM01" },
  ...(section === undefined ? {} : { snapshots: section }),
});

describe("the snapshots section of the overlay", () => {
  it("is absent when no layer sets it, and the run then has no snapshot stage", () => {
    const { policy, provenance } = resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY, layer("tenant", undefined)]);
    expect(policy.snapshots).toBeUndefined();
    expect(Object.keys(provenance).filter((k) => k.startsWith("snapshots"))).toEqual([]);
    expect(newDeviceRunState(policy, at(0)).policy.snapshots).toBeUndefined();
  });

  it("takes each field from the most specific layer that sets it, with provenance per field", () => {
    const { policy, provenance } = resolveEffectivePolicy([
      DEFAULT_GLOBAL_POLICY,
      layer("tenant", { mode: "beforeInstall", retentionDays: 30 }),
      layer("client", { disks: "all" }),
      layer("device", { retentionDays: 3 }),
    ]);
    expect(policy.snapshots).toEqual({ mode: "beforeInstall", disks: "all", retentionDays: 3 });
    expect(provenance["snapshots.mode"]).toBe("tenant:t");
    expect(provenance["snapshots.disks"]).toBe("client:t/c");
    expect(provenance["snapshots.retentionDays"]).toBe("device:t/c/VM01");
    expect(newDeviceRunState(policy, at(0)).policy.snapshots).toBe(true);
  });

  it("refuses an unknown mode or a retention of 0 days", () => {
    expect(() =>
      resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY, layer("tenant", { mode: "always" as never })]),
    ).toThrow();
    expect(() => resolveEffectivePolicy([DEFAULT_GLOBAL_POLICY, layer("tenant", { retentionDays: 0 })])).toThrow();
  });
});

describe("retention", () => {
  const ours = (runId: string, device = "VM01", client = "c", tenant = "t") => ({
    [SNAPSHOT_TAGS.tenant]: tenant,
    [SNAPSHOT_TAGS.client]: client,
    [SNAPSHOT_TAGS.device]: device,
    [SNAPSHOT_TAGS.run]: runId,
  });
  const now = new Date(T0);
  const daysAgo = (d: number) => new Date(T0 - d * DAY).toISOString();
  const snap = (name: string, tags: Record<string, string>, timeCreated?: string): SnapshotSeen => ({
    id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/${name}`,
    name,
    tags,
    ...(timeCreated === undefined ? {} : { timeCreated }),
  });

  it("deletes only this device's PatchPilot snapshots older than retentionDays, oldest first", () => {
    const plan = planRetention(
      [
        snap("b", ours("run-b"), daysAgo(9)),
        snap("a", ours("run-a"), daysAgo(20)),
        snap("young", ours("run-y"), daysAgo(2)),
      ],
      RUN,
      now,
      7,
    );
    expect(plan.delete.map((d) => [d.name, d.runId])).toEqual([
      ["a", "run-a"],
      ["b", "run-b"],
    ]);
    expect(plan.kept).toBe(1);
  });

  it("never deletes a snapshot without our tags, of another device, client or tenant, or taken by the current run", () => {
    const old = daysAgo(400);
    const plan = planRetention(
      [
        snap("untagged", {}, old),
        snap("no-run-tag", { ...ours("x"), [SNAPSHOT_TAGS.run]: "" }, old),
        snap("other-device", ours("run-o", "VM02"), old),
        snap("other-client", ours("run-o", "VM01", "c2"), old),
        snap("other-tenant", ours("run-o", "VM01", "c", "t2"), old),
        snap("this-run", ours(RUN.runId), old),
        snap("no-time", ours("run-n")),
      ],
      RUN,
      now,
      1,
    );
    expect(plan.delete).toEqual([]);
    // This run's and the one whose age cannot be read are counted as kept; the others are not ours to count.
    expect(plan.kept).toBe(2);
  });

  it("keeps a snapshot exactly retentionDays old (the cut is 'older than')", () => {
    expect(planRetention([snap("edge", ours("run-e"), daysAgo(7))], RUN, now, 7).delete).toEqual([]);
  });

  it("names snapshots within ARM's rules (1-80 chars, letters, digits, _ . -; no trailing . or -)", () => {
    const name = snapshotName({ ...RUN, device: "A".repeat(63), runId: `r-${"9".repeat(77)}` }, "lun12");
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]$/);
    expect(snapshotName(RUN, "os")).toBe("pp-VM01-run-20260120-vm01-0001-os");
  });
});

/** A run with snapshots (and a remediation) in its policy, planned up to the end of the catalog. */
function catalogued(remediation?: "restoreSnapshot"): DeviceRunState {
  const { policy } = resolveEffectivePolicy([
    DEFAULT_GLOBAL_POLICY,
    {
      ...layer("tenant", { mode: "beforeInstall" }),
      ...(remediation === undefined ? {} : { remediation: { mode: remediation } }),
    },
  ]);
  let state = planStart(newDeviceRunState(policy, at(0)), at(0)).state;
  state = planNext(
    state,
    { stage: "pre", baselineOk: true, preValidationOk: true },
    { now: at(1), dryRun: false },
  ).state;
  return state;
}

describe("the planner's snapshot stage", () => {
  it("comes after a catalog that approved updates, before the install, and submits no run command", () => {
    const plan = planNext(catalogued(), { stage: "catalog", ok: true, approved: 2 }, { now: at(2), dryRun: false });
    expect(plan.state.stage).toBe("snapshot");
    expect(plan.submit).toEqual([]);
    // Looked at again at once: the same advance call takes the snapshots and submits the install.
    expect(plan.state.nextCheckAt).toBe(at(2).toISOString());
    expect(DeviceRunStateSchema.safeParse(plan.state).success).toBe(true);
  });

  it("is skipped when nothing is approved, and on a dry run (nothing would be installed)", () => {
    expect(
      planNext(catalogued(), { stage: "catalog", ok: true, approved: 0 }, { now: at(2), dryRun: false }).state.stage,
    ).toBe("post");
    expect(
      planNext(catalogued(), { stage: "catalog", ok: true, approved: 3 }, { now: at(2), dryRun: true }).state.stage,
    ).toBe("post");
  });

  it("taken: the install is submitted, once; an install retried after a reconnect does not snapshot again", () => {
    const snapshotting = planNext(
      catalogued(),
      { stage: "catalog", ok: true, approved: 2 },
      { now: at(2), dryRun: false },
    );
    const install = planNext(
      snapshotting.state,
      { stage: "snapshot", ok: true, osSnapshotId: "/s/os" },
      { now: at(3), dryRun: false },
    );
    expect(install.state.stage).toBe("install");
    expect(install.submit).toEqual(["install"]);
    expect(install.state.diskSnapshots).toEqual({ taken: true, osSnapshotId: "/s/os" });
    const lost = planNext(
      install.state,
      { stage: "install", documentProduced: false, installed: 0, failed: 0, rebootRequired: false },
      { now: at(10), dryRun: false },
    );
    expect(lost.state.stage).toBe("installReconnect");
    const again = planNext(
      lost.state,
      { stage: "installReconnect", agentStatus: "Connected" },
      { now: at(12), dryRun: false },
    );
    expect(again.state.stage).toBe("install");
    expect(again.submit).toEqual(["install"]);
  });

  it("not taken: the run stops before the install, nothing submitted", () => {
    const snapshotting = planNext(
      catalogued(),
      { stage: "catalog", ok: true, approved: 2 },
      { now: at(2), dryRun: false },
    );
    const stopped = planNext(
      snapshotting.state,
      { stage: "snapshot", ok: false, error: "409 ScopeLocked" },
      { now: at(3), dryRun: false },
    );
    expect(stopped.state.stage).toBe("done");
    expect(stopped.submit).toEqual([]);
    expect(stopped.state.events.at(-1)).toMatchObject({ type: "run.stopped", phase: "05-install" });
  });
});

describe("the planner's restore stages (restoreSnapshot)", () => {
  /** Snapshots taken (or not), installed, POST found a regression. */
  function regressed(taken: StageOutcome & { stage: "snapshot" }): DeviceRunState {
    let state = planNext(
      catalogued("restoreSnapshot"),
      { stage: "catalog", ok: true, approved: 2 },
      { now: at(2), dryRun: false },
    ).state;
    state = planNext(state, taken, { now: at(3), dryRun: false }).state;
    state = planNext(
      state,
      { stage: "install", documentProduced: true, installed: 2, failed: 0, rebootRequired: false },
      { now: at(6), dryRun: false },
    ).state;
    expect(state.stage).toBe("post");
    return state;
  }
  const post: StageOutcome = { stage: "post", regressions: 1, removable: 2 };

  it("restore, then wait for the agent, then revalidate, then done", () => {
    const restore = planNext(regressed({ stage: "snapshot", ok: true, osSnapshotId: "/s/os" }), post, {
      now: at(10),
      dryRun: false,
    });
    expect(restore.state.stage).toBe("restore");
    expect(restore.submit).toEqual([]);
    expect(restore.state.remediation).toEqual({ regressionsBefore: 1 });
    const wait = planNext(restore.state, { stage: "restore", ok: true }, { now: at(11), dryRun: false });
    expect(wait.state.stage).toBe("restoreWait");
    expect(Date.parse(wait.state.nextCheckAt)).toBeGreaterThan(at(11).getTime());
    const still = planNext(
      wait.state,
      { stage: "restoreWait", agentStatus: "Disconnected" },
      { now: at(12), dryRun: false },
    );
    expect(still.state.stage).toBe("restoreWait");
    const back = planNext(
      still.state,
      { stage: "restoreWait", agentStatus: "Connected" },
      { now: at(14), dryRun: false },
    );
    expect(back.state.stage).toBe("revalidate");
    expect(back.submit).toEqual(["revalidation"]);
    const done = planNext(back.state, { stage: "revalidate", regressionsAfter: 0 }, { now: at(16), dryRun: false });
    expect(done.record).toEqual([
      expect.objectContaining({ kind: "remediation", mode: "restoreSnapshot", regressionsBefore: 1 }),
    ]);
    expect(done.record[0]).not.toHaveProperty("notPossible");
  });

  it("not possible: no snapshot taken; a Uniform instance (notRestorable); the restore failed; the agent never came back", () => {
    const { policy } = resolveEffectivePolicy([
      DEFAULT_GLOBAL_POLICY,
      { ...layer("tenant", undefined), remediation: { mode: "restoreSnapshot" } },
    ]);
    let bare = planStart(newDeviceRunState(policy, at(0)), at(0)).state;
    for (const o of [
      { stage: "pre", baselineOk: true, preValidationOk: true },
      { stage: "catalog", ok: true, approved: 1 },
      { stage: "install", documentProduced: true, installed: 1, failed: 0, rebootRequired: false },
    ] as StageOutcome[])
      bare = planNext(bare, o, { now: at(5), dryRun: false }).state;
    const none = planNext(bare, post, { now: at(10), dryRun: false });
    expect(none.record[0]).toMatchObject({
      notPossible: expect.stringMatching(/no pre-install snapshot.*snapshots.mode/),
    });

    const uniform = planNext(
      regressed({ stage: "snapshot", ok: true, osSnapshotId: "/s/os", notRestorable: "Uniform instance" }),
      post,
      { now: at(10), dryRun: false },
    );
    expect(uniform.state.stage).toBe("done");
    expect(uniform.record[0]).toMatchObject({ notPossible: "Uniform instance" });

    const restore = planNext(regressed({ stage: "snapshot", ok: true, osSnapshotId: "/s/os" }), post, {
      now: at(10),
      dryRun: false,
    });
    const failed = planNext(
      restore.state,
      { stage: "restore", ok: false, error: "409 Conflict" },
      { now: at(11), dryRun: false },
    );
    expect(failed.record[0]).toMatchObject({
      notPossible: expect.stringMatching(/OS-disk restore failed: 409 Conflict/),
    });

    const wait = planNext(restore.state, { stage: "restore", ok: true }, { now: at(11), dryRun: false });
    const gone = planNext(
      wait.state,
      { stage: "restoreWait", agentStatus: "Disconnected" },
      { now: at(11 + 60), dryRun: false },
    );
    expect(gone.state.stage).toBe("done");
    expect(gone.record[0]).toMatchObject({ notPossible: expect.stringMatching(/agent was Disconnected/) });
  });
});

describe("the exit code of a run whose snapshot failed", () => {
  const failedSnapshots: DiskSnapshotsRecord = DiskSnapshotsRecordSchema.parse({
    schemaVersion: 1,
    kind: "vm",
    resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/VM01",
    disks: "os",
    ok: false,
    error: "snapshot VM01_OsDisk_1: 409 ScopeLocked locked",
    snapshots: [],
    retention: { retentionDays: 7, deleted: [], kept: 0, listed: true },
    startedAt: at(2).toISOString(),
    finishedAt: at(2).toISOString(),
  });
  function evidence(patch: Partial<ExitCodeEvidence>): ExitCodeEvidence {
    const { artifacts: a } = buildSampleArtifacts({ ...RUN, device: "WIN-SERVER01" }, {});
    const r = <K extends keyof typeof a>(k: K): Reading<never> =>
      a[k] === undefined ? { status: "missing" } : { status: "verified", value: a[k] as never };
    return {
      run: r("run"),
      lockContention: r("lockContention"),
      baseline: r("baseline"),
      preValidation: r("preValidation"),
      gates: { status: "missing" },
      catalog: r("catalog"),
      installSummary: { status: "missing" },
      installFailure: { status: "missing" },
      reboot: { status: "missing" },
      snapshot: { status: "missing" },
      baselineDiff: { status: "missing" },
      postValidation: { status: "missing" },
      regressions: { status: "missing" },
      diagnostics: { status: "missing" },
      diagnosticsFailure: { status: "missing" },
      events: { status: "verified", value: [] },
      artifactIndex: { status: "verified", value: {} },
      manifest: { status: "verified", value: {} },
      otherFailures: {},
      otherIntegrityProblems: [],
      ...patch,
    };
  }

  it("is 170 170.snapshot-failed, naming ARM's refusal, when the verified snapshots.json says not ok", () => {
    const d = decideExitCode(evidence({ diskSnapshots: { status: "verified", value: failedSnapshots } }));
    expect([d.exitCode, d.rule]).toEqual([170, "170.snapshot-failed"]);
    expect(d.reasons[0]).toContain("409 ScopeLocked");
  });

  it("is not decided from a snapshots.json that fails verification (then the missing phases are a 240)", () => {
    const d = decideExitCode(evidence({ diskSnapshots: { status: "hash-mismatch", problem: "bytes changed" } }));
    expect(d.exitCode).toBe(240);
  });
});

describe("the outcome of a restoreSnapshot remediation", () => {
  const restore: RestoreRecord = {
    schemaVersion: 1,
    resourceId: "/vm",
    snapshotId: "/snapshots/pp-os",
    ok: true,
    newDiskId: "/disks/pp-restored",
    oldDiskId: "/disks/os-1",
    oldDiskKept: true,
    actions: [],
    startedAt: at(10).toISOString(),
    finishedAt: at(10).toISOString(),
  };
  const base = {
    mode: "restoreSnapshot" as const,
    regressionsBefore: 1,
    notRequested: [],
    readFrom: [],
    decidedAt: at(20).toISOString(),
    installedByRun: [{ kind: "kb" as const, kb: "KB5012346" }],
  };
  const clean = { schemaVersion: 1, TotalRegressions: 0, regressions: [] } as never;

  it("recovered: names the snapshot and both disks, and quarantines everything the run installed", () => {
    const r = decideRemediation({ ...base, restore, after: clean });
    expect(r.outcome).toBe("recovered");
    expect(r.restore).toEqual({
      snapshotId: "/snapshots/pp-os",
      newDiskId: "/disks/pp-restored",
      oldDiskId: "/disks/os-1",
    });
    expect(r.reason).toMatch(/restored the OS disk from snapshot \/snapshots\/pp-os/);
    expect(r.quarantine).toEqual([{ kind: "kb", kb: "KB5012346" }]);
  });

  it("a failed restore is not possible and quarantines nothing", () => {
    const r = decideRemediation({
      ...base,
      restore: { ...restore, ok: false },
      notPossible: "the OS-disk restore failed: x",
    });
    expect(r.outcome).toBe("not-possible");
    expect(r.quarantine).toEqual([]);
  });
});
