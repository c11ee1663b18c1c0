import { createHash } from "node:crypto";
import { QuarantineEventDataSchema } from "../../../lib/azure/events/eventData";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { onDemandOccurrence } from "../../../lib/domain/window/occurrences";
import { windowRunInput } from "../../../lib/domain/window/windowRunInput";
import { openEvidenceSession } from "../../../lib/evidence/evidenceSession";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import { currentReleaseOf, listReleases, readPromotion } from "../../../lib/release/releaseStore";
import { CatalogSchema, InstallOutcomeSchema, type Catalog } from "../../../lib/schemas/artifacts/catalog";
import { RunRecordSchema } from "../../../lib/schemas/artifacts/run";
import { ManifestSchema } from "../../../lib/schemas/artifacts/integrity";
import type { RunRef } from "../../../lib/schemas/common";
import type { Release } from "../../../lib/schemas/release";
import { WindowReportSchema, type WindowReport } from "../../../lib/schemas/window";
import { parseScenario } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { ORCHESTRATORS } from "../../../orchestrators/activityNames";
import type { WindowRunResult } from "../../../orchestrators/maintenanceWindow";

// Releases over four days on the local stack (issue 23): dev installs and seals a release; a KB released after dev's
// window is held in staging; staging waits for its soak; a regression in staging holds prod; a second client's
// regression quarantines the KB tenant-wide and re-cuts the release; prod then installs exactly the remaining set.
// Every step is read back from sealed evidence (verified sessions), and the proofs are checked with an RFC 9162
// inclusion verifier written here from the RFC, not with the code that made them.

const T0 = new Date("2026-03-02T01:50:00Z");
const KB_A = "KB5070001";
const KB_B = "KB5070002";
const KB_C = "KB5070003";
const upd = (n: number, kb: string, extra: Record<string, unknown> = {}) => ({
  updateId: `5c1e000${n}-2026-4a01-9c1d-00000000000${n}`,
  kb,
  title: `2026-03 update ${kb}`,
  classification: "Security Updates",
  severity: "Important",
  sizeBytes: 10_000_000,
  rebootBehavior: "NeverReboots",
  installSeconds: 120,
  ...extra,
});
const window = (id: string, ring: string, release: Record<string, unknown>) => ({
  id,
  tenant: "contoso-msp",
  clients: [],
  timeZone: "UTC",
  recurrence: { frequency: "Daily" },
  startTime: "02:00",
  durationMinutes: 240,
  rings: [{ name: ring }],
  maxConcurrency: "100%",
  maxErrors: 5,
  release,
});
const device = (name: string, client: string, win: string, ring: string, extra: Record<string, unknown> = {}) => ({
  name,
  os: "windows",
  tenant: "contoso-msp",
  client,
  window: win,
  ring,
  resourceGroup: "rg-rel",
  updateSets: ["march"],
  services: [{ name: "AppSvc" }, { name: "wuauserv", startType: "Manual" }, { name: "himds" }],
  ...extra,
});
// Only KB_B pending (KB_A already in place): the run installs KB_B alone, so its regression is KB_B's.
const breaksB = {
  updateSets: [],
  updates: [upd(2, KB_B)],
  breaks: [{ update: KB_B, app: "App", check: "svc", stopsService: "AppSvc" }],
};
const SOAK_MINUTES = 20 * 60;

const scenario = parseScenario({
  name: "releases",
  subscriptions: [
    { id: "00000000-0000-4000-8000-000000000023", resourceGroups: [{ name: "rg-rel", location: "westeurope" }] },
  ],
  tenants: [{ id: "contoso-msp", displayName: "Contoso" }],
  clients: ["alpha", "beta", "gamma"].map((client) => ({
    tenant: "contoso-msp",
    client,
    displayName: client,
    timeZone: "UTC",
    windows: ["rel-dev", "rel-staging", "rel-prod", "rel-pilot"],
  })),
  windows: [
    window("rel-dev", "dev", {}),
    window("rel-staging", "staging", { follows: { ring: "dev" }, gates: { soakMinutes: SOAK_MINUTES } }),
    window("rel-prod", "prod", { follows: { ring: "staging" }, gates: { minSucceeded: "50%" } }),
    // Another client's pilot ring: it seals what it saw (its 220 is the second client's regression of KB_B).
    window("rel-pilot", "pilot", {}),
  ],
  policies: [
    {
      scope: { level: "tenant", tenant: "contoso-msp" },
      update: { deferralDays: 0 },
      diagnostics: { required: false },
      appValidation: { apps: [{ name: "App", checks: [{ type: "service", name: "svc", serviceName: "AppSvc" }] }] },
    },
  ],
  updateSets: {
    march: {
      os: "windows",
      updates: [
        upd(1, KB_A),
        upd(2, KB_B),
        // Published the afternoon after dev's window: dev never saw it.
        upd(3, KB_C, { releasedOn: "2026-03-02T14:00:00Z" }),
      ],
    },
  },
  devices: [
    device("ALPHA-DEV1", "alpha", "rel-dev", "dev"),
    device("GAMMA-DEV1", "gamma", "rel-dev", "dev"),
    device("ALPHA-STG1", "alpha", "rel-staging", "staging", breaksB),
    device("GAMMA-STG1", "gamma", "rel-staging", "staging"),
    device("BETA-PIL1", "beta", "rel-pilot", "pilot", breaksB),
    device("ALPHA-PRD1", "alpha", "rel-prod", "prod"),
    device("BETA-PRD1", "beta", "rel-prod", "prod"),
    device("GAMMA-PRD1", "gamma", "rel-prod", "prod"),
  ],
});

