import { createHash } from "node:crypto";
import http from "node:http";
import { verifyAuditChain } from "../../../lib/api/audit/auditLog";
import { hashLeaf, verifyHexProof } from "../../../lib/evidence/merkle";
import { merkleLeafData } from "../../../lib/evidence/seal";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { runWindows, type WindowsSummary } from "../../../local/run/runWindows";
import path from "node:path";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import { verifyPackage } from "../../../lib/export/verifyPackage";
import { PACKAGE_FILES } from "../../../lib/export/packageLayout";
import { oscalErrors } from "../../harness/oscalValidator";
import { readZip } from "../../harness/zipFiles";
import { checkExchanges, recordExchange, type Exchange } from "../../harness/openApiExchanges";
import { verifyConsistency } from "../../../lib/transparency/consistency";
import { noteText, openNote, parseCheckpoint, parseVerifierKey } from "../../../lib/transparency/note";

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const A = "contoso-msp";
const B = "northwind-it";

let stack: LocalStack;
let base: string;
let summary: WindowsSummary;
const keys: Record<"operator" | "auditor" | "both" | "revoked" | "otherTenant", string> = {
  operator: "",
  auditor: "",
  both: "",
  revoked: "",
  otherTenant: "",
};

function principal(roles: string[], tenants: string[]): string {
  const claims = [
    {
      typ: "http://schemas.microsoft.com/identity/claims/objectidentifier",
      val: "00000000-0000-0000-0000-0000000000aa",
    },
    { typ: "preferred_username", val: "auditor@contoso.example" },
    ...roles.map((r) => ({ typ: "roles", val: r })),
    ...tenants.map((t) => ({ typ: "patchpilot_tenants", val: t })),
  ];
  return Buffer.from(
    JSON.stringify({ auth_typ: "aad", name_typ: "preferred_username", role_typ: "roles", claims }),
  ).toString("base64");
}

// Response bodies are read field by field below; the schemas that produce them are tested elsewhere.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Route families exercised by managementApi.test.ts, and by the files named below, each checked the same way. */
// Deployments (with pause / resume / cancel) and quarantine: test/integration/http/deployments.test.ts.
// Releases: test/integration/http/releaseApproval.test.ts.
const MANAGEMENT_TAGS = new Set(["policies", "windows", "compliance", "deployments", "quarantine", "releases"]);

/** Every answer the API gave in this file, to check against what the OpenAPI document declares (last test). */
const exchanges: Exchange[] = [];

function record(method: string, urlPath: string, status: number, headers: Iterable<[string, string]>): void {
  recordExchange(exchanges, method, urlPath, status, headers);
}

