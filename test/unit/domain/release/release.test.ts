import { applyRelease } from "../../../../lib/domain/release/allowedByRelease";
import { buildRelease, keysToQuarantine, recutRelease } from "../../../../lib/domain/release/buildRelease";
import { evaluateGates, requiredDevices } from "../../../../lib/domain/release/evaluateGates";
import type { CatalogEntry, InstallOutcome } from "../../../../lib/schemas/artifacts/catalog";
import type { Release, ReleaseAllowance, ReleaseProof } from "../../../../lib/schemas/release";
import { ReleasePolicySchema } from "../../../../lib/schemas/releasePolicy";

const H = "a".repeat(64);
const proof = (runId: string): ReleaseProof => ({
  run: { tenant: "t1", client: "c1", device: "d1", runId },
  artifact: { path: "05-install/install-summary.jsonl", sha256: H },
  merkle: { root: H, leafIndex: 3, treeSize: 9, leafHash: H, auditPath: [H] },
});
const entry = (over: Partial<CatalogEntry>): CatalogEntry => ({
  updateId: "5c1e0001-2026-4a01-9c1d-000000000001",
  revision: 1,
  kb: "KB5000001",
  title: "u",
  classification: "Security",
  severity: "Important",
  releaseDate: null,
  rebootBehavior: "NeverReboots",
  decision: "approved",
  reason: "classification Security, severity Important",
  ...over,
});
const allowance = (updates: ReleaseAllowance["updates"]): ReleaseAllowance => ({
  id: "rel-dev-20260302-00000000",
  sha256: H,
  promotion: { path: "p", sha256: H },
  updates,
});
const allowed = (updateId: string, extra: Partial<ReleaseAllowance["updates"][number]> = {}) => ({
  key: "k",
  updateId,
  proof: { runId: "r20260302-run1", path: "05-install/install-summary.jsonl", leafIndex: 3, root: H },
  ...extra,
});

describe("applyRelease (the catalog under a promoted release)", () => {
  it("approves the same WUA id (any case) and revision, citing the release and the run that installed it", () => {
    const e = applyRelease(entry({}), allowance([allowed("5C1E0001-2026-4A01-9C1D-000000000001", { revision: 1 })]));
    expect(e.decision).toBe("approved");
    expect(e.reason).toMatch(/^approved by release rel-dev-20260302-00000000 \(installed in run r20260302-run1\)/);
    expect(e.release).toEqual({ id: "rel-dev-20260302-00000000", sha256: H, proof: allowed("x").proof });
  });

  it("holds an update the release does not have, and other bits of one it has", () => {
    expect(applyRelease(entry({}), allowance([])).reason).toMatch(/^held: not in release rel-dev-20260302-00000000/);
    const newerRevision = applyRelease(
      entry({ revision: 2 }),
      allowance([allowed("5c1e0001-2026-4a01-9c1d-000000000001", { revision: 1 })]),
    );
    expect(newerRevision.decision).toBe("excluded");
    expect(newerRevision.reason).toContain("has revision 1, the device offers revision 2");
    const pkg = applyRelease(
      entry({ updateId: "openssl", kb: undefined, revision: undefined, version: "3.0.13-1" }),
      allowance([allowed("openssl", { version: "3.0.13-0" })]),
    );
    expect(pkg.decision).toBe("excluded");
    expect(pkg.reason).toContain("has 3.0.13-0, the device offers 3.0.13-1");
  });

  it("never widens the policy: an excluded entry stays excluded with its own reason", () => {
    const e = entry({ decision: "excluded", reason: "KB5000001 is in excludeKbs" });
    expect(applyRelease(e, allowance([allowed(e.updateId)]))).toEqual(e);
  });
});

describe("evaluateGates", () => {
  const release = (over: Partial<Release> = {}): Release => ({
    schemaVersion: 1,
    kind: "patchpilot-release",
    id: "rel-dev-20260302-00000000",
    tenant: "t1",
    source: { windowId: "w", ring: "dev", occurrence: "o", localDate: "2026-03-02" },
    ringFinishedAt: "2026-03-02T03:00:00.000Z",
    sealedAt: "2026-03-02T03:00:00.000Z",
    devices: { targeted: 3, completed: 3, succeeded: 2 },
    updates: [
      { key: "KB1000001", updateId: "u1", title: "", classification: "Security", installedOn: 2, proof: proof("r1") },
    ],
    regressions: [],
    ...over,
  });
  const gates = (over: Record<string, unknown> = {}) => ReleasePolicySchema.parse({ gates: over }).gates;
  const base = {
    followedRing: "dev",
    regressions: [],
    closedKeys: [],
    approvals: [],
  };

  it("holds when the followed ring sealed nothing", () => {
    const v = evaluateGates({ ...base, now: new Date("2026-03-03T03:00:00Z"), gates: gates(), release: undefined });
    expect(v).toMatchObject({ promoted: false, reason: "ring dev has sealed no release yet" });
    expect(v.recheckAt).toBeUndefined();
  });

  it("waits for the soak only: the recheck is when the soak ends", () => {
    const v = evaluateGates({
      ...base,
      now: new Date("2026-03-03T02:00:00Z"),
      gates: gates({ soakMinutes: 24 * 60 }),
      release: release(),
    });
    expect(v.promoted).toBe(false);
    expect(v.recheckAt).toBe("2026-03-03T03:00:00.000Z");
    const met = evaluateGates({
      ...base,
      now: new Date("2026-03-03T03:00:00Z"),
      gates: gates({ soakMinutes: 1440 }),
      release: release(),
    });
    expect(met.promoted).toBe(true);
  });

  it("counts succeeded devices against a count or a percentage rounded up", () => {
    expect(requiredDevices("80%", 3)).toBe(3);
    expect(requiredDevices("50%", 3)).toBe(2);
    expect(requiredDevices(2, 3)).toBe(2);
    const now = new Date("2026-03-03T03:00:00Z");
    expect(evaluateGates({ ...base, now, gates: gates({ minSucceeded: "80%" }), release: release() }).promoted).toBe(
      false,
    );
    expect(evaluateGates({ ...base, now, gates: gates({ minSucceeded: "50%" }), release: release() }).promoted).toBe(
      true,
    );
  });

  it("holds on an open regression of a key in the release, not on others, and not once it is lifted; no recheck", () => {
    const now = new Date("2026-03-03T03:00:00Z");
    const regressions = [{ client: "c2", device: "d9", runId: "r9", keys: ["KB1000001"] }];
    const held = evaluateGates({ ...base, now, gates: gates({ soakMinutes: 5000 }), release: release(), regressions });
    expect(held.promoted).toBe(false);
    expect(held.recheckAt).toBeUndefined();
    expect(held.reason).toContain("no-open-regression: open regression on KB1000001 (c2/d9)");
    const other = [{ client: "c2", device: "d9", runId: "r9", keys: ["KB1000002"] }];
    expect(evaluateGates({ ...base, now, gates: gates(), release: release(), regressions: other }).promoted).toBe(true);
    expect(
      evaluateGates({ ...base, now, gates: gates(), release: release(), regressions, closedKeys: ["KB1000001"] })
        .promoted,
    ).toBe(true);
  });

  it("asks for an approval when the window requires one", () => {
    const now = new Date("2026-03-03T03:00:00Z");
    const g = gates({ requireApproval: true });
    expect(evaluateGates({ ...base, now, gates: g, release: release() }).promoted).toBe(false);
    const approvals = [{ principal: "apiKey:k1 (approver)", at: "2026-03-02T09:00:00Z" }];
    expect(evaluateGates({ ...base, now, gates: g, release: release(), approvals }).promoted).toBe(true);
  });
});

