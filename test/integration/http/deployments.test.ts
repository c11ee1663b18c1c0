import path from "node:path";
import { verifyAuditChain } from "../../../lib/api/audit/auditLog";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { checkExchanges, recordExchange, type Exchange } from "../../harness/openApiExchanges";

// Emergency deployments and pause / resume / cancel through the HTTP API on the local stack (Azurite, the fleet
// emulator, the local Durable host running the orchestrators through durable-functions' own replay code). What the
// devices installed is read from the emulator's own install records, not from PatchPilot's reports.

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const A = "contoso-msp";
// In the demo, ADT-FS01's agent is disconnected (240) and ADT-PRINT01 is held by another run's lock (170).
const ADATUM = ["ADT-DC01", "ADT-FS01", "ADT-PRINT01", "adt-lnx-db01", "adt-lnx-web01"];

let stack: LocalStack;
let base: string;
const keys = { operator: "", auditor: "", author: "" };
const exchanges: Exchange[] = [];

// Response bodies are read field by field below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function call(
  method: string,
  urlPath: string,
  options: { key?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; json: Json; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers["x-api-key"] = options.key;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${urlPath}`, { method, headers, ...(body === undefined ? {} : { body }) });
  recordExchange(exchanges, method, urlPath, response.status, response.headers.entries());
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, headers: response.headers };
}

/** What the emulator recorded as installed (successfully) on a device, by KB or package key. */
function installedOn(device: string): string[] {
  const sim = stack.fleet.devices.find((d) => d.name === device);
  if (sim === undefined) throw new Error(`no simulated device ${device}`);
  return sim.state.installRecords.filter((r) => r.ok).map((r) => r.update.kb ?? r.update.key);
}

/** Install records (any outcome) per device, to prove nothing was installed. */
function installCount(devices: readonly string[]): number {
  return devices.reduce(
    (n, name) => n + (stack.fleet.devices.find((d) => d.name === name)?.state.installRecords.length ?? 0),
    0,
  );
}

/** Waits (on the host, which skips virtual time while it waits) until the deployment's orchestration has ended. */
async function deploymentEnded(id: string): Promise<void> {
  await stack.host.waitForInstance(`deployment-${A}-${id}`);
}

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", httpPort: 0 });
  base = stack.host.httpBaseUrl ?? "";
  const now = stack.host.now();
  const issue = async (name: string, roles: ("Operator" | "Auditor" | "PolicyAuthor")[]) =>
    (await stack.deps.apiKeys.issue(A, { name, roles }, now)).key;
  keys.operator = await issue("rmm", ["Operator"]);
  keys.auditor = await issue("auditor", ["Auditor"]);
  keys.author = await issue("author", ["PolicyAuthor"]);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("emergency deployment", () => {
  const request = {
    deploymentId: "msrt-now",
    target: { client: "adatum" },
    kbs: ["KB890830"],
    maxConcurrency: 2,
    maxErrors: 1,
  };

  it("installs exactly the requested KB on the client's devices, idempotently, with its own report", async () => {
    const before = Object.fromEntries(ADATUM.map((d) => [d, installedOn(d)]));
    expect(before["ADT-DC01"]).not.toContain("KB890830");

    // Permission: a policy author may not start a deployment (runs:start); bad input names its field.
    expect((await call("POST", `/api/v1/tenants/${A}/deployments`, { key: keys.author, body: request })).status).toBe(
      403,
    );
    const bad = await call("POST", `/api/v1/tenants/${A}/deployments`, {
      key: keys.operator,
      body: { target: { client: "adatum" }, kbs: ["5012345"] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].field).toBe("body.kbs.0");

    const started = await call("POST", `/api/v1/tenants/${A}/deployments`, { key: keys.operator, body: request });
    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toBe(`/api/v1/tenants/${A}/deployments/msrt-now`);
    expect(started.json.replayed).toBe(false);
    expect(started.json.targets.map((t: Json) => t.device).sort()).toEqual([...ADATUM].sort());

    // A retried POST (same id, same body) starts nothing new; the same id with another body is refused.
    const again = await call("POST", `/api/v1/tenants/${A}/deployments`, { key: keys.operator, body: request });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ replayed: true, requestSha256: started.json.requestSha256 });
    const other = await call("POST", `/api/v1/tenants/${A}/deployments`, {
      key: keys.operator,
      body: { ...request, kbs: ["KB5012400"] },
    });
    expect(other.status).toBe(409);
    // The Idempotency-Key header names the same deployment.
    const byHeader = await call("POST", `/api/v1/tenants/${A}/deployments`, {
      key: keys.operator,
      headers: { "idempotency-key": "msrt-now" },
      body: { ...request, deploymentId: undefined },
    });
    expect(byHeader.json.replayed).toBe(true);

    await deploymentEnded("msrt-now");
    const status = await call("GET", `/api/v1/tenants/${A}/deployments/msrt-now`, { key: keys.auditor });
    expect(status.status).toBe(200);
    expect(status.json.runtimeStatus).toBe("Completed");
    const report = status.json.report;
    expect(report.totals).toMatchObject({ targets: 5, completed: 5, notStarted: 0 });
    const codes = Object.fromEntries(report.outcomes.map((o: Json) => [o.device, o.result.exitCode]));
    expect(codes).toEqual({
      "ADT-DC01": 0,
      "ADT-FS01": 240,
      "ADT-PRINT01": 170,
      "adt-lnx-db01": 0,
      "adt-lnx-web01": 0,
    });

    // The emulator's records: ADT-DC01 got KB890830 and nothing else (its cumulative and Defender updates were
    // applicable and its policy approves them); the Linux devices (nothing requested applies) got nothing.
    expect(installedOn("ADT-DC01").filter((kb) => !(before["ADT-DC01"] ?? []).includes(kb))).toEqual(["KB890830"]);
    expect(installCount(["ADT-FS01", "ADT-PRINT01", "adt-lnx-db01", "adt-lnx-web01"])).toBe(0);

    // Each device's catalog.json says why: approved by the deployment, everything else excluded by it.
    const dc = report.outcomes.find((o: Json) => o.device === "ADT-DC01");
    const run = await call("GET", `/api/v1/tenants/${A}/runs/${dc.runId}/artifacts/03-catalog/catalog.json`, {
      key: keys.auditor,
    });
    expect(run.status).toBe(200);
    const decisions = Object.fromEntries(run.json.updates.map((u: Json) => [u.kb, [u.decision, u.reason]]));
    expect(decisions.KB890830[0]).toBe("approved");
    expect(decisions.KB890830[1]).toContain("requested by deployment msrt-now");
    expect(decisions.KB5012400[0]).toBe("excluded");
    expect(decisions.KB5012400[1]).toContain("not in deployment msrt-now (policy said: approved");

    // Its CloudEvent reached the local topic; the create was audited once per POST.
    await stack.eventGrid.idle();
    const types = stack.eventGrid.published.map((e) => e.type);
    expect(types).toContain("io.patchpilot.deployment.completed");
    const audit = await stack.deps.auditLog.read(A);
    expect(verifyAuditChain(A, audit).ok).toBe(true);
    expect(audit.filter((e) => e.action === "deployments.create").map((e) => e.outcome)).toEqual([
      400, 202, 202, 409, 202,
    ]);
  }, 240_000);
});

describe("pause, resume and cancel", () => {
  it("pauses a deployment (running device finishes, none starts), resumes it, then cancels the rest", async () => {
    const id = "ctl-1";
    const before = Object.fromEntries(ADATUM.map((d) => [d, installCount([d])]));
    const newInstalls = (devices: readonly string[]): number =>
      devices.reduce((n, d) => n + installCount([d]) - (before[d] ?? 0), 0);
    const started = await call("POST", `/api/v1/tenants/${A}/deployments`, {
      key: keys.operator,
      body: {
        deploymentId: id,
        target: { client: "adatum" },
        kbs: ["KB2267602"],
        maxConcurrency: 1,
        maxErrors: "100%",
      },
    });
    expect(started.status).toBe(202);
    const pause = await call("POST", `/api/v1/tenants/${A}/deployments/${id}/pause`, {
      key: keys.operator,
      body: { reason: "bad reports from another MSP" },
    });
    expect(pause.status).toBe(202);
    expect(pause.json.command).toMatchObject({ action: "pause", reason: "bad reports from another MSP" });

    // The host runs everything it can: the first device's run, then the deployment waits, paused.
    await stack.host.runUntilIdle({ advance: false });
    const paused = (await call("GET", `/api/v1/tenants/${A}/deployments/${id}`, { key: keys.auditor })).json;
    expect(paused).toMatchObject({ runtimeStatus: "Running", control: "paused" });
    expect(paused.progress).toMatchObject({ targets: 5, finished: 1, pending: 4 });
    // The emulator: only the first device (ADT-DC01, first by name) ran an install.
    expect(newInstalls(["ADT-DC01"])).toBeGreaterThan(0);
    expect(newInstalls(ADATUM.filter((d) => d !== "ADT-DC01"))).toBe(0);

    expect((await call("POST", `/api/v1/tenants/${A}/deployments/${id}/resume`, { key: keys.operator })).status).toBe(
      202,
    );
    // Cancel right after. Sent back to back, the host may take both in one episode (the resumed wave never starts) or
    // the resume first (its wave of one device finishes): either way nothing after the cancel starts.
    expect((await call("POST", `/api/v1/tenants/${A}/deployments/${id}/cancel`, { key: keys.operator })).status).toBe(
      202,
    );
    await deploymentEnded(id);
    const done = (await call("GET", `/api/v1/tenants/${A}/deployments/${id}`, { key: keys.auditor })).json;
    const byStatus = (s: string): string[] =>
      done.report.outcomes.filter((o: Json) => o.status === s).map((o: Json) => o.device);
    const completed = byStatus("completed").length;
    expect([1, 2]).toContain(completed); // maxConcurrency 1: at most one wave between resume and cancel
    expect(byStatus("cancelled")).toHaveLength(5 - completed);
    expect(done.report.totals).toMatchObject({ targets: 5, completed, cancelled: 5 - completed });
    expect(done.report.stop).toMatchObject({ kind: "cancelled" });
    // The emulator: the cancelled devices never ran an install.
    expect(newInstalls(byStatus("cancelled"))).toBe(0);
    expect(done.report.control.map((c: Json) => [c.action, c.from, c.to])).toEqual([
      ["pause", "running", "paused"],
      ["resume", "paused", "running"],
      ["cancel", "running", "cancelled"],
    ]);
    // A finished deployment cannot be controlled any more.
    expect((await call("POST", `/api/v1/tenants/${A}/deployments/${id}/resume`, { key: keys.operator })).status).toBe(
      409,
    );
    const audit = (await stack.deps.auditLog.read(A)).filter((e) => e.action === "deployments.control");
    // The action is the path's last segment (a refused call has no details, its resource says what was asked).
    expect(audit.map((e) => [e.resource.split("/").at(-1), e.outcome])).toEqual([
      ["pause", 202],
      ["resume", 202],
      ["cancel", 202],
      ["resume", 409],
    ]);
  }, 240_000);
});

describe("quarantine list and lift", () => {
  it("a quarantined KB stays out of an emergency deployment until a policy author lifts it through the API", async () => {
    const entry = (
      await stack.deps.quarantine.quarantine({
        tenant: A,
        scope: "tenant",
        update: { kind: "kb", kb: "KB5012400" },
        reason: "regressed at two clients",
        source: { runs: [], clients: ["fabrikam", "adatum"] },
        quarantinedAt: stack.host.now().toISOString(),
        quarantinedBy: "patchpilot",
      })
    ).entry;

    // Listed for those who may read policy; an operator may not.
    const listed = await call("GET", `/api/v1/tenants/${A}/quarantine`, { key: keys.auditor });
    expect(listed.status).toBe(200);
    expect(listed.json.entries.map((e: Json) => e.id)).toEqual([entry.id]);
    expect((await call("GET", `/api/v1/tenants/${A}/quarantine`, { key: keys.operator })).status).toBe(403);
    expect((await call("GET", `/api/v1/tenants/${A}/quarantine/${entry.id}`, { key: keys.auditor })).json).toEqual(
      entry,
    );

    // A deployment asking for it: the quarantine (applied to the policy at run start) wins; nothing installed.
    const deploy = async (id: string): Promise<Json> => {
      const started = await call("POST", `/api/v1/tenants/${A}/deployments`, {
        key: keys.operator,
        body: { deploymentId: id, target: { devices: ["adt-dc01"] }, kbs: ["KB5012400"] },
      });
      expect(started.status).toBe(202);
      await deploymentEnded(id);
      const report = (await call("GET", `/api/v1/tenants/${A}/deployments/${id}`, { key: keys.auditor })).json.report;
      const runId = report.outcomes[0].runId;
      const catalog = await call("GET", `/api/v1/tenants/${A}/runs/${runId}/artifacts/03-catalog/catalog.json`, {
        key: keys.auditor,
      });
      return catalog.json.updates.find((u: Json) => u.kb === "KB5012400");
    };
    const held = await deploy("cu-held");
    expect(held.decision).toBe("excluded");
    expect(held.reason).toContain(`entry ${entry.id}`);
    expect(installedOn("ADT-DC01")).not.toContain("KB5012400");

    // Lift: refused to an operator and without a reason; a policy author lifts it, audited; a second lift is a no-op.
    const lift = `/api/v1/tenants/${A}/quarantine/${entry.id}/lift`;
    expect((await call("POST", lift, { key: keys.operator, body: { reason: "fixed" } })).status).toBe(403);
    const noReason = await call("POST", lift, { key: keys.author, body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.json.errors[0].field).toBe("body.reason");
    const lifted = await call("POST", lift, { key: keys.author, body: { reason: "vendor re-released it" } });
    expect(lifted.status).toBe(200);
    expect(lifted.json.alreadyLifted).toBe(false);
    expect(lifted.json.entry.lifted).toMatchObject({ reason: "vendor re-released it" });
    const again = await call("POST", lift, { key: keys.author, body: { reason: "again" } });
    expect(again.json).toMatchObject({ alreadyLifted: true, entry: { lifted: { reason: "vendor re-released it" } } });
    expect(
      (
        await call("POST", `/api/v1/tenants/${A}/quarantine/tenant.kb.KB1234567/lift`, {
          key: keys.author,
          body: { reason: "x" },
        })
      ).status,
    ).toBe(404);
    expect((await call("GET", `/api/v1/tenants/${A}/quarantine`, { key: keys.auditor })).json.entries).toEqual([]);
    const all = await call("GET", `/api/v1/tenants/${A}/quarantine?state=lifted`, { key: keys.auditor });
    expect(all.json.entries.map((e: Json) => e.id)).toEqual([entry.id]);
    const audit = (await stack.deps.auditLog.read(A)).filter((e) => e.action === "quarantine.lift");
    expect(audit.map((e) => e.outcome)).toEqual([400, 200, 200, 404]);
    expect(audit[1]?.details).toMatchObject({ id: entry.id, update: "KB5012400", alreadyLifted: false });

    // The next deployment installs it (the emulator's record).
    const freed = await deploy("cu-freed");
    expect(freed.decision).toBe("approved");
    expect(installedOn("ADT-DC01")).toContain("KB5012400");
  }, 240_000);
});

describe("the OpenAPI document declares what the deployment routes send", () => {
  it("for every answer given in this file", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const { problems, checked, operations } = checkExchanges(doc, exchanges);
    expect(problems).toEqual([]);
    // Every deployment and quarantine route of the document was exercised here.
    const ours = operations.filter((o) => o.tag === "deployments" || o.tag === "quarantine").map((o) => o.key);
    expect(ours).toHaveLength(6);
    expect([...checked].filter((k) => ours.includes(k)).sort()).toEqual(ours.sort());
  });
});