async function call(
  method: string,
  urlPath: string,
  options: { key?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string } = {},
): Promise<{ status: number; json: Json; text: string; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers["x-api-key"] = options.key;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${urlPath}`, { method, headers, ...(body === undefined ? {} : { body }) });
  record(method, urlPath, response.status, response.headers.entries());
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, headers: response.headers };
}

/** Sends a path exactly as written (fetch would normalise dot segments before they reach the server). */
function rawGet(rawPath: string, key: string): Promise<{ status: number; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: rawPath, method: "GET", headers: { "x-api-key": key } },
      (response) => {
        let text = "";
        response.on("data", (c: Buffer) => (text += c.toString("utf8")));
        response.on("end", () => {
          const headers = Object.entries(response.headers).map(([k, v]): [string, string] => [
            k,
            Array.isArray(v) ? v.join(", ") : (v ?? ""),
          ]);
          record("GET", rawPath, response.statusCode ?? 0, headers);
          resolve({ status: response.statusCode ?? 0, text });
        });
      },
    );
    request.on("error", reject);
    request.end();
  });
}

function demoRun(tenant: string, device: string): string {
  const d = summary.devices.find((x) => x.tenant === tenant && x.device === device);
  if (d === undefined) throw new Error(`no demo run for ${device}`);
  return d.runId;
}

async function waitForExitCode(runId: string, key: string): Promise<Json> {
  for (let i = 0; i < 30; i += 1) {
    const r = await call("GET", `/api/v1/tenants/${A}/runs/${runId}?waitSeconds=20`, { key });
    expect(r.status).toBe(200);
    if (r.json.exitCode !== undefined) return r.json;
  }
  throw new Error(`run ${runId} never got an exit code`);
}

beforeAll(async () => {
  stack = await startLocalStack({
    scenario: readScenarioFile(DEMO),
    clock: "virtual",
    httpPort: 0,
    settings: { PATCHPILOT_TRUST_CLIENT_PRINCIPAL: "true" },
  });
  base = stack.host.httpBaseUrl ?? "";
  summary = await runWindows(stack);
  const now = stack.host.now();
  keys.operator = (await stack.deps.apiKeys.issue(A, { name: "ninja-rmm", roles: ["Operator"] }, now)).key;
  keys.auditor = (await stack.deps.apiKeys.issue(A, { name: "audit-2026", roles: ["Auditor"] }, now)).key;
  keys.both = (await stack.deps.apiKeys.issue(A, { name: "ops-lead", roles: ["Operator", "Auditor"] }, now)).key;
  const revoked = await stack.deps.apiKeys.issue(A, { name: "old-rmm", roles: ["Operator", "Auditor"] }, now);
  await stack.deps.apiKeys.revoke(A, revoked.info.keyId, now);
  keys.revoked = revoked.key;
  keys.otherTenant = (
    await stack.deps.apiKeys.issue(B, { name: "northwind-rmm", roles: ["Operator", "Auditor"] }, now)
  ).key;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe("GET /api/v1/openapi.json", () => {
  it("is public OpenAPI 3.1 generated from the request schemas", async () => {
    const r = await call("GET", "/api/v1/openapi.json");
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe("3.1.0");
    expect(Object.keys(r.json.paths)).toEqual(
      expect.arrayContaining([
        "/v1/tenants/{tenant}/runs",
        "/v1/tenants/{tenant}/runs/{runId}",
        "/v1/tenants/{tenant}/runs/{runId}/verify",
        "/v1/tenants/{tenant}/runs/{runId}/artifacts/{path}",
      ]),
    );
    const start = r.json.paths["/v1/tenants/{tenant}/runs"].post;
    const body = start.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(expect.arrayContaining(["client", "device"]));
    expect(body.additionalProperties).toBe(false);
    const tenantParam = start.parameters.find((p: { name: string }) => p.name === "tenant");
    expect(tenantParam.schema.pattern).toBe("^[a-z0-9][a-z0-9-]{0,62}$");
    expect(start.responses["403"].content["application/problem+json"]).toBeDefined();
    const wait = r.json.paths["/v1/tenants/{tenant}/runs/{runId}"].get.parameters.find(
      (p: { name: string }) => p.name === "waitSeconds",
    );
    expect(wait.schema.maximum).toBe(120);
  });
});

describe("authentication and authorization", () => {
  const runPath = (): string => `/api/v1/tenants/${A}/runs/${demoRun(A, "WIN-SERVER01")}`;

  it("answers 401 problem+json without a key, with an unknown key, a wrong secret, or a revoked key", async () => {
    const wrongSecret = keys.auditor.slice(0, -4) + (keys.auditor.endsWith("AAAA") ? "BBBB" : "AAAA");
    for (const key of [undefined, "not-a-key", "ppk_0123456789abcdef_" + "A".repeat(43), wrongSecret, keys.revoked]) {
      const r = await call("GET", runPath(), key === undefined ? {} : { key });
      expect({ key, status: r.status }).toEqual({ key, status: 401 });
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      expect(r.json).toMatchObject({ status: 401, title: "Unauthorized" });
      expect(r.text).not.toMatch(/at .*\.ts:\d+|Error:/);
    }
  });

  it("refuses another tenant's key with 403 on every tenant route, naming nothing of this tenant", async () => {
    const runId = demoRun(A, "WIN-SERVER01");
    const routes: [string, string, unknown?][] = [
      ["GET", `/api/v1/tenants/${A}/runs/${runId}`],
      ["GET", `/api/v1/tenants/${A}/runs/${runId}/verify`],
      ["GET", `/api/v1/tenants/${A}/runs/${runId}/artifacts/01-init/run.json`],
      ["POST", `/api/v1/tenants/${A}/runs`, { client: "fabrikam", device: "WIN-SERVER01" }],
    ];
    for (const [method, p, body] of routes) {
      const r = await call(method, p, { key: keys.otherTenant, ...(body === undefined ? {} : { body }) });
      expect({ p, status: r.status }).toEqual({ p, status: 403 });
      expect(r.text).not.toMatch(/fabrikam|WIN-SERVER01|contoso/i);
    }
    // The other tenant asking its own routes for this tenant's run id finds nothing.
    const own = await call("GET", `/api/v1/tenants/${B}/runs/${runId}`, { key: keys.otherTenant });
    expect(own.status).toBe(404);
    expect(own.text).not.toMatch(/fabrikam|WIN-SERVER01|contoso/i);
  });

  it("gives each role its permissions: Operator starts and follows runs, Auditor verifies and reads evidence", async () => {
    const runId = demoRun(A, "WIN-SERVER01");
    expect((await call("GET", `/api/v1/tenants/${A}/runs/${runId}`, { key: keys.operator })).status).toBe(200);
    expect((await call("GET", `/api/v1/tenants/${A}/runs/${runId}`, { key: keys.auditor })).status).toBe(200);
    expect((await call("GET", `/api/v1/tenants/${A}/runs/${runId}/verify`, { key: keys.operator })).status).toBe(403);
    expect(
      (await call("GET", `/api/v1/tenants/${A}/runs/${runId}/artifacts/01-init/run.json`, { key: keys.operator }))
        .status,
    ).toBe(403);
    expect((await call("GET", `/api/v1/tenants/${A}/runs/${runId}/verify`, { key: keys.auditor })).status).toBe(200);
    const refused = await call("POST", `/api/v1/tenants/${A}/runs`, {
      key: keys.auditor,
      body: { client: "fabrikam", device: "WIN-SERVER01" },
    });
    expect(refused.status).toBe(403);
    expect(refused.json.detail).toContain("runs:start");
  });

  it("accepts an Entra ID principal with app roles for its allowed tenants only", async () => {
    const runId = demoRun(A, "WIN-SERVER01");
    const ok = await call("GET", `/api/v1/tenants/${A}/runs/${runId}/verify`, {
      headers: { "x-ms-client-principal": principal(["Auditor"], [A]) },
    });
    expect(ok.status).toBe(200);
    const otherTenant = await call("GET", `/api/v1/tenants/${A}/runs/${runId}/verify`, {
      headers: { "x-ms-client-principal": principal(["Auditor"], [B]) },
    });
    expect(otherTenant.status).toBe(403);
    const noRole = await call("GET", `/api/v1/tenants/${A}/runs/${runId}/verify`, {
      headers: { "x-ms-client-principal": principal([], [A]) },
    });
    expect(noRole.status).toBe(403);
    const garbage = await call("GET", `/api/v1/tenants/${A}/runs/${runId}`, {
      headers: { "x-ms-client-principal": "%%%not-base64" },
    });
    expect(garbage.status).toBe(401);
  });
});

describe("path parameters cannot leave their tenant", () => {
  it("refuses hostile path values with 400 or 404, never 200 or 500", async () => {
    const runId = demoRun(A, "WIN-SERVER01");
    const attempts = [
      `/api/v1/tenants/${A}%7C${B}/runs/${runId}`,
      `/api/v1/tenants/CONTOSO-MSP/runs/${runId}`,
      `/api/v1/tenants/${A}/runs/${runId}'%20or%20'1'%20eq%20'1`,
      `/api/v1/tenants/${A}/runs/${runId}/artifacts/01-init%2F..%2F..%2F..%2F${B}`,
      `/api/v1/tenants/${A}/runs/${runId}/artifacts/..%2F..%2F${demoRun(B, "TSP-APP01")}%2F01-init%2Frun.json`,
      `/api/v1/tenants/${A}/runs/${runId}/artifacts/01-init/../../../${B}/x`,
      `/api/v1/tenants/${A}/runs/${demoRun(B, "TSP-APP01")}`,
      `/api/v1/tenants/${A}/runs/${demoRun(B, "TSP-APP01")}/artifacts/01-init/run.json`,
    ];
    for (const attempt of attempts) {
      const r = await rawGet(attempt, keys.both);
      expect({ attempt, ok: [400, 404].includes(r.status) }).toEqual({ attempt, ok: true });
      // Nothing of the other tenant comes back that the request did not itself contain.
      for (const name of ["tailspin", "TSP-APP01", "northwind"]) {
        if (!attempt.includes(name))
          expect({ attempt, leaked: r.text.includes(name) }).toEqual({ attempt, leaked: false });
      }
    }
    const bad = await call("GET", `/api/v1/tenants/${A}%7C${B}/runs/${runId}`, { key: keys.both });
    expect(bad.json.errors[0].field).toBe("path.tenant");
  });

  it("answers malformed percent-encoding with a 400 problem naming the path, never a 500", async () => {
    const runId = demoRun(A, "WIN-SERVER01");
    const attempts = [
      `/api/v1/tenants/${A}/runs/${runId}/artifacts/01-init/run%E0%A4%A.json`,
      `/api/v1/tenants/${A}/runs/${runId}%ZZ`,
      `/api/v1/tenants/${A}/runs/${runId}%/verify`,
      `/api/v1/tenants/${A}/devices/WIN-SERVER01%C3/installs`,
      `/api/v1/tenants/%FF${A}/runs/${runId}`,
    ];
    for (const attempt of attempts) {
      const r = await rawGet(attempt, keys.both);
      expect({ attempt, status: r.status }).toEqual({ attempt, status: 400 });
      const problem: Json = JSON.parse(r.text);
      expect(problem).toMatchObject({ status: 400, type: "https://patchpilot.dev/problems/invalid-input" });
      expect(problem.errors[0].field).toBe("path");
    }
  });
});

describe("POST /api/v1/tenants/{tenant}/runs", () => {
  it("refuses malformed bodies with the offending field", async () => {
    const p = `/api/v1/tenants/${A}/runs`;
    const notJson = await call("POST", p, { key: keys.operator, rawBody: "{client:" });
    expect(notJson.status).toBe(400);
    expect(notJson.json.errors[0].field).toBe("body");
    const missing = await call("POST", p, { key: keys.operator, body: { client: "fabrikam" } });
    expect(missing.status).toBe(400);
    expect(missing.json.errors.map((e: { field: string }) => e.field)).toContain("body.device");
    const typo = await call("POST", p, {
      key: keys.operator,
      body: { client: "fabrikam", device: "WIN-SERVER01", dryrun: true },
    });
    expect(typo.status).toBe(400);
    expect(typo.json.detail).toContain("dryrun");
    const wrongType = await call("POST", p, {
      key: keys.operator,
      body: { client: "fabrikam", device: "WIN-SERVER01", dryRun: "yes" },
    });
    expect(wrongType.json.errors[0].field).toBe("body.dryRun");
    const hostile = await call("POST", p, {
      key: keys.operator,
      body: { client: "fabrikam", device: "../../etc/passwd" },
    });
    expect(hostile.json.errors[0].field).toBe("body.device");
  });

  it("answers 404 for a device that is not this client's", async () => {
    const r = await call("POST", `/api/v1/tenants/${A}/runs`, {
      key: keys.operator,
      body: { client: "adatum", device: "WIN-SERVER01" },
    });
    expect(r.status).toBe(404);
    const other = await call("POST", `/api/v1/tenants/${A}/runs`, {
      key: keys.operator,
      body: { client: "tailspin", device: "TSP-APP01" },
    });
    expect(other.status).toBe(404);
  });

  it("starts a run, long-polls to its exit code and links verified evidence", async () => {
    const started = await call("POST", `/api/v1/tenants/${A}/runs`, {
      key: keys.operator,
      body: { client: "fabrikam", device: "win-server01" },
    });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({
      tenant: A,
      client: "fabrikam",
      device: "WIN-SERVER01",
      status: "queued",
      dryRun: false,
    });
    expect(started.headers.get("location")).toBe(started.json.links.self);
    const done = await waitForExitCode(started.json.runId, keys.operator);
    expect(done).toMatchObject({ status: "completed", exitCode: 0, exitCodeName: "Success" });
    expect(done.reasons.length).toBeGreaterThan(0);
    expect(done.merkleRoot).toMatch(/^[0-9a-f]{64}$/);
    const exitLink = done.evidence.find((e: { path: string }) => e.path === "11-report/exit-code.json");
    const artifact = await fetch(`${base}${exitLink.href}`, { headers: { "x-api-key": keys.auditor } });
    expect(artifact.status).toBe(200);
    const bytes = Buffer.from(await artifact.arrayBuffer());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(exitLink.sha256);
    expect(artifact.headers.get("x-patchpilot-sha256")).toBe(exitLink.sha256);
    expect(JSON.parse(bytes.toString("utf8")).run.runId).toBe(started.json.runId);
  }, 120_000);

  it("gives a device already being patched a run id too; that run ends with 170", async () => {
    const body = { client: "adatum", device: "adt-lnx-db01" };
    const [first, second] = await Promise.all([
      call("POST", `/api/v1/tenants/${A}/runs`, { key: keys.operator, body }),
      call("POST", `/api/v1/tenants/${A}/runs`, { key: keys.operator, body }),
    ]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(first.json.runId).not.toBe(second.json.runId);
    const codes = [
      (await waitForExitCode(first.json.runId, keys.operator)).exitCode,
      (await waitForExitCode(second.json.runId, keys.operator)).exitCode,
    ].sort();
    expect(codes).toEqual([0, 170]);
  }, 120_000);

  it("bounds waitSeconds", async () => {
    const r = await call("GET", `/api/v1/tenants/${A}/runs/${demoRun(A, "WIN-SERVER01")}?waitSeconds=121`, {
      key: keys.operator,
    });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].field).toBe("query.waitSeconds");
  });
});

describe("GET …/runs/{runId}/verify and the audit chain", () => {
  it("re-verifies a demo run, and a lock-contended one, and records each evidence read in a verifiable per-tenant chain", async () => {
    const before = (await stack.deps.auditLog.read(A)).length;
    const good = await call("GET", `/api/v1/tenants/${A}/runs/${demoRun(A, "FAB-SQL01")}/verify`, {
      key: keys.auditor,
    });
    expect(good.status).toBe(200);
    expect(good.json.ok).toBe(true);
    expect(good.json.artifacts.length).toBeGreaterThan(10);
    const events = await stack.deps.auditLog.read(A);
    expect(events.length).toBe(before + 1);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ action: "runs.verify", outcome: 200, actor: { kind: "apiKey", name: "audit-2026" } });
    expect(verifyAuditChain(A, events).ok).toBe(true);
    // Tenant B's chain holds none of tenant A's calls.
    const otherChain = await stack.deps.auditLog.read(B);
    expect(JSON.stringify(otherChain)).not.toContain(A);
  });
});

describe("the audit log under load", () => {
  it("answers 200 concurrent audited reads with one Auditor key without a 500, and chains exactly 200 entries", async () => {
    const runId = demoRun(A, "WIN-SERVER01");
    const before = (await stack.deps.auditLog.read(A)).length;
    const requestIds = Array.from({ length: 200 }, (_, i) => `load-${i}`);
    const answers = await Promise.all(
      requestIds.map((id) =>
        call("GET", `/api/v1/tenants/${A}/runs/${runId}/artifacts/01-init/run.json`, {
          key: keys.auditor,
          headers: { "x-request-id": id },
        }),
      ),
    );
    const statuses = new Map<number, number>();
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    expect(Object.fromEntries(statuses)).toEqual({ 200: 200 });
    const events = await stack.deps.auditLog.read(A);
    const added = events.slice(before);
    expect(added).toHaveLength(200);
    expect(new Set(added.map((e) => e.requestId))).toEqual(new Set(requestIds));
    expect(added.every((e) => e.action === "artifacts.read" && e.outcome === 200)).toBe(true);
    const verification = verifyAuditChain(A, events);
    expect(verification.problems).toEqual([]);
    expect(verification.ok).toBe(true);
  }, 120_000);
});

describe("GET /api/v1/tenants/{tenant}/devices/{device}/installs (the audit proof)", () => {
  it("proves an update the demo installed on its day, with an inclusion proof anyone can check, and records the question", async () => {
    const row = (await stack.deps.evidence.index.readInstalls(A, "WIN-SERVER01")).find(
      (r) => r.installed && r.kb !== undefined,
    );
    if (row?.kb === undefined) throw new Error("the demo installed nothing with a KB on WIN-SERVER01");
    const day = row.finishedAt.slice(0, 10);
    const r = await call("GET", `/api/v1/tenants/${A}/devices/WIN-SERVER01/installs?kb=${row.kb}&on=${day}`, {
      key: keys.auditor,
    });
    expect(r.status).toBe(200);
    expect(r.json.count).toBeGreaterThanOrEqual(1);
    const record = r.json.records.find((x: { runId: string }) => x.runId === row.runId);
    expect(record).toMatchObject({ kb: row.kb, installed: true, client: "fabrikam" });
    expect(record.verification.ok).toBe(true);
    expect(record.verification.checks.length).toBeGreaterThanOrEqual(5);
    // Independently: the leaf binds the artifact path and hash, and its audit path leads to the run's root.
    const leaf = hashLeaf(
      merkleLeafData({ path: record.evidence.artifactPath, sha256: record.evidence.sha256 }),
    ).toString("hex");
    expect(record.merkle.leafHash).toBe(leaf);
    expect(
      verifyHexProof(leaf, {
        leafIndex: record.merkle.leafIndex,
        treeSize: record.merkle.treeSize,
        auditPath: record.merkle.auditPath,
        root: record.merkle.root,
      }),
    ).toBe(true);
    const status = await call("GET", `/api/v1/tenants/${A}/runs/${row.runId}`, { key: keys.auditor });
    expect(record.merkle.root).toBe(status.json.merkleRoot);
    // The cited artifact downloads and hashes as claimed.
    const artifact = await fetch(`${base}${record.evidence.href}`, { headers: { "x-api-key": keys.auditor } });
    expect(
      createHash("sha256")
        .update(Buffer.from(await artifact.arrayBuffer()))
        .digest("hex"),
    ).toBe(record.evidence.sha256);
    const events = await stack.deps.auditLog.read(A);
    expect(events.some((e) => e.action === "installs.prove" && e.details?.kb === row.kb)).toBe(true);

    const otherDay = await call(
      "GET",
      `/api/v1/tenants/${A}/devices/WIN-SERVER01/installs?kb=${row.kb}&on=2020-01-01`,
      { key: keys.auditor },
    );
    expect(otherDay.json.count).toBe(0);
  });

  it("resolves the device name case-insensitively to the name its evidence uses, and says so", async () => {
    const row = (await stack.deps.evidence.index.readInstalls(A, "WIN-SERVER01")).find(
      (r) => r.installed && r.kb !== undefined,
    );
    if (row?.kb === undefined) throw new Error("the demo installed nothing with a KB on WIN-SERVER01");
    for (const asked of ["win-server01", "Win-Server01"]) {
      const r = await call("GET", `/api/v1/tenants/${A}/devices/${asked}/installs?kb=${row.kb}`, {
        key: keys.auditor,
      });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ device: "WIN-SERVER01", requestedDevice: asked });
      expect(r.json.records.some((x: Json) => x.runId === row.runId && x.verification.ok)).toBe(true);
    }
    const exact = await call("GET", `/api/v1/tenants/${A}/devices/WIN-SERVER01/installs?kb=${row.kb}`, {
      key: keys.auditor,
    });
    expect(exact.json.device).toBe("WIN-SERVER01");
    expect(exact.json.requestedDevice).toBeUndefined();
    // A name no device has in any letter case still answers "no record", naming the name asked.
    const none = await call("GET", `/api/v1/tenants/${A}/devices/no-such-host/installs`, { key: keys.auditor });
    expect(none.json).toMatchObject({ device: "no-such-host", count: 0 });
    const events = await stack.deps.auditLog.read(A);
    expect(events.some((e) => e.action === "installs.prove" && e.details?.device === "WIN-SERVER01")).toBe(true);
  });

  it("refuses bad questions with the field, other tenants with 403, and finds nothing across tenants", async () => {
    const both = await call(
      "GET",
      `/api/v1/tenants/${A}/devices/WIN-SERVER01/installs?kb=KB5012345&on=2026-01-20&from=2026-01-01`,
      { key: keys.auditor },
    );
    expect(both.status).toBe(400);
    expect(both.json.errors.map((e: { field: string }) => e.field).join(" ")).toMatch(/query\.(on|from)/);
    const badKb = await call("GET", `/api/v1/tenants/${A}/devices/WIN-SERVER01/installs?kb=5012345`, {
      key: keys.auditor,
    });
    expect(badKb.json.errors[0].field).toBe("query.kb");
    expect(
      (await call("GET", `/api/v1/tenants/${A}/devices/WIN-SERVER01/installs?kb=KB5012345`, { key: keys.otherTenant }))
        .status,
    ).toBe(403);
    expect(
      (await call("GET", `/api/v1/tenants/${A}/devices/WIN-SERVER01/installs?kb=KB5012345`, { key: keys.operator }))
        .status,
    ).toBe(403);
    const across = await call("GET", `/api/v1/tenants/${B}/devices/WIN-SERVER01/installs`, { key: keys.otherTenant });
    expect(across.status).toBe(200);
    expect(across.json.count).toBe(0);
    const traversal = await rawGet(`/api/v1/tenants/${A}/devices/..%2F..%2F${B}/installs`, keys.auditor);
    expect(traversal.status).toBe(400);
  });
});

describe("exports", () => {
  it("builds a tenant's evidence package by orchestration, links it, and the download verifies offline", async () => {
    const now = stack.host.now().getTime();
    const scope = {
      from: new Date(now - 86_400_000).toISOString(),
      to: new Date(now + 86_400_000).toISOString(),
      clients: ["fabrikam"],
    };
    expect((await call("POST", `/api/v1/tenants/${A}/exports`, { key: keys.operator, body: scope })).status).toBe(403);
    const inverted = await call("POST", `/api/v1/tenants/${A}/exports`, {
      key: keys.auditor,
      body: { from: scope.to, to: scope.from },
    });
    expect(inverted.status).toBe(400);
    expect(inverted.json.errors[0].field).toMatch(/^body\./);

    const created = await call("POST", `/api/v1/tenants/${A}/exports`, { key: keys.auditor, body: scope });
    expect(created.status).toBe(202);
    const location = created.headers.get("location") ?? "";
    let status: Json;
    for (let i = 0; i < 120; i += 1) {
      status = (await call("GET", location, { key: keys.auditor })).json;
      if (status.status === "completed" || status.status === "failed") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status.status).toBe("completed");
    expect(status.counts.runs).toBeGreaterThanOrEqual(5);
    expect(new Date(status.download.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const download = await fetch(status.download.href);
    expect(download.status).toBe(200);
    const zip = Buffer.from(await download.arrayBuffer());
    expect(createHash("sha256").update(zip).digest("hex")).toBe(status.sha256);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "pp-export-")), "export.zip");
    writeFileSync(file, zip);
    const verification = await verifyPackage(file);
    expect(verification.problems).toEqual([]);
    expect(verification.ok).toBe(true);
    // The package's OSCAL assessment results validate against NIST's schema and carry each run's decision.
    const oscal: Json = JSON.parse(((await readZip(file)).get(PACKAGE_FILES.oscal) as Buffer).toString("utf8"));
    expect(oscalErrors(oscal)).toEqual([]);
    const results: Json[] = oscal["assessment-results"].results;
    expect(results).toHaveLength(status.counts.runs);
    for (const result of results)
      expect(result.observations.some((o: Json) => /^Exit code \d+ \(/.test(o.title))).toBe(true);
    // Only the requested client, and nothing of the other tenant.
    expect(zip.includes(Buffer.from("adatum/"))).toBe(false);
    expect(zip.includes(Buffer.from("northwind"))).toBe(false);

    const exportId = created.json.exportId as string;
    expect((await call("GET", `/api/v1/tenants/${B}/exports/${exportId}`, { key: keys.otherTenant })).status).toBe(404);
    expect((await call("GET", `/api/v1/tenants/${A}/exports/${exportId}`, { key: keys.otherTenant })).status).toBe(403);
    const events = await stack.deps.auditLog.read(A);
    expect(events.filter((e) => e.action === "exports.create" && e.details?.exportId === exportId)).toHaveLength(1);
  }, 120_000);
});

describe("the tenant's transparency log", () => {
  it("publishes its key, signed checkpoints (latest and by size) and consistency proofs between them", async () => {
    const vkey = await call("GET", `/api/v1/tenants/${A}/transparency/key`, { key: keys.auditor });
    expect(vkey.status).toBe(200);
    const verifier = parseVerifierKey(vkey.text.trim());
    const latest = await call("GET", `/api/v1/tenants/${A}/transparency/checkpoint`, { key: keys.auditor });
    expect(latest.status).toBe(200);
    const opened = openNote(latest.text, [verifier]);
    expect(opened.ok).toBe(true);
    const head = parseCheckpoint(noteText(latest.text));
    // The demo sealed several runs of this tenant: one leaf each.
    expect(head.size).toBeGreaterThan(1);
    const first = await call("GET", `/api/v1/tenants/${A}/transparency/checkpoint?size=1`, { key: keys.auditor });
    expect(first.status).toBe(200);
    const old = parseCheckpoint(noteText(first.text));
    const proof = await call("GET", `/api/v1/tenants/${A}/transparency/consistency?from=1&to=${head.size}`, {
      key: keys.auditor,
    });
    expect(proof.status).toBe(200);
    const nodes = (proof.json.proof as string[]).map((h) => Buffer.from(h, "hex"));
    expect(verifyConsistency(1, head.size, old.root, head.root, nodes)).toBe(true);
    // A proof does not verify against a root it was not made for.
    expect(verifyConsistency(1, head.size, head.root, head.root, nodes)).toBe(false);
    const bad = await call("GET", `/api/v1/tenants/${A}/transparency/consistency?from=${head.size + 5}`, {
      key: keys.auditor,
    });
    expect(bad.status).toBe(400);
  });
});

describe("the OpenAPI document declares what the routes send", () => {
  it("serves every kind of artifact with a declared content type and the digest headers", async () => {
    const status = await call("GET", `/api/v1/tenants/${A}/runs/${demoRun(A, "WIN-SERVER01")}`, { key: keys.auditor });
    const links: { path: string; href: string }[] = status.json.evidence;
    // One artifact of each kind the run has: JSON, JSON Lines, HTML, text transcripts.
    const kinds = new Map<string, string>();
    for (const link of links) kinds.set(/\.([a-z]+)$/.exec(link.path)?.[1] ?? "", link.href);
    expect([...kinds.keys()]).toEqual(expect.arrayContaining(["json", "jsonl", "html", "txt"]));
    for (const href of kinds.values()) expect((await call("GET", href, { key: keys.auditor })).status).toBe(200);
  });

  it("for every route exercised in this file: status, content type and response headers", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const { problems, checked, operations } = checkExchanges(doc, exchanges);
    expect(problems).toEqual([]);
    // Every route of the API was exercised above, but the management routes (policies, windows, compliance), which
    // test/integration/http/managementApi.test.ts exercises and checks the same way.
    const here = operations.filter((o) => o.tag === undefined || !MANAGEMENT_TAGS.has(o.tag)).map((o) => o.key);
    expect([...checked].filter((k) => here.includes(k)).sort()).toEqual(here.sort());
  });
});
