import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { openEvidenceSession } from "../../../lib/evidence/evidenceSession";
import { ARTIFACT_INDEX_LIST_PATH } from "../../../lib/evidence/seal";
import { verifyRun } from "../../../lib/evidence/verifyRun";
import type { Manifest } from "../../../lib/schemas/artifacts/integrity";
import type { RunRef } from "../../../lib/schemas/common";
import { writeSampleRun } from "../../../local/demo/sampleRun";
import { AzuriteEvidence } from "../../harness/azuriteEvidence";
import { uniqueRunId } from "../../harness/storage";
import { describeWithTool, pwshCommand } from "../../harness/tools";

const ROOT = path.resolve(__dirname, "../../..");
const SNIPPETS = path.join(ROOT, "test/fixtures/seed");

/** Where the seed's engine kept each file (relative to its Output folder) and which run artifact answers it. */
const SEED_LAYOUT: readonly [string, string][] = [
  ["manifest.json", ARTIFACTS.manifest.path],
  ["artifact-index.json", ARTIFACT_INDEX_LIST_PATH],
  ["Logs/install-summary.jsonl", ARTIFACTS.installSummary.path],
];

/** Runs one snippet, unchanged, with the seed's `C:` drive mapped onto `drive` and `cwd` as the current folder. */
function runSnippet(file: string, drive: string, cwd: string): Promise<string> {
  const [command, ...leading] = pwshCommand() ?? ["pwsh"];
  const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  const script =
    `$null = New-PSDrive -Name C -PSProvider FileSystem -Root ${quote(drive)} -Scope Global; ` +
    `Set-Location ${quote(cwd)}; . ${quote(path.join(SNIPPETS, file))}`;
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...leading, "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", script],
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, TZ: "UTC" } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${file}: ${error.message}\n${stderr}`));
        else if (stderr.trim() !== "") reject(new Error(`${file} wrote errors:\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

describeWithTool(["pwsh"], "the seed's own PowerShell snippets against a sealed run (PowerShell 7.6)", () => {
  let run: RunRef;
  let drive: string;
  let output: string;
  let manifest: Manifest;
  let installSummarySha: string;

  beforeAll(async () => {
    const memory = await AzuriteEvidence.connect();
    run = { tenant: "contoso-msp", client: "acme", device: "ACME-SERVER01", runId: uniqueRunId("r20260120") };
    await writeSampleRun(memory.deps(), run, { regression: true });
    memory.track(run);
    const report = await verifyRun(memory.deps(), run);
    expect(report.seal.problems).toEqual([]);
    expect(report.ok).toBe(true);

    // Lay the run's verified bytes out where the seed's engine kept them: C:\PatchPilot\Output and C:\Demo\Output.
    drive = mkdtempSync(path.join(os.tmpdir(), "pp-seed-"));
    output = path.join(drive, "PatchPilot", "Output");
    const session = openEvidenceSession(memory.deps(), run);
    const put = async (seedPath: string, artifactPath: string): Promise<Buffer> => {
      const read = await session.readBytes(artifactPath);
      if (read.bytes === undefined) throw new Error(`${artifactPath}: ${read.read.status}`);
      const target = path.join(output, seedPath);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, read.bytes);
      return read.bytes;
    };
    for (const [seedPath, artifactPath] of SEED_LAYOUT) await put(seedPath, artifactPath);
    await put(`Reports/${run.runId}/regressions.json`, ARTIFACTS.regressions.path);
    cpSync(output, path.join(drive, "Demo", "Output"), { recursive: true });
    manifest = JSON.parse(readFileSync(path.join(output, "manifest.json"), "utf8")) as Manifest;
    installSummarySha = createHash("sha256")
      .update(readFileSync(path.join(output, "Logs/install-summary.jsonl")))
      .digest("hex");
  }, 120_000);

  it("Check 3 prints the run's Merkle root and event chain head", async () => {
    const out = await runSnippet("check3-integrity.ps1", drive, output);
    expect(out).toContain(`Merkle Root: ${manifest.merkle.root}`);
    expect(out).toContain(`Events Chain Head: ${manifest.events.chainHead}`);
  }, 120_000);

  it("Check 3 prints nothing useful against a manifest without the seed's names (what it did before)", async () => {
    const old = mkdtempSync(path.join(os.tmpdir(), "pp-seed-old-"));
    const { merkleRoot: _r, eventsChainHead: _h, timestamp: _t, artifactIndexListSha256: _l, ...older } = manifest;
    writeFileSync(path.join(old, "manifest.json"), JSON.stringify(older));
    const out = await runSnippet("check3-integrity.ps1", drive, old);
    expect(out).toMatch(/^Merkle Root: *$/m);
  }, 120_000);

  it("the audit workflow proves KB5012345 with the install summary's SHA-256 and the seal time", async () => {
    const out = await runSnippet("audit-workflow.ps1", drive, output);
    const evidence = JSON.parse(out) as { kb: string; installed: boolean; timestamp: string; sha256: string };
    expect(evidence.kb).toBe("KB5012345");
    expect(evidence.installed).toBe(true);
    expect(evidence.sha256).toBe(installSummarySha);
    expect(Date.parse(evidence.timestamp)).toBe(Date.parse(manifest.sealedAt));
  }, 120_000);

  it("Check 2 counts the regressions, and the demo lists them by application", async () => {
    expect((await runSnippet("check2-regressions.ps1", drive, output)).trim()).toBe("1");
    const demo = await runSnippet("demo-regressions.ps1", drive, output);
    expect(demo).toContain("App: WebApp");
    expect(demo).toMatch(/HealthEndpoint\s+True\s+False\s+HTTP 500/);
  }, 120_000);
});
