import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { runDemo } from "../../local/cli";
import { testConfig } from "../harness/storage";

const ROOT = path.resolve(__dirname, "../..");

describe("the demo (npm start)", () => {
  beforeAll(() => {
    execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "pipe" });
  }, 180_000);

  it("runs end to end: prints the exit code and a clean verification", () => {
    const result = spawnSync(process.execPath, ["dist/local/cli.js", "demo"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
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
      env: { ...process.env, AzureWebJobsStorage: cs, PATCHPILOT_EVIDENCE_CONNECTION_STRING: cs, PATCHPILOT_ALLOW_INSECURE_STORAGE: "true" },
    });
    expect(verify.stdout).toContain(`run contoso-msp/acme/WIN-SERVER01/${outcome.run.runId}: VERIFIED`);
    expect(verify.status).toBe(0);

    const unknown = spawnSync(process.execPath, ["dist/local/cli.js", "verify", "--run", "no-such-run-0000"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, AzureWebJobsStorage: cs, PATCHPILOT_EVIDENCE_CONNECTION_STRING: cs, PATCHPILOT_ALLOW_INSECURE_STORAGE: "true" },
    });
    expect(unknown.status).toBe(1);
  }, 120_000);
});
