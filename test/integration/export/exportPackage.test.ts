import { mkdtempSync, readFileSync } from "node:fs";
import { RestError } from "@azure/core-rest-pipeline";
import os from "node:os";
import path from "node:path";
import { makeBuildEvidenceExport } from "../../../functions/activities/buildEvidenceExport";
import { sha256Hex } from "../../../lib/evidence/sha256";
import { exportBlobName, exportDownloadUrl } from "../../../lib/export/exportLink";
import { ExportStore } from "../../../lib/export/exportStore";
import { listRunsInScope } from "../../../lib/export/listRunsInScope";
import { PACKAGE_FILES, PackageManifestSchema, type PackageManifest } from "../../../lib/export/packageLayout";
import { verifyPackage } from "../../../lib/export/verifyPackage";
import type { ExportRequest, ExportSummary } from "../../../lib/schemas/api/exports";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { runWindows, type DeviceSummary } from "../../../local/run/runWindows";
import { flipByte, readZip, rewriteZip } from "../../harness/zipFiles";

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const T0 = new Date("2026-01-20T01:00:00.000Z");
const EXPORTED_AT = "2026-04-01T08:00:00.000Z";
const QUARTER: ExportRequest = { from: "2026-01-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" };
const A = "contoso-msp";
const B = "northwind-it";

let stack: LocalStack;
let devices: DeviceSummary[];
const dir = mkdtempSync(path.join(os.tmpdir(), "pp-export-it-"));
let ids = 0;

/** Records the export, runs the build activity (as the orchestration would) and downloads the package. */
async function exportPackage(
  tenant: string,
  request: ExportRequest = QUARTER,
  exportId = `x20260401-${(ids += 1).toString(16).padStart(8, "0")}`,
): Promise<{ summary: ExportSummary; zip: string; exportId: string }> {
  const store = new ExportStore(stack.deps.storage.tables.exports);
  await store.create(tenant, exportId, request, "key-auditor-1", new Date(EXPORTED_AT));
  const summary = await makeBuildEvidenceExport(stack.deps)({ tenant, exportId, now: EXPORTED_AT });
  const zip = path.join(dir, `${exportId}-${ids}.zip`);
  await stack.deps.storage.exports.getBlockBlobClient(summary.blobName).downloadToFile(zip);
  return { summary, zip, exportId };
}

async function manifestOf(zip: string): Promise<PackageManifest> {
  return PackageManifestSchema.parse(
    JSON.parse(((await readZip(zip)).get(PACKAGE_FILES.manifest) as Buffer).toString("utf8")),
  );
}

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", startTime: T0 });
  devices = (await runWindows(stack, undefined, { verify: false })).devices;
}, 300_000);
afterAll(async () => {
  await stack?.stop();
});

