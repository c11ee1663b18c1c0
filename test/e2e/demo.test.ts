import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runDemo } from "../../local/cli";
import { EXPECTED_DEMO_EXIT_CODES } from "../harness/demoExpectations";
import { testConfig } from "../harness/storage";

const ROOT = path.resolve(__dirname, "../..");

describe("the demo (npm start)", () => {
  beforeAll(() => {
    execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "pipe" });
  }, 180_000);

  it("runs a maintenance window per tenant window over the demo fleet on the local host: every device's exit code, every run verified", () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), "pp-e2e-")), "summary.json");
    const result = spawnSync(process.execPath, ["dist/local/cli.js", "demo", "--no-serve", "--json", out], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 150_000,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("clock: VIRTUAL");
    const devices = JSON.parse(readFileSync(out, "utf8")) as {
      device: string;
      exitCode: number | null;
      verified: boolean | null;
      merkleRoot: string | null;
      runId: string;
    }[];
    expect(Object.fromEntries(devices.map((d) => [d.device, d.exitCode]))).toEqual(EXPECTED_DEMO_EXIT_CODES);
    for (const d of devices) {
      expect({ device: d.device, verified: d.verified }).toEqual({ device: d.device, verified: true });
      expect(d.merkleRoot).toMatch(/^[0-9a-f]{64}$/);
      expect(d.runId).toMatch(/^r\d{8}-[0-9a-f-]{36}$/);
    }
    // The table names every device with its code and the evidence folder.
    expect(result.stdout).toMatch(/WIN-SERVER01\s+0 Success/);
    expect(result.stdout).toMatch(/FAB-SQL01\s+220 ValidationFailure/);
  }, 180_000);

  it("runs the hand-built sample device run: prints the exit code and a clean verification", () => {
    const result = spawnSync(process.execPath, ["dist/local/cli.js", "sample"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/exit code 0 Success/);
    expect(result.stdout).toMatch(/: VERIFIED/);
    expect(result.stdout).toMatch(/seal: ok/);
  }, 180_000);

  it("ends in 220 for the regression scenario, and `patchpilot verify --run` re-verifies it from the index", async () => {
    const config = testConfig();
    const lines: string[] = [];
    const outcome = await runDemo(config, "regression", (l) => lines.push(l));
    expect(outcome.exitCode).toBe(220);
    expect(outcome.verified).toBe(true);

    const cs = (config.evidence.account as { connectionString: string }).connectionString;
    const verify = spawnSync(process.execPath, ["dist/local/cli.js", "verify", "--run", outcome.run.runId], {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        ...process.env,
        AzureWebJobsStorage: cs,
        PATCHPILOT_EVIDENCE_CONNECTION_STRING: cs,
        PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
      },
    });
    expect(verify.stdout).toContain(`run contoso-msp/acme/WIN-SERVER01/${outcome.run.runId}: VERIFIED`);
    expect(verify.status).toBe(0);

    const unknown = spawnSync(process.execPath, ["dist/local/cli.js", "verify", "--run", "no-such-run-0000"], {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        ...process.env,
        AzureWebJobsStorage: cs,
        PATCHPILOT_EVIDENCE_CONNECTION_STRING: cs,
        PATCHPILOT_ALLOW_INSECURE_STORAGE: "true",
      },
    });
    expect(unknown.status).toBe(1);
  }, 120_000);
});
