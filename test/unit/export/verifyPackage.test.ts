import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { PACKAGE_FILES, runFolder } from "../../../lib/export/packageLayout";
import { formatPackageVerification, PackageUnreadableError, verifyPackage } from "../../../lib/export/verifyPackage";
import { writeExportPackage } from "../../../lib/export/writeExportPackage";
import type { RunRef } from "../../../lib/schemas/common";
import { runVerifyPackageCommand } from "../../../local/cli/verifyPackageCommand";
import { writeSampleRun } from "../../../local/demo/sampleRun";
import { AzuriteEvidence } from "../../harness/azuriteEvidence";
import { flipByte, readZip, rewriteZip, writeZip } from "../../harness/zipFiles";

const TENANT = "contoso-msp";
// Run ids of this process only: every test file shares one Azurite, and evidence is write-once.
const ID = `r20260120-p${process.pid}`;
const RUNS: RunRef[] = [
  { tenant: TENANT, client: "acme", device: "WIN-SERVER01", runId: `${ID}-0001` },
  { tenant: TENANT, client: "fabrikam", device: "fab-lnx01", runId: `${ID}-0002` },
];
const CATALOG = `runs/acme/WIN-SERVER01/${ID}-0001/${ARTIFACTS.catalog.path}`;
const EVENTS = `runs/acme/WIN-SERVER01/${ID}-0001/${ARTIFACTS.events.path}`;

const dir = mkdtempSync(path.join(os.tmpdir(), "pp-export-unit-"));
let good: string;
let n = 0;
const file = (name: string): string => path.join(dir, `${(n += 1)}-${name}.zip`);

beforeAll(async () => {
  const memory = await AzuriteEvidence.connect();
  for (const run of RUNS) {
    await writeSampleRun(memory.deps(), run, run.client === "acme" ? {} : { failedKb: "KB5012346" });
    memory.track(run);
  }
  good = file("good");
  const out = createWriteStream(good);
  const result = await writeExportPackage(
    memory.source(),
    {
      exportId: "x20260401-abcdef12",
      tenant: TENANT,
      request: { from: "2026-01-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" },
      createdAt: "2026-04-01T08:00:00.000Z",
      runs: await memory.inScope(),
    },
    out,
  );
  expect(result.counts.runs).toBe(2);
  expect(result.verified).toBe(true);
});

