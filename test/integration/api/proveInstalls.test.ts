import { RestError } from "@azure/core-rest-pipeline";
import { proveInstalls } from "../../../lib/api/installs/proveInstalls";
import { ApiProblem } from "../../../lib/api/apiProblem";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { EvidenceStore } from "../../../lib/evidence/blobStore";
import { canonicalJsonLinesBytes } from "../../../lib/evidence/canonicalJson";
import { createEvidenceDeps } from "../../../lib/evidence/createEvidenceDeps";
import { artifactBlobName, installsPartition, installsRowKey } from "../../../lib/evidence/keys";
import { hashLeaf, verifyHexProof } from "../../../lib/evidence/merkle";
import { putArtifact, sealRun, type EvidenceDeps, type SealResult } from "../../../lib/evidence/runEvidence";
import { merkleLeafData } from "../../../lib/evidence/seal";
import { sha256Hex } from "../../../lib/evidence/sha256";
import type { InstallProofResponse, InstallsQuery } from "../../../lib/schemas/api/installs";
import { InstallProofResponseSchema } from "../../../lib/schemas/api/installs";
import type { InstallOutcome } from "../../../lib/schemas/artifacts/catalog";
import type { RunRef } from "../../../lib/schemas/common";
import type { StorageClients } from "../../../lib/azure/storageClients";
import { writeSampleRun } from "../../../local/demo/sampleRun";
import { testConfig, testStorage, uniqueRunId } from "../../harness/storage";

const DEVICE = "WIN-SERVER01";
const KB = "KB5012345";
/** The update id writeSampleRun gives KB5012345. */
const KB_UPDATE_ID = "b7f1c0de-0001-4a1e-9c1d-000000000001";
const NOW = new Date("2026-03-01T09:00:00.000Z");
const ALL_CHECKS = [
  "scope",
  "summary.sha256",
  "summary.line",
  "merkle.inclusion",
  "artifactIndex.sha256",
  "merkle.root",
  "manifest.sha256",
  "manifest.run",
  "events.chain",
];

