// Executes every Windows device script under PowerShell 7.6 with Pester (test/pester/*.Tests.ps1), Windows' own APIs
// faked where the scripts meet them, and checks the result here so it is part of `npm test`: every Pester test
// passed (each failure is reported by name), and every document a script printed parses with the collector's
// parser and schema (lib/device/parseScriptOutput.ts), the same code that reads Run Command output in Azure.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { parseScriptOutput } from "../../../lib/device/parseScriptOutput";
import { ScriptIdSchema, type ScriptId } from "../../../lib/schemas/device";
import { describeWithTool, pesterModulePath, pwshCommand } from "../../harness/tools";
import { makeTempDir } from "./linuxRunner";
import { buildFixtures, type PesterFixtures } from "./windowsFixtures";

const ROOT = path.resolve(__dirname, "../../..");
const RUNNER = path.join(ROOT, "test/pester/Invoke-PatchPilotPester.ps1");

interface PesterTest {
  file: string;
  path: string;
  result: string;
  error: string;
}
interface PesterSummary {
  pester: string;
  powershell: string;
  tests: PesterTest[];
  containers: { file: string; result: string; error: string }[];
}
interface CapturedRun {
  script: ScriptId;
  test: string;
  run: number;
  stdout: string;
}

/** Minimum Pester tests per suite: a suite that silently lost its cases fails here. */
const MIN_TESTS: Record<ScriptId, number> = {
  baseline: 14,
  catalog: 42,
  install: 43,
  reboot: 68,
  validate: 45,
  diagnostics: 65,
  gates: 6,
  hooks: 4,
  uninstall: 12,
};

/** An HTTP server for validate's http checks: healthy, down, redirecting, and one that never answers. */
function startHealthServer(): Promise<{ server: http.Server; base: string; port: number }> {
  const server = http.createServer((req, res) => {
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(req.method === "HEAD" ? undefined : "status: healthy");
    } else if (req.url === "/down") {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("Service Unavailable");
    } else if (req.url === "/moved") {
      res.writeHead(302, { location: "/health" });
      res.end();
    } else if (req.url === "/hang") {
      // Never answers: the check's own timeout must end the attempt.
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ server, base: `http://127.0.0.1:${port}`, port });
    });
  });
}

/** A port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describeWithTool(["pwsh", "pester"], "Windows device scripts under PowerShell 7.6 + Pester", () => {
  const dir = makeTempDir("pester");
  const outputsDir = path.join(dir, "outputs");
  const marker = path.join(dir, "pwned");
  let summary: PesterSummary;
  let fixtures: PesterFixtures;
  const only = (process.env.PATCHPILOT_PESTER_ONLY ?? "").split(",").filter((s) => s !== "");
  let health: Awaited<ReturnType<typeof startHealthServer>>;

  beforeAll(async () => {
    mkdirSync(outputsDir);
    health = await startHealthServer();
    fixtures = buildFixtures({
      marker,
      outputsDir,
      http: { base: health.base, openPort: health.port, closedPort: await closedPort() },
    });
    const fixturesFile = path.join(dir, "fixtures.json");
    writeFileSync(fixturesFile, JSON.stringify(fixtures));
    const [command, ...leading] = pwshCommand() ?? ["pwsh"];
    const pester = pesterModulePath() ?? "";
    await new Promise<void>((resolve, reject) => {
      execFile(
        command,
        [
          ...leading,
          "-NoLogo",
          "-NoProfile",
          "-NonInteractive",
          "-File",
          RUNNER,
          "-PesterModule",
          pester,
          "-ResultsDir",
          dir,
        ],
        {
          cwd: ROOT,
          // A time zone far from UTC, so a local time reported as UTC (or a date shifted a day) shows.
          env: { ...process.env, PATCHPILOT_PESTER_FIXTURES: fixturesFile, TZ: "Pacific/Auckland" },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 600_000,
        },
        (error, _stdout, stderr) => {
          if (!existsSync(path.join(dir, "pester.json")))
            reject(new Error(`Pester did not write its results: ${error?.message ?? ""}\n${stderr}`));
          else resolve();
        },
      );
    });
    summary = JSON.parse(readFileSync(path.join(dir, "pester.json"), "utf8")) as PesterSummary;
  }, 620_000);

  afterAll(async () => {
    // The /hang route leaves connections open until their client goes; close them first.
    health?.server.closeAllConnections();
    await new Promise((resolve) => health?.server.close(resolve));
    // PATCHPILOT_KEEP_PESTER=1 keeps the fixtures, results and outputs for running a suite by hand.
    if (process.env.PATCHPILOT_KEEP_PESTER === "1") console.log(`Pester files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  it("ran PowerShell 7.6 and every suite file loaded", () => {
    expect(summary.powershell).toMatch(/^7\.6\./);
    // A container's own error is a failure outside any test (discovery, BeforeAll); failed tests are reported below.
    expect(summary.containers.filter((c) => c.error !== "")).toEqual([]);
  });

  const suites = ScriptIdSchema.options.filter((id) => only.length === 0 || only.includes(id));

  it.each(suites)("%s.Tests.ps1: every Pester test passed", (id) => {
    const tests = summary.tests.filter((t) => t.file === `${id}.Tests.ps1`);
    expect(tests.length).toBeGreaterThanOrEqual(MIN_TESTS[id]);
    const failed = tests.filter((t) => t.result !== "Passed").map((t) => `${t.path} [${t.result}]\n${t.error}`);
    expect(failed).toEqual([]);
  });

  it.each(suites)("%s: every document the script printed parses with the collector's parser and schema", (id) => {
    const file = path.join(outputsDir, `${id}.jsonl`);
    const runs = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as CapturedRun);
    expect(runs.length).toBeGreaterThanOrEqual(MIN_TESTS[id]);
    const version = fixtures.scripts[id].version;
    const invalid = runs
      .map((r) => ({ r, parsed: parseScriptOutput(r.stdout, { id, version }) }))
      .filter(({ parsed }) => !parsed.ok)
      .map(({ r, parsed }) => `${r.test} (run ${r.run}): ${parsed.ok ? "" : parsed.failure.message}`);
    expect(invalid).toEqual([]);
  });

  it("no hostile value was ever executed", () => {
    expect(existsSync(marker)).toBe(false);
  });
});
