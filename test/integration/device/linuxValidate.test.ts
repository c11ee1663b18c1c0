import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeChecks } from "../../../lib/device/parameters";
import { ValidateOutputSchema, type ValidateOutput } from "../../../lib/schemas/device";
import { CheckSchema } from "../../../lib/schemas/policies";
import { runLinuxScript } from "./linuxRunner";

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/health") res.writeHead(200).end("status: OK healthy");
    else res.writeHead(500).end("broken");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const check = (
  app: string,
  raw: Record<string, unknown>,
): { app: string; check: ReturnType<typeof CheckSchema.parse> } => ({
  app,
  check: CheckSchema.parse(raw),
});

async function validate(checks: ReturnType<typeof check>[]): Promise<ValidateOutput> {
  const run = await runLinuxScript("validate", { Checks: encodeChecks(checks) });
  expect(run.code).toBe(0);
  return ValidateOutputSchema.parse(JSON.parse(run.stdout));
}

const byName = (doc: ValidateOutput, name: string): ValidateOutput["data"]["results"][number] => {
  const found = doc.data.results.find((r) => r.check === name);
  if (found === undefined) throw new Error(`no result for ${name}`);
  return found;
};

describe("validate.sh against a local HTTP server", () => {
  it("passes http checks on status and body, and reports each failed attempt", async () => {
    const doc = await validate([
      check("Web", {
        type: "http",
        name: "health",
        url: `http://127.0.0.1:${port}/health`,
        bodyContains: "OK healthy",
        attempts: 1,
      }),
      check("Web", { type: "http", name: "head", url: `http://127.0.0.1:${port}/health`, method: "HEAD", attempts: 1 }),
      check("Web", { type: "http", name: "broken", url: `http://127.0.0.1:${port}/broken`, attempts: 2 }),
      check("Web", {
        type: "http",
        name: "body",
        url: `http://127.0.0.1:${port}/health`,
        bodyContains: "missing",
        attempts: 1,
      }),
      check("Web", {
        type: "http",
        name: "expects-500",
        url: `http://127.0.0.1:${port}/broken`,
        expectStatus: [500, 503],
        attempts: 1,
      }),
    ]);
    expect(doc.errors).toEqual([]);
    expect(byName(doc, "health")).toMatchObject({
      app: "Web",
      type: "http",
      success: true,
      attempts: [{ success: true, detail: "HTTP 200" }],
    });
    expect(byName(doc, "head").success).toBe(true);
    const broken = byName(doc, "broken");
    expect(broken.success).toBe(false);
    expect(broken.attempts).toHaveLength(2);
    expect(broken.attempts[0]?.detail).toBe("HTTP 500, expected one of: 200");
    expect(byName(doc, "body").attempts[0]?.detail).toMatch(/does not contain/);
    expect(byName(doc, "expects-500").success).toBe(true);
  });

  it("checks tcp ports, processes and scripts (exit code and timeout), stopping at the first success", async () => {
    const doc = await validate([
      check("Ops", { type: "tcp", name: "open", host: "127.0.0.1", port, attempts: 3 }),
      check("Ops", { type: "tcp", name: "closed", host: "127.0.0.1", port: 1, attempts: 1 }),
      check("Ops", { type: "process", name: "bash", processName: "bash", attempts: 1 }),
      check("Ops", { type: "process", name: "ghost", processName: "no-such-process", attempts: 1 }),
      check("Ops", {
        type: "script",
        name: "exit3",
        shell: "bash",
        script: "echo secret-token; exit 3",
        expectExitCode: 3,
        attempts: 1,
      }),
      check("Ops", { type: "script", name: "slow", shell: "bash", script: "sleep 5", timeoutSeconds: 1, attempts: 1 }),
      check("Ops", { type: "script", name: "ps", shell: "powershell", script: "exit 0", attempts: 1 }),
    ]);
    expect(byName(doc, "open")).toMatchObject({ success: true, attempts: [{ success: true }] });
    expect(byName(doc, "closed").success).toBe(false);
    expect(byName(doc, "bash").success).toBe(true);
    expect(byName(doc, "ghost").attempts[0]?.detail).toBe("0 running, at least 1 expected");
    expect(byName(doc, "exit3")).toMatchObject({ success: true, attempts: [{ detail: "exit 3, expected 3" }] });
    expect(byName(doc, "slow")).toMatchObject({ success: false, attempts: [{ detail: "timed out after 1s" }] });
    expect(byName(doc, "ps").success).toBe(false);
    // A script check's output is never reported: it may print secrets.
    expect(JSON.stringify(doc)).not.toContain("secret-token");
  });

  it("reports service and journal checks it cannot run here as failed attempts, not as passes", async () => {
    const doc = await validate([
      check("Ops", { type: "service", name: "svc", serviceName: "cron", attempts: 1 }),
      check("Ops", { type: "eventlog", name: "journal", logName: "System", attempts: 1 }),
    ]);
    expect(doc.data.results).toHaveLength(2);
    for (const result of doc.data.results) expect(result.attempts).toHaveLength(1);
    const svc = byName(doc, "svc").attempts[0]?.detail ?? "";
    expect(svc).toMatch(/systemd is not running|ActiveState=/);
    if (svc.startsWith("systemd is not running")) expect(byName(doc, "svc").success).toBe(false);
    const journal = byName(doc, "journal");
    if (journal.attempts[0]?.detail === "journal not available") expect(journal.success).toBe(false);
  });

  it("returns app and check names byte for byte, whatever they contain", async () => {
    const hostile = 'q"uo\\te \n\t\u0001\u001f é 😀 $(x) `y` ;z';
    const doc = await validate([check(hostile, { type: "tcp", name: hostile, host: "127.0.0.1", port, attempts: 1 })]);
    expect(doc.data.results[0]).toMatchObject({ app: hostile, check: hostile, success: true });
  });

  it("runs nothing when one record is invalid, and says which without echoing it", async () => {
    const good = encodeChecks([check("Ops", { type: "tcp", name: "open", host: "127.0.0.1", port })]);
    const bad = ["Ops", "x", "tcp", "1", "0", "5", "127.0.0.1;id", "80"]
      .map((f) => Buffer.from(f).toString("base64"))
      .join(".");
    const run = await runLinuxScript("validate", { Checks: `${good},${bad}` });
    const doc = ValidateOutputSchema.parse(JSON.parse(run.stdout));
    expect(doc.data.results).toEqual([]);
    expect(doc.errors).toEqual([
      { section: "parameters", message: "Checks: check 1: invalid field host", code: "invalid-parameter" },
    ]);
  });
});