let counter = 0;
/** A tenant slug of its own per test file run, so reruns against one Azurite never share partitions. */
function uniqueTenant(name: string): string {
  counter += 1;
  return `${name}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** A sealed run on `day` holding only an install summary with these outcomes (finished 02:20, 02:25, ... UTC). */
async function writeRunOn(
  deps: EvidenceDeps,
  run: RunRef,
  day: string,
  outcomes: readonly { kb: string; result: "Succeeded" | "Failed" }[],
): Promise<SealResult> {
  const t = (minutes: number): string => new Date(Date.parse(`${day}T02:00:00.000Z`) + minutes * 60_000).toISOString();
  const lines: InstallOutcome[] = outcomes.map((o, i) => ({
    schemaVersion: 1,
    updateId: o.kb === KB ? KB_UPDATE_ID : `upd-${o.kb}`,
    kb: o.kb,
    title: `Update ${o.kb}`,
    installed: o.result === "Succeeded",
    result: o.result,
    rebootRequired: false,
    finishedAt: t(20 + i * 5),
  }));
  const summary = await putArtifact(deps, run, ARTIFACTS.installSummary, lines);
  return sealRun(deps, run, {
    sealedAt: t(56),
    artifacts: [summary],
    events: [
      { at: t(0), type: "run.started" },
      { at: t(35), type: "phase.completed", phase: "05-install" },
    ],
  });
}

function failedChecks(response: InstallProofResponse): string[][] {
  return response.records.map((r) => r.verification.checks.filter((c) => !c.ok).map((c) => c.name));
}

describe("proveInstalls (against Azurite)", () => {
  let clients: StorageClients;
  let deps: EvidenceDeps;
  const tenant = uniqueTenant("audit");
  const otherTenant = uniqueTenant("other");
  let jan20: RunRef;
  let jan20Seal: SealResult;
  let jan13: RunRef;

  beforeAll(async () => {
    clients = await testStorage();
    deps = createEvidenceDeps(testConfig(), clients);
    jan20 = { tenant, client: "acme", device: DEVICE, runId: uniqueRunId("jan20") };
    jan20Seal = (await writeSampleRun(deps, jan20)).seal;
    // A week earlier the cumulative update failed and another one went in.
    jan13 = { tenant, client: "acme", device: DEVICE, runId: uniqueRunId("jan13") };
    await writeRunOn(deps, jan13, "2026-01-13", [
      { kb: KB, result: "Failed" },
      { kb: "KB5011111", result: "Succeeded" },
    ]);
    // Another tenant: the same device name, and a device only it has.
    await writeSampleRun(deps, { tenant: otherTenant, client: "beta", device: DEVICE, runId: uniqueRunId("other") });
    await writeSampleRun(deps, {
      tenant: otherTenant,
      client: "beta",
      device: "WIN-OTHER01",
      runId: uniqueRunId("other"),
    });
  });

  const prove = (query: InstallsQuery, t = tenant, device = DEVICE): Promise<InstallProofResponse> =>
    proveInstalls(deps, t, device, query, NOW);

  it(`proves ${KB} was installed on ${DEVICE} on 2026-01-20 with one verified record`, async () => {
    const queriesBefore = deps.index.stats.queries;
    const readsBefore = deps.store.stats.blobReads;

    const response = await prove({ kb: KB, on: "2026-01-20" });
    const queries = deps.index.stats.queries - queriesBefore;
    const blobReads = deps.store.stats.blobReads - readsBefore;

    expect(InstallProofResponseSchema.parse(response)).toEqual(response);
    expect(response).toMatchObject({
      tenant,
      device: DEVICE,
      count: 1,
      generatedAt: NOW.toISOString(),
      query: { kb: KB, on: "2026-01-20" },
    });
    const [record] = response.records;
    if (record === undefined) throw new Error("no record");
    expect(record).toMatchObject({
      runId: jan20.runId,
      client: "acme",
      updateId: KB_UPDATE_ID,
      kb: KB,
      installed: true,
      result: "Succeeded",
      finishedAt: "2026-01-20T02:20:00.000Z",
    });
    expect(record.verification).toEqual({
      ok: true,
      checkedAt: NOW.toISOString(),
      checks: ALL_CHECKS.map((name) => ({ name, ok: true })),
    });

    // The evidence: the stored summary, its hash, and the hash of the cited line.
    const summary = jan20Seal.stored.find((a) => a.path === ARTIFACTS.installSummary.path);
    const bytes = await deps.store.get(jan20, ARTIFACTS.installSummary.path);
    const firstLine = bytes?.toString("utf8").split("\n")[0] ?? "";
    expect(record.evidence).toEqual({
      artifactPath: ARTIFACTS.installSummary.path,
      sha256: summary?.sha256,
      size: summary?.size,
      line: 1,
      lineSha256: sha256Hex(firstLine),
      href: `/api/v1/tenants/${tenant}/runs/${jan20.runId}/artifacts/05-install/install-summary.jsonl`,
    });
    expect(JSON.parse(firstLine)).toMatchObject({ kb: KB, installed: true });

    // The seal, and the inclusion proof checked independently of PatchPilot's own verification.
    const { manifest, manifestSha256 } = jan20Seal;
    expect(record.manifest).toEqual({
      path: ARTIFACTS.manifest.path,
      sha256: manifestSha256,
      sealedAt: manifest.sealedAt,
    });
    expect(record.eventsChainHead).toBe(manifest.events.chainHead);
    const merkle = record.merkle;
    if (merkle === undefined) throw new Error("no proof");
    expect(merkle.root).toBe(manifest.merkle.root);
    expect(merkle.treeSize).toBe(manifest.merkle.leafCount);
    expect(merkle.leafHash).toBe(
      hashLeaf(merkleLeafData({ path: ARTIFACTS.installSummary.path, sha256: record.evidence.sha256 })).toString("hex"),
    );
    expect(verifyHexProof(merkle.leafHash, merkle)).toBe(true);
    expect(verifyHexProof(merkle.leafHash, { ...merkle, leafIndex: (merkle.leafIndex + 1) % merkle.treeSize })).toBe(
      false,
    );

    // One Installs query, three Artifacts point reads, four blob reads: nothing more.
    expect(queries).toBe(1 + 3);
    expect(blobReads).toBe(4);
  });

  it("finds nothing on a day the update was not installed", async () => {
    const response = await prove({ kb: KB, on: "2026-01-21" });
    expect(response).toMatchObject({ count: 0, records: [] });
  });

  it("answers a from/to window with every attempt in it, oldest first", async () => {
    const response = await prove({ kb: KB, from: "2026-01-01", to: "2026-01-31" });
    expect(response.records.map((r) => [r.runId, r.result, r.verification.ok])).toEqual([
      [jan13.runId, "Failed", true],
      [jan20.runId, "Succeeded", true],
    ]);
    // A day as `to` includes that day; timestamps are exact instants, `to` exclusive.
    expect((await prove({ kb: KB, from: "2026-01-14", to: "2026-01-20" })).records.map((r) => r.runId)).toEqual([
      jan20.runId,
    ]);
    expect((await prove({ kb: KB, from: "2026-01-20T02:20:00Z", to: "2026-01-20T02:20:00.001Z" })).count).toBe(1);
    expect((await prove({ kb: KB, from: "2026-01-20T02:20:00.001Z", to: "2026-01-20T03:00:00Z" })).count).toBe(0);
    // An offset timestamp names the same instants.
    expect((await prove({ kb: KB, from: "2026-01-20T03:00:00+01:00", to: "2026-01-20T03:21:00+01:00" })).count).toBe(1);
  });

  it("without kb returns every update of the device in the window, each proven", async () => {
    const day = await prove({ on: "2026-01-20" });
    expect(day.records.map((r) => r.kb)).toEqual(["KB5012345", "KB5012346", "KB890830"]);
    expect(day.records.every((r) => r.verification.ok && r.evidence.line >= 1)).toBe(true);
    expect(day.records.map((r) => r.evidence.line)).toEqual([1, 2, 3]);

    const month = await prove({ from: "2026-01-01", to: "2026-01-31" });
    expect(month.count).toBe(5);
    expect(new Set(month.records.map((r) => r.runId))).toEqual(new Set([jan13.runId, jan20.runId]));

    const allTime = await prove({});
    expect(allTime.count).toBe(5);
  });

  it("finds an update by its update id whether or not it is keyed by a KB", async () => {
    const response = await prove({ updateId: KB_UPDATE_ID, from: "2026-01-01", to: "2026-01-31" });
    expect(response.records.map((r) => r.runId)).toEqual([jan13.runId, jan20.runId]);
    expect(response.records.every((r) => r.verification.ok)).toBe(true);
  });

  it("never shows another tenant's device or runs", async () => {
    expect((await prove({ on: "2026-01-20" }, tenant, "WIN-OTHER01")).count).toBe(0);
    const theirs = await prove({ kb: KB, on: "2026-01-20" }, otherTenant);
    expect(theirs.records.map((r) => r.client)).toEqual(["beta"]);
    const ours = await prove({ kb: KB, on: "2026-01-20" });
    expect(ours.records.map((r) => r.client)).toEqual(["acme"]);
  });

  it("reports a replaced install summary as failed checks, naming each one", async () => {
    const run: RunRef = { tenant, client: "acme", device: DEVICE, runId: uniqueRunId("tamper") };
    await writeRunOn(deps, run, "2026-02-03", [{ kb: KB, result: "Failed" }]);
    // Write-once stops the app from replacing evidence; someone with the account key can still delete and re-upload.
    const blob = clients.evidence.getBlockBlobClient(artifactBlobName(run, ARTIFACTS.installSummary.path));
    const original = (await deps.store.get(run, ARTIFACTS.installSummary.path))?.toString("utf8") ?? "";
    const forged = JSON.parse(original.trim()) as InstallOutcome;
    await blob.delete();
    await blob.uploadData(canonicalJsonLinesBytes([{ ...forged, installed: true, result: "Succeeded" }]));

    const response = await prove({ kb: KB, on: "2026-02-03" });

    expect(response.count).toBe(1);
    expect(response.records[0]?.verification.ok).toBe(false);
    expect(failedChecks(response)).toEqual([["summary.sha256", "summary.line", "merkle.inclusion"]]);
    const details = response.records[0]?.verification.checks
      .filter((c) => !c.ok)
      .map((c) => c.detail)
      .join("\n");
    expect(details).toMatch(/Installs row says [0-9a-f]{64}/);
    expect(details).toMatch(/result: the line says "Succeeded", the row says "Failed"/);
    // The record still says what the index recorded, and the proof is still of the sealed leaf.
    expect(response.records[0]).toMatchObject({ installed: false, result: "Failed" });
    expect(verifyHexProof(response.records[0]?.merkle?.leafHash ?? "", response.records[0]?.merkle as never)).toBe(
      true,
    );
  });

  it("reports missing seal evidence as failed checks instead of throwing", async () => {
    const run: RunRef = { tenant, client: "acme", device: DEVICE, runId: uniqueRunId("noevents") };
    await writeRunOn(deps, run, "2026-02-04", [{ kb: KB, result: "Succeeded" }]);
    await clients.evidence.getBlobClient(artifactBlobName(run, ARTIFACTS.events.path)).delete();
    await clients.evidence.getBlobClient(artifactBlobName(run, ARTIFACTS.manifest.path)).delete();

    const response = await prove({ kb: KB, on: "2026-02-04" });

    expect(failedChecks(response)).toEqual([
      ["merkle.inclusion", "artifactIndex.sha256", "merkle.root", "manifest.sha256", "manifest.run", "events.chain"],
    ]);
    expect(response.records[0]?.merkle).toBeUndefined();
    expect(response.records[0]?.manifest).toBeUndefined();
  });

  it("refuses rows that name another tenant or point at another tenant's run, without reading or naming them", async () => {
    const theirs: RunRef = { tenant: otherTenant, client: "beta", device: DEVICE, runId: uniqueRunId("theirs") };
    const theirSeal = await writeRunOn(deps, theirs, "2026-02-05", [{ kb: KB, result: "Succeeded" }]);
    const summary = theirSeal.stored.find((a) => a.path === ARTIFACTS.installSummary.path);
    const row = (runId: string, rowTenant: string, client: string) => ({
      partitionKey: installsPartition(tenant, DEVICE),
      rowKey: installsRowKey(KB, runId),
      tenant: rowTenant,
      client,
      device: DEVICE,
      runId,
      updateId: KB_UPDATE_ID,
      kb: KB,
      title: "forged",
      installed: true,
      result: "Succeeded",
      finishedAt: "2026-02-05T02:20:00.000Z",
      artifactPath: ARTIFACTS.installSummary.path,
      artifactSha256: summary?.sha256 ?? "",
      line: 1,
    });
    // A row filed under our device that says it is another tenant's, and one that borrows their run id.
    await clients.tables.installs.createEntity(row(uniqueRunId("misfiled"), otherTenant, "beta"));
    await clients.tables.installs.createEntity(row(theirs.runId, tenant, "beta"));
    const readsBefore = deps.store.stats.blobReads;

    const response = await prove({ kb: KB, on: "2026-02-05" });

    expect(response.count).toBe(2);
    expect(failedChecks(response)).toEqual([["scope"], ["scope"]]);
    expect(response.records.every((r) => r.merkle === undefined && r.evidence.size === undefined)).toBe(true);
    // Only the borrowed run id was read, and only under our own tenant's prefix (where nothing exists).
    expect(deps.store.stats.blobReads - readsBefore).toBe(4);
    expect(JSON.stringify(response)).not.toContain(`${otherTenant}/`);
  });

  it("reports an index row that fails its schema instead of throwing", async () => {
    await clients.tables.installs.createEntity({
      partitionKey: installsPartition(tenant, DEVICE),
      rowKey: installsRowKey("KB5099999", uniqueRunId("broken")),
      tenant,
      finishedAt: "2026-02-06T02:20:00.000Z",
    });
    const response = await prove({ kb: "KB5099999", on: "2026-02-06" });
    expect(response.count).toBe(0);
    expect(response.unreadableRows).toHaveLength(1);
  });

  it("rethrows storage errors other than a missing blob", async () => {
    const failing = new EvidenceStore(clients.evidence);
    failing.readBlob = () => Promise.reject(new RestError("server busy", { statusCode: 503 }));
    const broken: EvidenceDeps = { store: failing, index: deps.index };
    await expect(proveInstalls(broken, tenant, DEVICE, { kb: KB, on: "2026-01-20" }, NOW)).rejects.toMatchObject({
      statusCode: 503,
    });
  });

  it("refuses invalid arguments as a 400 problem naming the field", async () => {
    const attempt = proveInstalls(deps, "Not A Tenant", DEVICE, { kb: KB }, NOW);
    await expect(attempt).rejects.toBeInstanceOf(ApiProblem);
    await expect(attempt).rejects.toMatchObject({ status: 400, errors: [{ field: "path.tenant" }] });
    await expect(prove({ on: "2026-01-20", from: "2026-01-01" })).rejects.toMatchObject({
      status: 400,
      errors: [{ field: "query.from" }],
    });
  });
});