let stack: LocalStack;

async function runWindowAt(id: string, at: Date): Promise<{ report: WindowReport; result: WindowRunResult }> {
  const now = stack.host.now().getTime();
  if (at.getTime() > now) stack.host.advanceTime(at.getTime() - now);
  const win = (await stack.deps.policies.listWindows()).find((w) => w.id === id);
  if (win === undefined) throw new Error(`no window ${id}`);
  const o = onDemandOccurrence(win, stack.host.now());
  await stack.host.client.startNew(ORCHESTRATORS.maintenanceWindow, {
    instanceId: o.instanceId,
    input: windowRunInput(win, o, "on-demand"),
  });
  const status = await stack.host.waitForInstance(o.instanceId);
  expect(status.runtimeStatus).toBe("Completed");
  const result = status.output as WindowRunResult;
  const session = openEvidenceSession(stack.deps.evidence, {
    tenant: "contoso-msp",
    client: "_windows",
    device: id,
    runId: o.instanceId,
  });
  const read = await session.readBytes("window-report.json");
  expect(read.read.status).toBe("verified");
  return { report: WindowReportSchema.parse(JSON.parse(read.bytes?.toString("utf8") ?? "null")), result };
}

/** A run's artifact read back through its verified session. */
async function artifact<T>(run: RunRef, spec: { path: string }, parse: (v: unknown) => T): Promise<T> {
  const reading = await openEvidenceSession(stack.deps.evidence, run).readBytes(spec.path);
  expect(reading.read.status).toBe("verified");
  const text = reading.bytes?.toString("utf8") ?? "";
  return parse(
    spec.path.endsWith(".jsonl")
      ? text
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l))
      : JSON.parse(text),
  );
}

const installedKeys = async (run: RunRef): Promise<string[]> =>
  (await artifact(run, ARTIFACTS.installSummary, (v) => InstallOutcomeSchema.array().parse(v)))
    .filter((o) => o.installed)
    .map((o) => o.kb ?? o.updateId)
    .sort();

const runsOf = (report: WindowReport): RunRef[] =>
  report.rings.flatMap((r) => r.rollouts.flatMap((x) => x.outcomes.flatMap((o) => (o.result ? [o.result.run] : []))));

