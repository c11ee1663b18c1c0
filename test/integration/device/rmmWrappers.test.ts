// The RMM wrappers run end to end against the local API: Invoke-PatchPilotRun.ps1 under PowerShell 7.6 and
// patchpilot-run.sh under bash + curl. Each starts a real run on a demo device, follows it and must exit with the
// device's own exit code (docs/scenarios.md's demo table, test/harness/demoExpectations.ts). The failure paths go
// through a proxy in front of the API: a server that stops answering, and a start whose 202 is lost.
import { execFile } from "node:child_process";
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { EXPECTED_DEMO_EXIT_CODES } from "../../harness/demoExpectations";
import { describeWithTool, pwshCommand, type ToolName } from "../../harness/tools";

const ROOT = path.resolve(__dirname, "../../..");
const DEMO = path.join(ROOT, "local/scenarios/demo.json");
const PS_WRAPPER = path.join(ROOT, "lib/device/rmm/Invoke-PatchPilotRun.ps1");
const SH_WRAPPER = path.join(ROOT, "lib/device/rmm/patchpilot-run.sh");
const TENANT = "contoso-msp";

/** One demo device per exit code, with the client it belongs to. */
const DEVICES: { device: string; client: string }[] = [
  { device: "WIN-SERVER01", client: "fabrikam" },
  { device: "ADT-DC01", client: "adatum" },
  { device: "ADT-PRINT01", client: "adatum" },
  { device: "FAB-APP01", client: "fabrikam" },
  { device: "FAB-WEB01", client: "fabrikam" },
  { device: "ADT-FS01", client: "adatum" },
];

type Wrapper = "powershell" | "bash";

interface WrapperRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface WrapperOptions {
  base: string;
  key: string;
  client: string;
  device: string;
  timeoutMinutes?: number;
  waitSeconds?: number;
}