describe("verifyPackage on a package written from evidence in Azurite", () => {
  it("verifies the package as written, lists the layout and reports each run's Merkle root", async () => {
    const result = await verifyPackage(good);
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, runs: 2, exportId: "x20260401-abcdef12", tenant: TENANT });
    expect(result.roots.map((r) => r.folder)).toEqual(RUNS.map(runFolder));
    const files = [...(await readZip(good)).keys()];
    expect(files.slice(0, 4)).toEqual([
      PACKAGE_FILES.readme,
      PACKAGE_FILES.manifest,
      `${runFolder(RUNS[0] as RunRef)}index.json`,
      `${runFolder(RUNS[0] as RunRef)}proofs.json`,
    ]);
    expect(files.slice(-6)).toEqual([
      PACKAGE_FILES.installs,
      PACKAGE_FILES.verification,
      PACKAGE_FILES.matrixCsv,
      PACKAGE_FILES.matrixHtml,
      PACKAGE_FILES.oscal,
      PACKAGE_FILES.sums,
    ]);
    expect(files).toContain(CATALOG);
    expect(formatPackageVerification(result, "good.zip").split("\n")[0]).toMatch(
      /^VERIFIED good\.zip: export x20260401-abcdef12 of contoso-msp: 2 runs/,
    );
  });

  it("writes the same bytes again for the same evidence and time (a retried build is identical)", async () => {
    // The same runs written again: write-once storage takes identical bytes, so this is a retried build.
    const memory = await AzuriteEvidence.connect();
    for (const run of RUNS) {
      await writeSampleRun(memory.deps(), run, run.client === "acme" ? {} : { failedKb: "KB5012346" });
      memory.track(run);
    }
    const again = file("again");
    const out = createWriteStream(again);
    await writeExportPackage(
      memory.source(),
      {
        exportId: "x20260401-abcdef12",
        tenant: TENANT,
        request: { from: "2026-01-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" },
        createdAt: "2026-04-01T08:00:00.000Z",
        runs: await memory.inScope(),
      },
      out,
    );
    expect(readFileSync(again).equals(readFileSync(good))).toBe(true);
  });

  it("fails on one changed byte in an artifact, naming it on the first line (hash against SHA256SUMS and index.json, proof)", async () => {
    const bad = file("flipped");
    await rewriteZip(good, bad, (p, bytes) => (p === CATALOG ? flipByte(bytes) : undefined));
    const result = await verifyPackage(bad);
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.path).toBe(CATALOG);
    expect(result.problems.map((p) => p.problem)).toEqual([
      expect.stringMatching(/SHA256SUMS says/),
      expect.stringMatching(/index\.json says/),
      "inclusion proof does not verify against manifest.json's Merkle root",
    ]);
    expect(formatPackageVerification(result).split("\n")[0]).toBe(`FAILED ${CATALOG}: ${result.problems[0]?.problem}`);
  });

  it("fails when a byte of the zip file itself is damaged inside an artifact's data, naming the artifact", async () => {
    // The package deflates its files; a copy stores them as they are, so the damaged byte is known to be the artifact's.
    const bytes = (await readZip(good)).get(CATALOG) as Buffer;
    const stored = file("stored");
    await writeZip(stored, await readZip(good), { compress: false });
    const copy = readFileSync(stored);
    const offset = copy.indexOf(bytes.subarray(0, 64));
    const damaged = file("damaged");
    writeFileSync(damaged, flipByte(copy, offset + 10));
    const result = await verifyPackage(damaged);
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.path).toBe(CATALOG);
  });

  it("fails when an artifact is removed, naming it first", async () => {
    const bad = file("removed");
    await rewriteZip(good, bad, (p) => (p === CATALOG ? null : undefined));
    const result = await verifyPackage(bad);
    expect(result.problems[0]).toEqual({
      path: CATALOG,
      problem: "is indexed in index.json but missing from the package",
    });
    expect(result.problems).toContainEqual({
      path: CATALOG,
      problem: "listed in SHA256SUMS but missing from the package",
    });
  });

  it("fails when an artifact and its index row are removed and the sums rewritten: the Merkle root no longer holds", async () => {
    const bad = file("forged");
    const index = `${runFolder(RUNS[0] as RunRef)}index.json`;
    await rewriteZip(
      good,
      bad,
      (p, bytes) => {
        if (p === CATALOG) return null;
        if (p !== index) return undefined;
        const parsed = JSON.parse(bytes.toString("utf8")) as { rows: { path: string }[] };
        parsed.rows = parsed.rows.filter((r) => r.path !== ARTIFACTS.catalog.path);
        return Buffer.from(JSON.stringify(parsed));
      },
      { resum: true },
    );
    const result = await verifyPackage(bad);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({
      path: index,
      problem: expect.stringMatching(/^Merkle root of its leaf rows is [0-9a-f]{64}, manifest\.json says/),
    });
  });

  it("fails on a tampered inclusion proof even when SHA256SUMS is rewritten to match", async () => {
    const bad = file("proof");
    const proofs = `${runFolder(RUNS[0] as RunRef)}proofs.json`;
    await rewriteZip(
      good,
      bad,
      (p, bytes) => {
        if (p !== proofs) return undefined;
        const parsed = JSON.parse(bytes.toString("utf8")) as { proofs: { path: string; auditPath: string[] }[] };
        const target = parsed.proofs.find((x) => x.path === ARTIFACTS.catalog.path);
        if (target === undefined) throw new Error("no proof for the catalog");
        target.auditPath[0] = "0".repeat(64);
        return Buffer.from(JSON.stringify(parsed));
      },
      { resum: true },
    );
    const result = await verifyPackage(bad);
    expect(result.problems).toEqual([
      { path: CATALOG, problem: "inclusion proof does not verify against manifest.json's Merkle root" },
    ]);
  });

  it("fails on a broken event chain, naming events.jsonl", async () => {
    const bad = file("chain");
    await rewriteZip(good, bad, (p, bytes) => {
      if (p !== EVENTS) return undefined;
      const lines = bytes.toString("utf8").split("\n");
      lines[1] = (lines[1] ?? "").replace('"phase.completed"', '"phase.skipped"');
      return Buffer.from(lines.join("\n"));
    });
    const result = await verifyPackage(bad);
    expect(result.problems[0]?.path).toBe(EVENTS);
    expect(result.problems).toContainEqual({
      path: EVENTS,
      problem: expect.stringMatching(/^event chain: line 2: hash [0-9a-f]{64} does not match content/),
    });
  });

  it("fails on a file added to a run folder or outside any run", async () => {
    const bad = file("added");
    const extra = `${runFolder(RUNS[1] as RunRef)}05-install/extra.txt`;
    await rewriteZip(good, bad, () => undefined, {
      resum: true,
      add: [
        [extra, Buffer.from("planted")],
        ["runs/other/DEV/r20260120-9999/x.json", Buffer.from("{}")],
      ],
    });
    const result = await verifyPackage(bad);
    expect(result.problems).toEqual([
      { path: extra, problem: "is in the run folder but not in its index.json" },
      { path: "runs/other/DEV/r20260120-9999/x.json", problem: "is not in a run listed in export.json" },
    ]);
  });
});

describe("patchpilot verify --package", () => {
  it("exits 0 for a good package, 1 naming the artifact for a bad one, 2 for a file that is not a zip", async () => {
    const lines: string[] = [];
    expect(await runVerifyPackageCommand(good, (l) => lines.push(l))).toBe(0);
    expect(lines.join("\n")).toMatch(/^VERIFIED /);

    const bad = file("cli-bad");
    await rewriteZip(good, bad, (p, bytes) => (p === CATALOG ? flipByte(bytes) : undefined));
    const failed: string[] = [];
    expect(await runVerifyPackageCommand(bad, (l) => failed.push(l))).toBe(1);
    expect(failed.join("\n").split("\n")[0]).toMatch(new RegExp(`^FAILED ${CATALOG.replace(/[.]/g, "\\.")}: `));

    const notZip = path.join(dir, "not-a-zip.zip");
    writeFileSync(notZip, "hello");
    const unreadable: string[] = [];
    expect(await runVerifyPackageCommand(notZip, (l) => unreadable.push(l))).toBe(2);
    await expect(verifyPackage(notZip)).rejects.toBeInstanceOf(PackageUnreadableError);
    expect(await runVerifyPackageCommand(path.join(dir, "absent.zip"), () => undefined)).toBe(2);
  });
});