describe("evidence export of the demo fleet (build activity, Azurite, offline verification)", () => {
  let first: { summary: ExportSummary; zip: string; exportId: string };
  beforeAll(async () => {
    first = await exportPackage(A);
  }, 120_000);

  it("packages every completed run of the tenant, verifies offline, and records hash, size and counts", async () => {
    const ran = devices.filter((d) => d.tenant === A && d.status === "completed");
    expect(ran.length).toBeGreaterThan(5);
    const result = await verifyPackage(first.zip);
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, runs: ran.length, tenant: A, exportId: first.exportId });
    expect(first.summary).toMatchObject({
      tenant: A,
      blobName: exportBlobName(A, first.exportId),
      verified: true,
      counts: { runs: ran.length },
    });
    expect(first.summary.counts.artifacts).toBe(result.artifacts);

    const bytes = readFileSync(first.zip);
    expect(first.summary).toMatchObject({ sha256: sha256Hex(bytes), size: bytes.length });
    const record = await new ExportStore(stack.deps.storage.tables.exports).get(A, first.exportId);
    expect(record).toMatchObject({
      status: "completed",
      sha256: first.summary.sha256,
      size: bytes.length,
      counts: first.summary.counts,
      createdBy: "key-auditor-1",
      startedAt: EXPORTED_AT,
    });

    // The anchor: every root in the package is the one the run reported when it ended.
    const roots = new Map(result.roots.map((r) => [r.folder, r.merkleRoot]));
    for (const d of ran) expect(roots.get(`runs/${d.client}/${d.device}/${d.runId}/`)).toBe(d.merkleRoot);

    const files = await readZip(first.zip);
    const report = JSON.parse((files.get(PACKAGE_FILES.verification) as Buffer).toString("utf8")) as {
      ok: boolean;
      counts: { runsVerified: number };
    };
    expect(report).toMatchObject({ ok: true, counts: { runsVerified: ran.length } });
    const csv = (files.get(PACKAGE_FILES.matrixCsv) as Buffer).toString("utf8");
    expect(csv).toMatch(/^NIST SP 800-53r5,SI-2,Flaw Remediation,/m);
    expect(csv).toMatch(/^CIS Controls v8,7\.3,/m);
    expect(
      (files.get(PACKAGE_FILES.installs) as Buffer)
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "").length,
    ).toBeGreaterThan(0);
  });

  it("fails verification when one byte of one artifact changes (its index kept), naming that artifact first", async () => {
    const manifest = await manifestOf(first.zip);
    const run = manifest.runs.find((r) => r.device === "WIN-SERVER01") ?? manifest.runs[0];
    const target = `${run?.folder}02-baseline/baseline.json`;
    const bad = path.join(dir, "flipped.zip");
    await rewriteZip(first.zip, bad, (p, bytes) => (p === target ? flipByte(bytes) : undefined));
    const result = await verifyPackage(bad);
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.path).toBe(target);
    expect(result.problems.every((p) => p.path === target)).toBe(true);
  });

  it("fails verification when one artifact is removed, naming it", async () => {
    const files = await readZip(first.zip);
    const target = [...files.keys()].find((p) => p.endsWith("/05-install/install-summary.jsonl")) as string;
    const bad = path.join(dir, "removed.zip");
    await rewriteZip(first.zip, bad, (p) => (p === target ? null : undefined));
    const result = await verifyPackage(bad);
    expect(result.problems[0]).toEqual({
      path: target,
      problem: "is indexed in index.json but missing from the package",
    });
  });

  it("keeps tenants apart: the package of one tenant names nothing of the other's", async () => {
    const other = devices.filter((d) => d.tenant === B);
    expect(other.length).toBeGreaterThan(0);
    const names = new Set([B, ...other.flatMap((d) => [d.client, d.device, d.runId])]);
    const mine = new Set(devices.filter((d) => d.tenant === A).flatMap((d) => [d.client, d.device]));
    for (const n of mine) names.delete(n);
    const files = await readZip(first.zip);
    for (const [file, bytes] of files) {
      const text = bytes.toString("utf8");
      for (const n of names) {
        expect({ file, leaks: file.includes(n) || text.includes(n) ? n : undefined }).toEqual({
          file,
          leaks: undefined,
        });
      }
    }
    const b = await exportPackage(B);
    expect((await verifyPackage(b.zip)).ok).toBe(true);
    expect((await manifestOf(b.zip)).runs.every((r) => other.some((d) => d.runId === r.runId))).toBe(true);
  }, 120_000);

  it("builds again on a retry (the activity called twice) into a package that verifies, byte for byte the same", async () => {
    const build = makeBuildEvidenceExport(stack.deps);
    const again = await build({ tenant: A, exportId: first.exportId, now: EXPORTED_AT });
    const zip = path.join(dir, "retried.zip");
    await stack.deps.storage.exports.getBlockBlobClient(again.blobName).downloadToFile(zip);
    expect((await verifyPackage(zip)).ok).toBe(true);
    expect(again).toEqual(first.summary);
    expect(readFileSync(zip).equals(readFileSync(first.zip))).toBe(true);
  }, 120_000);

  it("hands out a read-only download link (Azurite SAS) that serves the package", async () => {
    const link = await exportDownloadUrl(stack.deps.storage, stack.deps.config, first.summary.blobName, new Date());
    expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(
      stack.deps.config.api.exportLinkMinutes * 60_000,
    );
    const response = await fetch(link.href);
    expect(response.status).toBe(200);
    expect(sha256Hex(Buffer.from(await response.arrayBuffer()))).toBe(first.summary.sha256);
    const write = await fetch(link.href, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob" },
      body: "overwrite",
    });
    expect(write.status).toBe(403);
  });

  it("leaves no package behind when the build fails mid-stream (the upload is never committed)", async () => {
    const exportId = "x20260401-failing1";
    await new ExportStore(stack.deps.storage.tables.exports).create(
      A,
      exportId,
      QUARTER,
      "key-auditor-1",
      new Date(EXPORTED_AT),
    );
    let downloads = 0;
    const evidence = new Proxy(stack.deps.storage.evidence, {
      get(target, prop, receiver) {
        if (prop !== "getBlobClient") return Reflect.get(target, prop, receiver) as unknown;
        return (name: string) => {
          downloads += 1;
          if (downloads === 40)
            return { download: () => Promise.reject(new RestError("Server Busy", { statusCode: 503 })) };
          return target.getBlobClient(name);
        };
      },
    });
    const build = makeBuildEvidenceExport({ ...stack.deps, storage: { ...stack.deps.storage, evidence } });
    await expect(build({ tenant: A, exportId, now: EXPORTED_AT })).rejects.toThrow("Server Busy");
    expect(await stack.deps.storage.exports.getBlobClient(exportBlobName(A, exportId)).exists()).toBe(false);
    expect(await new ExportStore(stack.deps.storage.tables.exports).get(A, exportId)).toMatchObject({
      status: "running",
    });
  }, 120_000);

  it("narrows the scope by client, device and time, and packages an empty range as a verifiable empty package", async () => {
    const runs = stack.deps.storage.tables.runs;
    const all = await listRunsInScope(runs, A, QUARTER);
    expect(all.map((r) => r.run.runId).sort()).toEqual(
      devices
        .filter((d) => d.tenant === A && d.runId !== "")
        .map((d) => d.runId)
        .sort(),
    );
    const client = all[0]?.run.client as string;
    expect(
      (await listRunsInScope(runs, A, { ...QUARTER, clients: [client] })).every((r) => r.run.client === client),
    ).toBe(true);
    expect(
      (await listRunsInScope(runs, A, { ...QUARTER, devices: ["WIN-SERVER01"] })).map((r) => r.run.device),
    ).toEqual(["WIN-SERVER01"]);
    const started = Date.parse(all[0]?.startedAt as string);
    expect(
      await listRunsInScope(runs, A, { from: new Date(started + 1).toISOString(), to: QUARTER.to }),
    ).not.toContainEqual(all[0]);
    expect(
      await listRunsInScope(runs, A, { from: QUARTER.from, to: new Date(started).toISOString() }),
    ).not.toContainEqual(all[0]);

    const empty = await exportPackage(A, { from: "2025-01-01T00:00:00.000Z", to: "2025-02-01T00:00:00.000Z" });
    expect(empty.summary.counts).toEqual({ runs: 0, artifacts: 0, bytes: 0 });
    expect(await verifyPackage(empty.zip)).toMatchObject({ ok: true, runs: 0 });
  }, 120_000);
});
