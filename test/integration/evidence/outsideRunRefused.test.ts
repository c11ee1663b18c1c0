import { mkdtempSync, createWriteStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import os from "node:os";
import path from "node:path";
import { finished } from "node:stream/promises";
import type { AppDeps } from "../../../functions/definitions";
import type { ApiCall } from "../../../functions/http/api/apiRoute";
import { getArtifactRoute } from "../../../functions/http/api/routes/getArtifact";
import { describeRun } from "../../../functions/http/api/routes/runStatus";
import { proveInstalls } from "../../../lib/api/installs/proveInstalls";
import { ApiProblem } from "../../../lib/api/apiProblem";
import { readRunEventData } from "../../../lib/azure/events/readRunEventData";
import type { StorageClients } from "../../../lib/azure/storageClients";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { createEvidenceDeps } from "../../../lib/evidence/createEvidenceDeps";
import { openEvidenceSession, type EvidenceDeps } from "../../../lib/evidence/evidenceSession";
import { findTenantRun } from "../../../lib/evidence/findTenantRun";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import { evidenceExportSource } from "../../../lib/export/exportSource";
import { PACKAGE_FILES } from "../../../lib/export/packageLayout";
import { writeExportPackage } from "../../../lib/export/writeExportPackage";
import { ExitCodeRecordSchema } from "../../../lib/schemas/artifacts/outcome";
import type { RunRef } from "../../../lib/schemas/common";
import { createDashboardPage, localReportUrl } from "../../../local/run/dashboardPage";
import { plantOutsideRow, type OutsideRow } from "../../harness/outsideRunRow";
import { testConfig, testStorage } from "../../harness/storage";
import { readZip } from "../../harness/zipFiles";

// Every reader of evidence outside the device-run activities, each shown run A's forged row that points into tenant
// B's run folder with B's matching SHA-256 and size (test/harness/outsideRunRow.ts). Each must refuse or report it,
// and none may serve, cite or package B's bytes, nor name B.

const KB = "KB5012345";
const DAY = "2026-01-20";

/** A schema-valid exit-code.json of run B that says 0 (Success): run A must never report it as its own. */
function exitRecordOf(runB: RunRef): Buffer {
  const record = ExitCodeRecordSchema.parse({
    schemaVersion: 1,
    run: runB,
    exitCode: 0,
    name: "Success",
    rule: "0.success",
    reasons: ["tenant B's run succeeded"],
    decidedAt: `${DAY}T02:57:00.000Z`,
    artifactsRead: [],
  });
  return Buffer.from(JSON.stringify(record), "utf8");
}

/** A schema-valid install-summary.jsonl line of run B, with a title that would give B away if it leaked. */
function installSummaryOf(): Buffer {
  return Buffer.from(
    `${JSON.stringify({
      schemaVersion: 1,
      updateId: "b7f1c0de-0001-4a1e-9c1d-000000000001",
      kb: KB,
      title: "tenant-b-secret-title",
      installed: true,
      result: "Succeeded",
      rebootRequired: false,
      finishedAt: `${DAY}T02:20:00.000Z`,
    })}\n`,
    "utf8",
  );
}

const REPORT_HTML = Buffer.from("<!doctype html><title>tenant-b-secret-report</title><p>B</p>\n", "utf8");

/** Asserts nothing in `value` names tenant B or carries B's bytes. */
function expectNothingOfB(value: unknown, planted: OutsideRow): void {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  expect(text).not.toContain(planted.runB.tenant);
  expect(text).not.toContain(planted.runB.runId);
  expect(text).not.toContain("tenant-b-secret");
  expect(text).not.toContain("tenant B's run succeeded");
}

describe("a row of run A that points into tenant B's run folder (matching hash) is refused on every reader", () => {
  let storage: StorageClients;
  let deps: EvidenceDeps;
  let appDeps: AppDeps;

  beforeAll(async () => {
    const config = testConfig();
    storage = await testStorage(config);
    deps = createEvidenceDeps(config, storage);
    appDeps = { config, storage, evidence: deps, clock: () => new Date(`${DAY}T09:00:00.000Z`) } as unknown as AppDeps;
  });

  it("status route: reports 240 instead of B's exit code, and lists no row outside the run", async () => {
    const planted = await plantOutsideRow(storage, deps, { path: ARTIFACTS.exitCode.path, bytes: exitRecordOf });
    const found = await findTenantRun(storage.tables.runs, planted.runA.tenant, planted.runA.runId);
    if (found === undefined) throw new Error("run A not found");

    const status = await describeRun(
      deps,
      () => {
        throw new Error("a completed run needs no Durable status");
      },
      found,
    );

    expect(status).toMatchObject({ exitCode: 240, exitCodeName: "ReportingFailure" });
    expect(status.reasons?.join(" ")).toMatch(/outside this run's folder/);
    expect(status.evidence).toEqual([]);
    expectNothingOfB(status, planted);
  });

  it("artifact download: 404 as if there were no row, never B's bytes", async () => {
    const planted = await plantOutsideRow(storage, deps, { path: ARTIFACTS.reportHtml.path, bytes: REPORT_HTML });
    const call = {
      params: { tenant: planted.runA.tenant, runId: planted.runA.runId, path: planted.path },
      deps: appDeps,
    } as unknown as ApiCall<{ tenant: string; runId: string; path: string }, unknown, unknown>;

    const attempt = getArtifactRoute.handle(call);

    await expect(attempt).rejects.toBeInstanceOf(ApiProblem);
    await expect(attempt).rejects.toMatchObject({ status: 404 });
    const error = await attempt.catch((e: unknown) => e);
    expectNothingOfB({ message: (error as Error).message }, planted);
  });

  it("verify: fails the run, naming the refused path and not the blob it points at", async () => {
    const planted = await plantOutsideRow(storage, deps, { path: ARTIFACTS.exitCode.path, bytes: exitRecordOf });

    const report = await verifyRun(deps, planted.runA);

    expect(report.ok).toBe(false);
    expect(report.artifacts.find((a) => a.path === planted.path)).toMatchObject({
      status: "hash-mismatch",
      problem: "indexed blob is outside this run's folder; refused",
    });
    expectNothingOfB(report, planted);
  });

  it("install proof: the record fails its checks, and no line of B's summary is quoted", async () => {
    const planted = await plantOutsideRow(storage, deps, {
      path: ARTIFACTS.installSummary.path,
      bytes: installSummaryOf(),
    });
    await deps.index.indexInstalls(planted.runA, { path: planted.path, sha256: planted.foreignSha256 }, [
      {
        updateId: "b7f1c0de-0001-4a1e-9c1d-000000000001",
        kb: KB,
        title: "run A's record",
        installed: true,
        result: "Succeeded",
        finishedAt: `${DAY}T02:20:00.000Z`,
        line: 1,
      },
    ]);

    const answer = await proveInstalls(deps, planted.runA.tenant, planted.runA.device, { kb: KB, on: DAY }, new Date());

    expect(answer.count).toBe(1);
    const record = answer.records[0];
    expect(record?.verification.ok).toBe(false);
    const failed = record?.verification.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? ""}`);
    expect(failed?.join("\n")).toMatch(/outside/);
    expectNothingOfB(answer, planted);
  });

  it("export: the package holds nothing of B and its verification report names the refused path", async () => {
    const planted = await plantOutsideRow(storage, deps, { path: ARTIFACTS.reportHtml.path, bytes: REPORT_HTML });
    const zipPath = path.join(mkdtempSync(path.join(os.tmpdir(), "pp-outside-")), "export.zip");
    const out = createWriteStream(zipPath);

    const result = await writeExportPackage(
      evidenceExportSource(deps),
      {
        exportId: "x20260401-outside1",
        tenant: planted.runA.tenant,
        request: { from: `${DAY}T00:00:00.000Z`, to: "2026-02-01T00:00:00.000Z" },
        createdAt: "2026-04-01T08:00:00.000Z",
        runs: [{ run: planted.runA, status: "completed", startedAt: `${DAY}T02:00:00.000Z` }],
      },
      out,
    );
    await finished(out);

    expect(result.verified).toBe(false);
    const files = await readZip(zipPath);
    for (const [name, bytes] of files) expectNothingOfB({ name, text: bytes.toString("utf8") }, planted);
    expect([...files.keys()].filter((f) => f.endsWith(planted.path))).toEqual([]);
    const report = (files.get(PACKAGE_FILES.verification) as Buffer).toString("utf8");
    expect(report).toContain(planted.path);
    expect(report).toContain("outside this run's folder");
  });

  it("event builder: a run event says 240 and cites nothing of B", async () => {
    const planted = await plantOutsideRow(storage, deps, { path: ARTIFACTS.exitCode.path, bytes: exitRecordOf });

    const data = await readRunEventData(openEvidenceSession(deps, planted.runA), {
      facts: { trigger: { kind: "demo" }, dryRun: false },
      at: `${DAY}T03:00:00.000Z`,
    });

    expect(data).toMatchObject({ exitCode: 240, rule: "240.unfinished", run: planted.runA });
    expect(data.evidence.artifacts).toEqual([]);
    expectNothingOfB(data, planted);
  });

  it("dashboard page: report.html of run A is not found, B's report is never served", async () => {
    const planted = await plantOutsideRow(storage, deps, { path: ARTIFACTS.reportHtml.path, bytes: REPORT_HTML });
    const page = createDashboardPage({ deps: appDeps, logs: undefined as never, now: () => new Date() });
    const sent: { status?: number; body?: string } = {};
    const response = {
      writeHead(status: number) {
        sent.status = status;
        return this;
      },
      end(body?: string | Buffer) {
        sent.body = body === undefined ? "" : body.toString();
        return this;
      },
    } as unknown as ServerResponse;
    const url = new URL(`http://127.0.0.1${localReportUrl(planted.runA.tenant, planted.runA.runId)}`);

    await page.handle({ method: "GET" } as IncomingMessage, response, url);

    expect(sent.status).toBe(404);
    expectNothingOfB(sent.body, planted);
  });
});