// RFC 9162 §2.1.3.2 (verifying an inclusion proof), written from the RFC.
function sha(...parts: Buffer[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}
function rfcVerify(leafHash: Buffer, index: number, size: number, path: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = sha(Buffer.from([1]), p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = sha(Buffer.from([1]), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}

async function checkProofs(release: Release): Promise<void> {
  for (const u of release.updates) {
    const { run, artifact: art, merkle } = u.proof;
    // The proven artifact's bytes, as stored, hash to the proof's leaf; the leaf is in the run's sealed root.
    const bytes = await stack.deps.evidence.store.get(run, art.path);
    expect(
      createHash("sha256")
        .update(bytes ?? Buffer.alloc(0))
        .digest("hex"),
    ).toBe(art.sha256);
    const leaf = sha(Buffer.from([0]), Buffer.from(JSON.stringify({ path: art.path, sha256: art.sha256 }), "utf8"));
    expect(leaf.toString("hex")).toBe(merkle.leafHash);
    const manifest = await artifact(run, ARTIFACTS.manifest, (v) => ManifestSchema.parse(v));
    expect(merkle.root).toBe(manifest.merkle.root);
    const ok = rfcVerify(
      leaf,
      merkle.leafIndex,
      merkle.treeSize,
      merkle.auditPath.map((h) => Buffer.from(h, "hex")),
      Buffer.from(merkle.root, "hex"),
    );
    expect({ key: u.key, ok }).toEqual({ key: u.key, ok: true });
    // And the run verifies as a whole (index, root, event chain, receipt).
    expect((await verifyRun(stack.deps.evidence, run)).ok).toBe(true);
    expect((await installedKeys(run)).includes(u.key)).toBe(true);
  }
}

const emulatorInstalls = (name: string): string[] =>
  (stack.fleet.devices.find((d) => d.name === name)?.state.installRecords ?? [])
    .filter((r) => r.ok)
    .map((r) => r.update.kb ?? r.update.key)
    .sort();

beforeAll(async () => {
  stack = await startLocalStack({ scenario, clock: "virtual", startTime: T0, httpPort: 0 });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("a release promoted across rings on four days", () => {
  let devRelease: Release;
  let stagingRelease: Release;

  it("day 1: dev installs what is released and seals it as a release with proofs", async () => {
    const { report } = await runWindowAt("rel-dev", new Date("2026-03-02T02:00:00Z"));
    expect(report.totals.byExitCode).toEqual({ "0": 2 });
    for (const run of runsOf(report)) expect(await installedKeys(run)).toEqual([KB_A, KB_B]);
    const current = currentReleaseOf(await listReleases(stack.deps.evidence, "contoso-msp"), "dev");
    expect(current).toBeDefined();
    devRelease = current!.value;
    expect(devRelease.updates.map((u) => u.key)).toEqual([KB_A, KB_B]);
    expect(devRelease.devices).toEqual({ targeted: 2, completed: 2, succeeded: 2 });
    await checkProofs(devRelease);
  }, 300_000);

  it("day 2: staging waits for the soak, then installs only the release; the KB released since is held", async () => {
    // Start 30 minutes before the soak ends: the first look is sealed as not promoted, the window waits for it.
    const soakEnd = Date.parse(devRelease.ringFinishedAt) + SOAK_MINUTES * 60_000;
    const { report } = await runWindowAt("rel-staging", new Date(soakEnd - 30 * 60_000));
    const occurrence = report.occurrence.instanceId;
    const first = await readPromotion(stack.deps.evidence, "contoso-msp", "rel-staging", occurrence, "staging", 1);
    expect(first?.value.promoted).toBe(false);
    expect(first?.value.gates.find((g) => g.gate === "soak")).toMatchObject({ met: false });
    expect(first?.value.recheckAt).toBe(new Date(soakEnd).toISOString());
    const second = await readPromotion(stack.deps.evidence, "contoso-msp", "rel-staging", occurrence, "staging", 2);
    expect(second?.value).toMatchObject({ promoted: true, release: { id: devRelease.id } });
    expect(Date.parse(second!.value.decidedAt)).toBeGreaterThanOrEqual(soakEnd);

    const runs = runsOf(report);
    const gamma = runs.find((r) => r.device === "GAMMA-STG1")!;
    const alpha = runs.find((r) => r.device === "ALPHA-STG1")!;
    const catalog: Catalog = await artifact(gamma, ARTIFACTS.catalog, (v) => CatalogSchema.parse(v));
    const c = catalog.updates.find((u) => u.kb === KB_C);
    expect(c).toMatchObject({ decision: "excluded" });
    expect(c?.reason).toContain(`held: not in release ${devRelease.id}`);
    const a = catalog.updates.find((u) => u.kb === KB_A);
    expect(a).toMatchObject({ decision: "approved", release: { id: devRelease.id } });
    expect(a?.reason).toContain(`approved by release ${devRelease.id}`);
    expect(await installedKeys(gamma)).toEqual([KB_A, KB_B]);
    expect(emulatorInstalls("GAMMA-STG1")).toEqual([KB_A, KB_B]);
    // KB_B broke alpha's app: 220.
    const alphaOutcome = report.rings[0]?.rollouts.flatMap((x) => x.outcomes).find((o) => o.device === "ALPHA-STG1");
    expect(alphaOutcome?.result?.exitCode).toBe(220);
    expect(await installedKeys(alpha)).toEqual([KB_B]);

    const current = currentReleaseOf(await listReleases(stack.deps.evidence, "contoso-msp"), "staging");
    stagingRelease = current!.value;
    expect(stagingRelease.updates.map((u) => u.key)).toEqual([KB_A, KB_B]);
    expect(stagingRelease.regressions).toEqual([
      { client: "alpha", device: "ALPHA-STG1", runId: alpha.runId, keys: [KB_B] },
    ]);
    await checkProofs(stagingRelease);
  }, 300_000);

  it("day 3: the regression in staging holds prod (nothing installed), and the report says why", async () => {
    const { report } = await runWindowAt("rel-prod", new Date("2026-03-04T02:00:00Z"));
    expect(report.rings[0]).toMatchObject({ ring: "prod", started: false });
    expect(report.rings[0]?.reason).toContain("no-open-regression");
    expect(report.rings[0]?.reason).toContain(KB_B);
    expect(report.rings[0]?.reason).toContain("next occurrence");
    const decision = await readPromotion(
      stack.deps.evidence,
      "contoso-msp",
      "rel-prod",
      report.occurrence.instanceId,
      "prod",
      1,
    );
    expect(decision?.value).toMatchObject({ promoted: false, release: { id: stagingRelease.id } });
    for (const name of ["ALPHA-PRD1", "BETA-PRD1", "GAMMA-PRD1"]) expect(emulatorInstalls(name)).toEqual([]);
  }, 300_000);

  it("day 3: a second client's regression quarantines the KB and re-cuts the releases without it", async () => {
    const { report } = await runWindowAt("rel-pilot", new Date("2026-03-04T10:00:00Z"));
    expect(report.totals.byExitCode).toEqual({ "220": 1 });
    expect(report.decisions.join("\n")).toContain(`quarantined tenant-wide: ${KB_B}`);
    const all = await listReleases(stack.deps.evidence, "contoso-msp");
    const recut = currentReleaseOf(all, "staging")!.value;
    expect(recut.id).not.toBe(stagingRelease.id);
    expect(recut.replaces).toMatchObject({ id: stagingRelease.id, removed: [{ key: KB_B }] });
    expect(recut.updates.map((u) => u.key)).toEqual([KB_A]);
    // Quarantined across the MSP's tenant, naming both clients and their regressing runs.
    const entries = await stack.deps.quarantine.list("contoso-msp");
    const entry = entries.find((e) => e.scope === "tenant" && e.update.kind === "kb" && e.update.kb === KB_B);
    expect(entry).toMatchObject({ quarantinedBy: "patchpilot", source: { clients: ["alpha", "beta"] } });
    expect(entry?.lifted).toBeUndefined();
    expect(entry?.source.runs).toHaveLength(2);
    // The CloudEvent says so, citing the sealed decision; the decision reads back with that hash.
    const events = stack.eventGrid.published.filter((e) => e.type === "io.patchpilot.quarantine.created");
    expect(events).toHaveLength(1);
    const data = QuarantineEventDataSchema.parse(events[0]?.data);
    expect(data).toMatchObject({ key: KB_B, clients: ["alpha", "beta"], threshold: 2, entryId: entry?.id });
    expect(data.recut.map((r) => r.replaces).sort()).toEqual(
      all
        .filter((r) => r.value.replaces !== undefined)
        .map((r) => r.value.replaces?.id)
        .sort(),
    );
    const sealedDecision = await stack.deps.evidence.store.readBlob(data.decision.path);
    expect(
      createHash("sha256")
        .update(sealedDecision ?? Buffer.alloc(0))
        .digest("hex"),
    ).toBe(data.decision.sha256);
    // The dashboard lists it (read from the quarantine store).
    const page = await (await fetch(stack.dashboardUrl ?? "")).text();
    expect(page).toMatch(
      new RegExp(
        `data-testid="quarantined-update" data-tenant="contoso-msp" data-scope="tenant" data-update="${KB_B}"`,
      ),
    );
    // The replaced release is sealed as it was: create-once.
    expect(all.find((r) => r.value.id === stagingRelease.id)?.value).toEqual(stagingRelease);
  }, 300_000);

  it("day 4: prod installs exactly the re-cut release's set", async () => {
    const { report } = await runWindowAt("rel-prod", new Date("2026-03-05T02:00:00Z"));
    expect(report.rings[0]).toMatchObject({ ring: "prod", started: true });
    expect(report.totals.byExitCode).toEqual({ "0": 3 });
    const recut = currentReleaseOf(await listReleases(stack.deps.evidence, "contoso-msp"), "staging")!.value;
    for (const run of runsOf(report)) {
      expect(await installedKeys(run)).toEqual([KB_A]);
      const catalog = await artifact(run, ARTIFACTS.catalog, (v) => CatalogSchema.parse(v));
      // The run was allowed exactly the re-cut release (run.json records it).
      const record = await artifact(run, ARTIFACTS.run, (v) => RunRecordSchema.parse(v));
      expect(record.release?.id).toBe(recut.id);
      expect(catalog.updates.find((u) => u.kb === KB_A)?.release?.id).toBe(recut.id);
      // KB_B: quarantined tenant-wide (every later catalog says so), and not in the re-cut release either.
      const b = catalog.updates.find((u) => u.kb === KB_B);
      expect(b?.decision).toBe("excluded");
      expect(b?.reason).toContain("quarantine");
      expect(catalog.updates.find((u) => u.kb === KB_C)?.decision).toBe("excluded");
      expect(emulatorInstalls(run.device)).toEqual([KB_A]);
    }
  }, 300_000);
});