describe("buildRelease, the quarantine rule and re-cuts", () => {
  const outcome = (kb: string, installed = true): InstallOutcome =>
    ({
      schemaVersion: 1,
      updateId: `id-${kb}`,
      kb,
      title: kb,
      installed,
      result: installed ? "Succeeded" : "Failed",
      rebootRequired: false,
      finishedAt: "2026-03-02T03:00:00Z",
      source: { script: "install", version: "1.0.0", sha256: H, transcript: "t" },
    }) as unknown as InstallOutcome;
  const run = (runId: string, client: string, exitCode: number, kbs: string[]) => ({
    run: { tenant: "t1", client, device: `d-${runId}`, runId },
    exitCode,
    installs: kbs.map((k) => outcome(k)),
    catalog: undefined,
    proof: proof(runId),
  });

  it("keeps what runs without 210/220/240 installed, the first run by id as proof; a 220's keys are its regressions", () => {
    const r = buildRelease({
      id: "rel-dev-20260302-00000000",
      tenant: "t1",
      source: { windowId: "w", ring: "dev", occurrence: "o", localDate: "2026-03-02" },
      ringFinishedAt: "2026-03-02T03:00:00.000Z",
      targeted: 5,
      runs: [
        run("r3", "c1", 0, ["KB1", "KB2"]),
        run("r1", "c1", 150, ["KB1"]),
        run("r2", "c2", 220, ["KB3"]),
        run("r4", "c2", 210, ["KB4"]),
        run("r5", "c3", 240, ["KB5"]),
      ],
    });
    expect(r.updates.map((u) => [u.key, u.installedOn, u.proof.run.runId])).toEqual([
      ["KB1", 2, "r1"],
      ["KB2", 1, "r3"],
    ]);
    expect(r.devices).toEqual({ targeted: 5, completed: 5, succeeded: 2 });
    expect(r.regressions).toEqual([{ client: "c2", device: "d-r2", runId: "r2", keys: ["KB3"] }]);
  });

  it("quarantines a key at N distinct clients, not at N runs of one client", () => {
    const g = (client: string, keys: string[]) => ({ client, device: "d", runId: `r-${client}`, keys });
    expect([...keysToQuarantine([g("c1", ["KB1"]), g("c1", ["KB1"])], 2).keys()]).toEqual([]);
    expect([...keysToQuarantine([g("c1", ["KB1"]), g("c2", ["KB1", "KB2"])], 2)]).toEqual([["KB1", ["c1", "c2"]]]);
    expect([...keysToQuarantine([g("c1", ["KB2"])], 1).keys()]).toEqual(["KB2"]);
  });

  it("re-cuts under a new id naming the one it replaces, and numbers later re-cuts", () => {
    const original = buildRelease({
      id: "rel-dev-20260302-00000000",
      tenant: "t1",
      source: { windowId: "w", ring: "dev", occurrence: "o", localDate: "2026-03-02" },
      ringFinishedAt: "2026-03-02T03:00:00.000Z",
      targeted: 1,
      runs: [run("r1", "c1", 0, ["KB1", "KB2", "KB3"])],
    });
    const first = recutRelease(original, H, new Map([["KB2", "regressed"]]), "2026-03-04T10:00:00.000Z");
    expect(first).toMatchObject({
      id: "rel-dev-20260302-00000000-r1",
      ringFinishedAt: original.ringFinishedAt,
      replaces: { id: original.id, sha256: H, removed: [{ key: "KB2", reason: "regressed" }] },
    });
    expect(first.updates.map((u) => u.key)).toEqual(["KB1", "KB3"]);
    expect(recutRelease(first, H, new Map([["KB3", "x"]]), "2026-03-05T10:00:00.000Z").id).toBe(
      "rel-dev-20260302-00000000-r2",
    );
  });
});