/** Runs a wrapper as an RMM agent would: settings on the command line, the key in the environment. */
function runWrapper(wrapper: Wrapper, o: WrapperOptions): Promise<WrapperRun> {
  const timeout = String(o.timeoutMinutes ?? 5);
  const wait = String(o.waitSeconds ?? 5);
  const [command, ...args] =
    wrapper === "powershell"
      ? [
          ...(pwshCommand() ?? ["pwsh"]),
          ...["-NoLogo", "-NoProfile", "-NonInteractive", "-File", PS_WRAPPER],
          ...["-BaseUrl", o.base, "-Tenant", TENANT, "-Client", o.client, "-Device", o.device],
          ...["-WaitSeconds", wait, "-TimeoutMinutes", timeout],
        ]
      : [
          "bash",
          SH_WRAPPER,
          ...["--base-url", o.base, "--tenant", TENANT, "--client", o.client, "--device", o.device],
          ...["--wait-seconds", wait, "--timeout-minutes", timeout],
        ];
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: ROOT, env: { ...process.env, PATCHPILOT_API_KEY: o.key }, timeout: 300_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A proxy in front of the API that forwards, except where `intercept` takes a request over. */
async function startProxy(
  target: string,
  intercept: (req: http.IncomingMessage, res: http.ServerResponse, forward: () => Promise<ForwardedAnswer>) => void,
): Promise<{ url: string; close: () => Promise<void>; requests: string[] }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const forward = (): Promise<ForwardedAnswer> => forwardTo(target, req);
    intercept(req, res, forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface ForwardedAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function forwardTo(target: string, req: http.IncomingMessage): Promise<ForwardedAnswer> {
  const url = new URL(target);
  return new Promise((resolve, reject) => {
    const upstream = http.request(
      { host: url.hostname, port: url.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () =>
          resolve({ status: answer.statusCode ?? 0, headers: answer.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    upstream.on("error", reject);
    req.pipe(upstream);
  });
}

function pass(res: http.ServerResponse, answer: ForwardedAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

const lastLine = (run: WrapperRun): string => run.stdout.trim().split("\n").pop() ?? "";

/** The wrappers' own 240 reasons (the API's 240 for ADT-FS01 must not be one of these). */
const WRAPPER_REASONS = / - (could not |no exit code after|the start answer has|missing |the run failed without)/;

function describeWrapper(wrapper: Wrapper): void {
  // The PowerShell wrapper needs pwsh (skipped naming it when missing, required under CI=true); bash + curl are always here.
  const tools: ToolName[] = wrapper === "powershell" ? ["pwsh"] : [];
  const title =
    wrapper === "powershell" ? "Invoke-PatchPilotRun.ps1 under pwsh 7.6" : "patchpilot-run.sh under bash + curl";

  describeWithTool(tools, title, () => {
    let stack: LocalStack;
    let base: string;
    let key: string;

    beforeAll(async () => {
      // Each wrapper gets its own stack: a second run on a demo device would start from the first run's results.
      stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", httpPort: 0 });
      base = stack.host.httpBaseUrl ?? "";
      key = (await stack.deps.apiKeys.issue(TENANT, { name: `${wrapper}-rmm`, roles: ["Operator"] }, stack.host.now()))
        .key;
    }, 120_000);

    afterAll(async () => {
      await stack?.stop();
    });

    it("exits with the device's own exit code for runs that end 0, 150, 170, 210, 220 and 240", async () => {
      const runs = await Promise.all(DEVICES.map((d) => runWrapper(wrapper, { base, key, ...d })));
      const codes = Object.fromEntries(DEVICES.map((d, i) => [d.device, runs[i]?.code]));
      const expected = Object.fromEntries(DEVICES.map((d) => [d.device, EXPECTED_DEMO_EXIT_CODES[d.device]]));
      expect(codes).toEqual(expected);
      expect([...new Set(Object.values(expected))].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([
        0, 150, 170, 210, 220, 240,
      ]);
      DEVICES.forEach((d, i) => {
        const line = lastLine(runs[i] as WrapperRun);
        // One summary line naming the run, the code and its name; the 240 comes from the API, not the wrapper.
        expect(line).toMatch(
          new RegExp(`^PatchPilot ${d.device} run \\S+: exit ${EXPECTED_DEMO_EXIT_CODES[d.device]} \\w+`),
        );
        expect(line).not.toMatch(WRAPPER_REASONS);
      });
    }, 300_000);

    it("exits 240 for an unknown key and prints the API's problem detail", async () => {
      const run = await runWrapper(wrapper, {
        base,
        key: "pp_unknown_0000000000000000000000000000",
        client: "fabrikam",
        device: "WIN-SERVER01",
      });
      expect(run.code).toBe(240);
      expect(lastLine(run)).toMatch(
        /^PatchPilot WIN-SERVER01: exit 240 ReportingFailure - could not start the run: HTTP 401/,
      );
      expect(lastLine(run)).not.toContain("may have started");
    }, 120_000);

    it("gives up with 240 by its timeout when nothing listens", async () => {
      const closed = await startProxy(base, () => undefined);
      const url = closed.url;
      await closed.close();
      const run = await runWrapper(wrapper, {
        base: url,
        key,
        client: "fabrikam",
        device: "WIN-SERVER01",
        timeoutMinutes: 0.1,
      });
      expect(run.code).toBe(240);
      expect(lastLine(run)).toMatch(
        /^PatchPilot WIN-SERVER01: exit 240 ReportingFailure - could not start the run within 0\.1 minutes/,
      );
    }, 120_000);

    it("retries a start answered 503 (it cannot have started a run) after Retry-After, and starts exactly one run", async () => {
      let refused = 0;
      const proxy = await startProxy(base, (req, res, forward) => {
        if (req.method === "POST" && refused === 0) {
          refused += 1;
          req.resume();
          res.writeHead(503, { "retry-after": "1", "content-type": "application/problem+json" });
          res.end(JSON.stringify({ title: "Service Unavailable", status: 503, detail: "restarting" }));
          return;
        }
        void forward().then((a) => pass(res, a));
      });
      try {
        const run = await runWrapper(wrapper, { base: proxy.url, key, client: "fabrikam", device: "fab-lnx01" });
        expect(run.code).toBe(EXPECTED_DEMO_EXIT_CODES["fab-lnx01"]);
        expect(proxy.requests.filter((r) => r.startsWith("POST"))).toHaveLength(2);
        expect(lastLine(run)).toMatch(/^PatchPilot fab-lnx01 run \S+: exit 0 Success/);
      } finally {
        await proxy.close();
      }
    }, 180_000);

    it("exits 240, never another code, for a setting out of range", async () => {
      const run = await runWrapper(wrapper, {
        base,
        key,
        client: "fabrikam",
        device: "WIN-SERVER01",
        waitSeconds: 500,
      });
      expect(run.code).toBe(240);
      expect(lastLine(run)).toMatch(/exit 240 ReportingFailure - .*(WaitSeconds|wait)/i);
    }, 120_000);

    it("exits 240 after its timeout when the server stops answering", async () => {
      // The start goes through; every status request then hangs.
      const proxy = await startProxy(base, (req, res, forward) => {
        if (req.method === "POST") void forward().then((a) => pass(res, a));
      });
      try {
        const run = await runWrapper(wrapper, {
          base: proxy.url,
          key,
          client: "adatum",
          device: "adt-lnx-db01",
          timeoutMinutes: 0.1,
        });
        expect(run.code).toBe(240);
        expect(lastLine(run)).toMatch(
          /^PatchPilot adt-lnx-db01 run \S+: exit 240 ReportingFailure - no exit code after 0\.1 minutes/,
        );
        expect(proxy.requests.filter((r) => r.startsWith("GET")).length).toBeGreaterThanOrEqual(1);
      } finally {
        await proxy.close();
      }
    }, 120_000);

    it("does not retry a start whose 202 was lost into a second run", async () => {
      let runId = "";
      const proxy = await startProxy(base, (req, res, forward) => {
        if (req.method !== "POST") {
          void forward().then((a) => pass(res, a));
          return;
        }
        // The run starts on the server; its answer never reaches the wrapper.
        void forward().then((a) => {
          runId = (JSON.parse(a.body.toString("utf8")) as { runId: string }).runId;
          res.socket?.destroy();
        });
      });
      try {
        const run = await runWrapper(wrapper, { base: proxy.url, key, client: "adatum", device: "adt-lnx-web01" });
        expect(run.code).toBe(240);
        expect(lastLine(run)).toMatch(/could not start the run: .*it may have started/);
        expect(proxy.requests.filter((r) => r.startsWith("POST"))).toHaveLength(1);
        // The run the lost answer described exists, and it is the only one.
        const status = await fetch(`${base}/api/v1/tenants/${TENANT}/runs/${runId}`, { headers: { "x-api-key": key } });
        expect(status.status).toBe(200);
      } finally {
        await proxy.close();
      }
    }, 120_000);
  });
}

describeWrapper("powershell");
describeWrapper("bash");
