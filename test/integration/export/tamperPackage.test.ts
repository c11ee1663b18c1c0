import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeBuildEvidenceExport } from "../../../functions/activities/buildEvidenceExport";
import { ExportStore } from "../../../lib/export/exportStore";
import type { PackageManifest } from "../../../lib/export/packageLayout";
import { verifyPackage, type PackageVerification } from "../../../lib/export/verifyPackage";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { runWindows, type DeviceSummary } from "../../../local/run/runWindows";
import { PackageForger } from "../../harness/forgePackage";

// Tampering as an auditor found it (issue 19): each forged package recomputes every hash, index row and sum it can,
// and the verifier must refuse it, naming the first offending file.
const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const T0 = new Date("2026-01-20T01:00:00.000Z");
const EXPORTED_AT = "2026-04-01T08:00:00.000Z";
const A = "contoso-msp";

let stack: LocalStack;
let devices: DeviceSummary[];
let zip: string;
const dir = mkdtempSync(path.join(os.tmpdir(), "pp-tamper-it-"));
let n = 0;

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", startTime: T0 });
  devices = (await runWindows(stack, undefined, { verify: false })).devices;
  const exportId = "x20260401-tamper01";
  await new ExportStore(stack.deps.storage.tables.exports).create(
    A,
    exportId,
    { from: "2026-01-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" },
    "key-auditor-1",
    new Date(EXPORTED_AT),
  );
  const summary = await makeBuildEvidenceExport(stack.deps)({ tenant: A, exportId, now: EXPORTED_AT });
  zip = path.join(dir, "package.zip");
  await stack.deps.storage.exports.getBlockBlobClient(summary.blobName).downloadToFile(zip);
}, 300_000);
afterAll(async () => {
  await stack?.stop();
});

async function forged(edit: (f: PackageForger) => void): Promise<PackageVerification> {
  const forger = await PackageForger.open(zip);
  edit(forger);
  const out = path.join(dir, `forged-${(n += 1)}.zip`);
  await forger.write(out);
  return verifyPackage(out);
}

/** The run with a failed install (210) the auditor turned into a success; another failure code if the demo has none. */
function failedRun(f: PackageForger): PackageManifest["runs"][number] {
  const runs = f.json<PackageManifest>("export.json").runs;
  const run = runs.find((r) => r.exitCode === 210) ?? runs.find((r) => r.exitCode !== undefined && r.exitCode !== 0);
  if (run === undefined) throw new Error("the demo has no failed run");
  return run;
}

function setExitCode(value: Record<string, unknown>, field: "exitCode", name: string, nameField: string): unknown {
  return { ...value, [field]: 0, [nameField]: name };
}

describe("a forged package fails verification, naming the first offending item", () => {
  it("the untouched package verifies, and the demo has a failed run to forge", async () => {
    const result = await verifyPackage(zip);
    expect(result.problems).toEqual([]);
    expect(devices.some((d) => d.tenant === A && d.exitCode !== null && d.exitCode !== 0)).toBe(true);
  });

  it("exit code changed to 0 in exit-code.json, final-report.json and export.json (index and sums rewritten)", async () => {
    let folder = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      folder = run.folder;
      const exitPath = `${folder}11-report/exit-code.json`;
      f.setCanonical(exitPath, setExitCode(f.json(exitPath), "exitCode", "Success", "name"));
      const reportPath = `${folder}11-report/final-report.json`;
      f.setCanonical(reportPath, setExitCode(f.json(reportPath), "exitCode", "Success", "exitCodeName"));
      const manifest = f.json<PackageManifest>("export.json");
      for (const r of manifest.runs)
        if (r.folder === folder) Object.assign(r, { exitCode: 0, exitCodeName: "Success" });
      f.setJson("export.json", manifest);
      f.reindex(folder);
    });
    expect(result.ok).toBe(false);
    // export.json is the first file of the zip that disagrees with the run's receipt.
    expect(result.problems[0]).toMatchObject({ path: "export.json", problem: expect.stringMatching(/exit code 0/) });
    expect(result.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([`${folder}11-report/exit-code.json`, `${folder}11-report/final-report.json`]),
    );
  });

  it("exit code changed in exit-code.json alone (index and sums rewritten): names exit-code.json", async () => {
    let target = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      target = `${run.folder}11-report/exit-code.json`;
      f.setCanonical(target, setExitCode(f.json(target), "exitCode", "Success", "name"));
      f.reindex(run.folder);
    });
    expect(result.problems[0]).toMatchObject({ path: target, problem: expect.stringMatching(/receipt commits to/) });
  });

  it("export.json's exit code disagrees with exit-code.json: names export.json", async () => {
    const result = await forged((f) => {
      const manifest = f.json<PackageManifest>("export.json");
      const run = failedRun(f);
      for (const r of manifest.runs) if (r.folder === run.folder) r.exitCode = 0;
      f.setJson("export.json", manifest);
    });
    expect(result.problems[0]).toMatchObject({ path: "export.json", problem: expect.stringMatching(/receipt/) });
  });

  it("an edited report.html (index and sums rewritten): names report.html", async () => {
    let target = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      target = `${run.folder}11-report/report.html`;
      f.set(target, f.text(target).replace("<body", "<body data-edited"));
      f.reindex(run.folder);
    });
    expect(result.problems[0]).toMatchObject({ path: target, problem: expect.stringMatching(/receipt commits to/) });
  });

  it("installs.jsonl edited (a failed install shown as installed) with SHA256SUMS rewritten: names installs.jsonl", async () => {
    const result = await forged((f) => {
      const lines = f.text("installs.jsonl").split("\n");
      const i = lines.findIndex((l) => l.includes('"installed":false'));
      const j = i >= 0 ? i : 0;
      lines[j] = (lines[j] as string).includes('"installed":false')
        ? (lines[j] as string).replace('"installed":false', '"installed":true')
        : (lines[j] as string).replace('"installed":true', '"installed":false');
      f.set("installs.jsonl", lines.join("\n"));
    });
    expect(result.problems[0]).toMatchObject({
      path: "installs.jsonl",
      problem: expect.stringMatching(/not an outcome of run .*sealed install-summary/),
    });
  });

  it("a receipt removed with its index row and sums rewritten: names the missing receipt", async () => {
    let target = "";
    const result = await forged((f) => {
      const run = failedRun(f);
      target = `${run.folder}11-report/receipt.json`;
      f.remove(target).reindex(run.folder);
    });
    expect(result.problems[0]).toMatchObject({ path: target, problem: expect.stringMatching(/not committed/) });
  });
});
