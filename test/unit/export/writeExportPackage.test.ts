import { mkdtempSync, createWriteStream } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import type { ExportSource } from "../../../lib/export/exportSource";
import { PACKAGE_FILES, runFolder } from "../../../lib/export/packageLayout";
import { verifyPackage } from "../../../lib/export/verifyPackage";
import { writeExportPackage, type ExportPackageInput } from "../../../lib/export/writeExportPackage";
import type { RunRef } from "../../../lib/schemas/common";
import { writeSampleRun } from "../../../local/demo/sampleRun";
import { AzuriteEvidence } from "../../harness/azuriteEvidence";
import { uniqueRunId } from "../../harness/storage";
import { readZip } from "../../harness/zipFiles";

// A fresh run per test: the tests damage their run's evidence, and every test file shares one Azurite.
let RUN: RunRef;
const dir = mkdtempSync(path.join(os.tmpdir(), "pp-export-writer-"));

async function evidence(): Promise<AzuriteEvidence> {
  RUN = { tenant: "contoso-msp", client: "acme", device: "WIN-SERVER01", runId: uniqueRunId("r20260120") };
  const memory = await AzuriteEvidence.connect();
  await writeSampleRun(memory.deps(), RUN);
  memory.track(RUN);
  return memory;
}

async function input(memory: AzuriteEvidence): Promise<ExportPackageInput> {
  return {
    exportId: "x20260401-00000001",
    tenant: RUN.tenant,
    request: { from: "2026-01-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" },
    createdAt: "2026-04-01T08:00:00.000Z",
    runs: await memory.inScope(),
  };
}

const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

describe("writeExportPackage when storage misbehaves", () => {
  it("fails (and destroys the output, so no upload commits) when a download fails", async () => {
    const memory = await evidence();
    const source: ExportSource = {
      ...memory.source(),
      openArtifact: (session, name, signal) =>
        name.endsWith("catalog.json")
          ? Promise.reject(new Error("503 Server Busy"))
          : memory.source().openArtifact(session, name, signal),
    };
    const out = new PassThrough();
    out.resume();
    await expect(writeExportPackage(source, await input(memory), out)).rejects.toThrow("503 Server Busy");
    expect(out.destroyed).toBe(true);
  });

  it("fails, naming the file, when a blob's stream breaks mid-body", async () => {
    const memory = await evidence();
    const source: ExportSource = {
      ...memory.source(),
      openArtifact: (session, name, signal) => {
        if (!name.endsWith("baseline.json")) return memory.source().openArtifact(session, name, signal);
        const broken = new Readable({ read() {} });
        broken.push(Buffer.from('{"partial":'));
        setImmediate(() => broken.destroy(new Error("connection reset")));
        return Promise.resolve(broken);
      },
    };
    const out = sink();
    await expect(writeExportPackage(source, await input(memory), out)).rejects.toThrow(
      /02-baseline\/baseline\.json: connection reset/,
    );
    expect(out.destroyed).toBe(true);
  });

  it("packages a run whose indexed blob is gone, and says so: the package then fails verification naming it", async () => {
    const memory = await evidence();
    await memory.deleteBlob(`${RUN.tenant}/${RUN.client}/${RUN.device}/${RUN.runId}/${ARTIFACTS.catalog.path}`);
    const zip = path.join(dir, "gone.zip");
    const result = await writeExportPackage(memory.source(), await input(memory), createWriteStream(zip));
    expect(result).toMatchObject({ verified: false, runsFailed: 1 });
    const report = JSON.parse(((await readZip(zip)).get(PACKAGE_FILES.verification) as Buffer).toString("utf8")) as {
      runs: { problems: unknown[] }[];
    };
    expect(report.runs[0]?.problems).toEqual([
      {
        path: ARTIFACTS.catalog.path,
        status: "missing",
        indexedSha256: expect.any(String),
        problem: "indexed but the blob is gone",
      },
    ]);
    const verified = await verifyPackage(zip);
    expect(verified.problems[0]).toEqual({
      path: `${runFolder(RUN)}${ARTIFACTS.catalog.path}`,
      problem: "is indexed in index.json but missing from the package",
    });
  });

  it("never packages (or names) a blob an index row points at outside the run, nor a path that leaves the run folder", async () => {
    const memory = await evidence();
    const foreign = `northwind-it/tailspin/TSP-APP01/${RUN.runId}-x/02-baseline/baseline.json`;
    await memory.putBlob(foreign, Buffer.from('{"secret":true}'));
    const row = (await memory.deps().index.readArtifacts(RUN.runId)).get(ARTIFACTS.baseline.path);
    if (row === undefined) throw new Error("no baseline row");
    const { partitionKey: _pk, rowKey: _rk, ...fields } = row;
    await memory.putArtifactRow(RUN.runId, { ...fields, blobName: foreign });
    await memory.putArtifactRow(RUN.runId, {
      ...fields,
      path: "../../escape.json",
      blobName: `${RUN.tenant}/${RUN.client}/${RUN.device}/${RUN.runId}/../../escape.json`,
    });
    const zip = path.join(dir, "outside.zip");
    const result = await writeExportPackage(memory.source(), await input(memory), createWriteStream(zip));
    expect(result.verified).toBe(false);
    const files = await readZip(zip);
    expect([...files.keys()].filter((f) => f.includes("..") || f.includes("escape"))).toEqual([]);
    for (const [name, bytes] of files)
      expect({ name, leak: /northwind|tailspin|TSP-APP01|secret/.test(bytes.toString("utf8")) }).toEqual({
        name,
        leak: false,
      });
    const report = JSON.parse((files.get(PACKAGE_FILES.verification) as Buffer).toString("utf8")) as {
      runs: { problems: { path: string; problem: string }[] }[];
    };
    expect(report.runs[0]?.problems.map((p) => [p.path, p.problem])).toEqual([
      ["../../escape.json", "artifact path is not a plain relative path; not packaged"],
      [ARTIFACTS.baseline.path, "indexed blob is outside this run's folder; not packaged"],
    ]);
  });

  it("lists runs that are not sealed as skipped instead of packaging incomplete evidence", async () => {
    const memory = await evidence();
    const runs = [
      ...(await memory.inScope()),
      {
        run: { ...RUN, device: "WIN-SERVER02", runId: "r20260120-0002" },
        status: "running" as const,
        startedAt: "2026-01-20T03:00:00.000Z",
      },
    ];
    const zip = path.join(dir, "skipped.zip");
    const result = await writeExportPackage(
      memory.source(),
      { ...(await input(memory)), runs },
      createWriteStream(zip),
    );
    expect(result.counts.runs).toBe(1);
    const manifest = JSON.parse(((await readZip(zip)).get(PACKAGE_FILES.manifest) as Buffer).toString("utf8")) as {
      skipped: { runId: string; reason: string }[];
    };
    expect(manifest.skipped).toEqual([
      expect.objectContaining({ runId: "r20260120-0002", reason: expect.stringMatching(/^not sealed/) }),
    ]);
    expect((await verifyPackage(zip)).ok).toBe(true);
  });
});
