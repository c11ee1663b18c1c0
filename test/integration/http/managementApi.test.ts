import { createHash } from "node:crypto";
import path from "node:path";
import { verifyAuditChain } from "../../../lib/api/audit/auditLog";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { checkExchanges, recordExchange, type Exchange } from "../../harness/openApiExchanges";

// The management API against the local stack (Azurite, fleet emulator, local Durable host): policies edited through
// it change the next run's effective policy, with provenance and an audit entry; stale ETags get 412; invalid
// documents are refused naming the field.

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const A = "contoso-msp";
const B = "northwind-it";
const DEVICE_POLICY = `/api/v1/tenants/${A}/clients/fabrikam/devices/WIN-SERVER01/policy`;

let stack: LocalStack;
let base: string;
const keys = { author: "", operator: "", auditor: "", otherAuthor: "" };

// Response bodies are read field by field below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Every answer the API gave in this file, checked against the OpenAPI document (last test). */
const exchanges: Exchange[] = [];

async function call(
  method: string,
  urlPath: string,
  options: { key?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; json: Json; headers: Headers; text: string }> {
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
  return { status: response.status, json, headers: response.headers, text };
}

/** RFC 8785-style canonical JSON (sorted keys, no spaces), written here independently of lib/evidence. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}
const sha = (value: unknown): string => createHash("sha256").update(canonical(value)).digest("hex");

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", httpPort: 0 });
  base = stack.host.httpBaseUrl ?? "";
  const now = stack.host.now();
  const issue = async (tenant: string, name: string, roles: ("Operator" | "Auditor" | "PolicyAuthor")[]) =>
    (await stack.deps.apiKeys.issue(tenant, { name, roles }, now)).key;
  keys.author = await issue(A, "policy-author", ["PolicyAuthor"]);
  keys.operator = await issue(A, "rmm", ["Operator"]);
  keys.auditor = await issue(A, "auditor", ["Auditor"]);
  keys.otherAuthor = await issue(B, "nw-author", ["PolicyAuthor"]);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("policy layers", () => {
  it("edits a device layer with If-Match, removes an inherited app, audits it, and the next run uses it", async () => {
    const read = await call("GET", DEVICE_POLICY, { key: keys.author });
    expect(read.status).toBe(200);
    const etag = read.headers.get("etag");
    expect(etag).toBeTruthy();
    expect(read.json.etag).toBe(etag);
    // Seeded as a plain blob before versioning: version 0.
    expect(read.json.version).toBe(0);
    expect(read.json.sha256).toBe(sha(read.json.document));

    const next = { ...read.json.document, update: { ...read.json.document.update, deferralDays: 0 } };
    next.remove = { apps: ["Portal"] };

    // No precondition: 428, nothing saved.
    const blind = await call("PUT", DEVICE_POLICY, { key: keys.author, body: next });
    expect(blind.status).toBe(428);
    expect(blind.headers.get("content-type")).toContain("application/problem+json");
    expect(blind.json.errors[0].field).toBe("header.if-match");

    const saved = await call("PUT", DEVICE_POLICY, { key: keys.author, body: next, headers: { "if-match": etag! } });
    expect(saved.status).toBe(200);
    expect(saved.json.version).toBe(1);
    expect(saved.json.sha256).toBe(sha(next));
    expect(saved.json.previousSha256).toBe(read.json.sha256);
    expect(saved.headers.get("etag")).not.toBe(etag);

    // The same (now stale) ETag again: 412 with a problem body, nothing saved.
    const stale = await call("PUT", DEVICE_POLICY, {
      key: keys.author,
      body: { ...next, diagnostics: { required: true } },
      headers: { "if-match": etag! },
    });
    expect(stale.status).toBe(412);
    expect(stale.headers.get("content-type")).toContain("application/problem+json");
    expect(stale.json).toMatchObject({ status: 412, type: "https://patchpilot.dev/problems/stale-etag" });
    const after = await call("GET", DEVICE_POLICY, { key: keys.auditor });
    expect(after.json.sha256).toBe(sha(next));

    // History: version 1 replaced the uploaded document; the version reads back exactly as saved.
    const history = await call("GET", `${DEVICE_POLICY}/versions`, { key: keys.auditor });
    expect(history.status).toBe(200);
    expect(history.json.versions).toHaveLength(1);
    expect(history.json.versions[0]).toMatchObject({ version: 1, sha256: sha(next), previousSha256: read.json.sha256 });
    const v1 = await call("GET", `${DEVICE_POLICY}/versions/1`, { key: keys.auditor });
    expect(v1.json.document).toEqual(next);

    // Audit: who, what, before/after hashes, in an intact chain.
    const events = await stack.deps.auditLog.read(A);
    const saves = events.filter((e) => e.action === "policies.save");
    // The refused attempts are in the chain too: who tried what, and the answer.
    expect(saves.map((e) => e.outcome)).toEqual([428, 200, 412]);
    expect(saves[1]).toMatchObject({
      actor: { kind: "apiKey", name: "policy-author" },
      resource: DEVICE_POLICY,
      details: { beforeSha256: read.json.sha256, afterSha256: sha(next), version: 1 },
    });
    expect(verifyAuditChain(A, events).ok).toBe(true);

    // Dry run: the app is gone, and provenance names the layer that removed it.
    const preview = await call("GET", `/api/v1/tenants/${A}/clients/fabrikam/devices/WIN-SERVER01/effective-policy`, {
      key: keys.auditor,
    });
    expect(preview.status).toBe(200);
    expect(preview.json.policy.appValidation.apps.map((a: { name: string }) => a.name)).not.toContain("Portal");
    const deviceLayer = `device:${A}/fabrikam/WIN-SERVER01`;
    expect(preview.json.provenance["removed.appValidation.apps[Portal]"]).toBe(deviceLayer);
    expect(preview.json.provenance["update.deferralDays"]).toBe(deviceLayer);

    // The next run resolves the same policy and records the same provenance in its sealed run.json.
    const started = await call("POST", `/api/v1/tenants/${A}/runs`, {
      key: keys.operator,
      body: { client: "fabrikam", device: "WIN-SERVER01" },
    });
    expect(started.status).toBe(202);
    let done: Json;
    for (let i = 0; i < 30 && done === undefined; i += 1) {
      const r = await call("GET", `/api/v1/tenants/${A}/runs/${started.json.runId}?waitSeconds=20`, {
        key: keys.operator,
      });
      if (r.json.exitCode !== undefined) done = r.json;
    }
    expect(done).toBeDefined();
    const runJson = await call("GET", `/api/v1/tenants/${A}/runs/${started.json.runId}/artifacts/01-init/run.json`, {
      key: keys.auditor,
    });
    expect(runJson.status).toBe(200);
    expect(runJson.json.policy).toEqual(preview.json.policy);
    expect(runJson.json.policyProvenance).toEqual(preview.json.provenance);
  }, 240_000);

  it("creates a layer only with If-None-Match: *, and refuses a second create with 412", async () => {
    const p = `/api/v1/tenants/${A}/clients/adatum/devices/ADT-NEW01/policy`;
    const layer = {
      schemaVersion: 1,
      scope: { level: "device", tenant: A, client: "adatum", device: "ADT-NEW01" },
      update: { rebootPolicy: "Never" },
    };
    const created = await call("PUT", p, { key: keys.author, body: layer, headers: { "if-none-match": "*" } });
    expect(created.status).toBe(201);
    expect(created.json.version).toBe(1);
    const again = await call("PUT", p, { key: keys.author, body: layer, headers: { "if-none-match": "*" } });
    expect(again.status).toBe(412);
  });

  it("refuses at save time what the run would refuse: unknown check type, unknown field, a removal of nothing", async () => {
    const p = `/api/v1/tenants/${A}/clients/lab/policy`;
    const scope = { level: "client", tenant: A, client: "lab" };
    const unknownCheck = await call("PUT", p, {
      key: keys.author,
      headers: { "if-none-match": "*" },
      body: {
        schemaVersion: 1,
        scope,
        appValidation: { apps: [{ name: "Erp", checks: [{ type: "ping", name: "up", host: "erp" }] }] },
      },
    });
    expect(unknownCheck.status).toBe(400);
    expect(unknownCheck.json.errors.map((e: { field: string }) => e.field)).toContain(
      "body.appValidation.apps.0.checks.0.type",
    );
    const typo = await call("PUT", p, {
      key: keys.author,
      headers: { "if-none-match": "*" },
      body: { schemaVersion: 1, scope, update: { deferalDays: 3 } },
    });
    expect(typo.status).toBe(400);
    expect(JSON.stringify(typo.json.errors)).toContain("deferalDays");
    const removeNothing = await call("PUT", p, {
      key: keys.author,
      headers: { "if-none-match": "*" },
      body: { schemaVersion: 1, scope, remove: { apps: ["Portal"] } },
    });
    expect(removeNothing.status).toBe(400);
    expect(removeNothing.json.errors[0].field).toBe("body.remove.apps[0]");
    const wrongScope = await call("PUT", p, {
      key: keys.author,
      headers: { "if-none-match": "*" },
      body: { schemaVersion: 1, scope: { ...scope, client: "fabrikam" } },
    });
    expect(wrongScope.status).toBe(400);
    expect(wrongScope.json.errors[0].field).toBe("body.scope");
    // None of these saved anything.
    expect((await call("GET", p, { key: keys.author })).status).toBe(404);
  });

  it("gives PolicyAuthor write, Auditor read-only, Operator nothing, and no other tenant anything", async () => {
    expect((await call("GET", DEVICE_POLICY, { key: keys.operator })).status).toBe(403);
    const put = (key: string) =>
      call("PUT", `/api/v1/tenants/${A}/policy`, {
        key,
        headers: { "if-none-match": "*" },
        body: { schemaVersion: 1, scope: { level: "tenant", tenant: A } },
      });
    expect((await put(keys.auditor)).status).toBe(403);
    expect((await put(keys.operator)).status).toBe(403);
    expect((await put(keys.otherAuthor)).status).toBe(403);
    const authorStartsRun = await call("POST", `/api/v1/tenants/${A}/runs`, {
      key: keys.author,
      body: { client: "fabrikam", device: "WIN-SERVER01" },
    });
    expect(authorStartsRun.status).toBe(403);
    const list = await call("GET", `/api/v1/tenants/${A}/policies`, { key: keys.auditor });
    expect(list.status).toBe(200);
    expect(list.json.layers.map((l: { name: string }) => l.name)).toContain(`layers/tenants/${A}.json`);
  });
});

describe("windows and rings", () => {
  const W = `/api/v1/tenants/${A}/windows/fabrikam-nightly`;

  it("refuses an invalid window naming the field, and a ring order that cycles", async () => {
    const read = await call("GET", W, { key: keys.author });
    expect(read.status).toBe(200);
    const etag = read.headers.get("etag")!;
    const short = await call("PUT", W, {
      key: keys.author,
      headers: { "if-match": etag },
      body: { ...read.json.document, durationMinutes: 30 },
    });
    expect(short.status).toBe(400);
    expect(short.json.errors.map((e: { field: string }) => e.field)).toContain("body.durationMinutes");
    // Long enough for the schema, too short for the clients' install estimate (the default 120 minutes): no install
    // could ever start, so the window is refused at save time, naming the field and the layer that set the estimate.
    const noInstallFits = await call("PUT", W, {
      key: keys.author,
      headers: { "if-match": etag },
      body: { ...read.json.document, durationMinutes: 90 },
    });
    expect(noInstallFits.status).toBe(400);
    const fit = noInstallFits.json.errors.find((e: { field: string }) => e.field === "body.durationMinutes");
    expect(fit.reason).toMatch(/maxInstallMinutes = \d+ \(set by /);
    const cycle = await call("PUT", `${W}/rings`, {
      key: keys.author,
      headers: { "if-match": etag },
      body: { rings: [{ name: "dev" }, { name: "prod" }, { name: "dev" }] },
    });
    expect(cycle.status).toBe(400);
    expect(cycle.json.errors[0].field).toBe("body.rings[2].name");
    // Nothing changed.
    expect((await call("GET", W, { key: keys.author })).headers.get("etag")).toBe(etag);
  });

  it("saves a scan window without a recurrence as daily, and refuses a patch window without one naming the field", async () => {
    // Azure Update Manager's periodic assessment runs every 24 hours: a scan window's default is daily.
    const scanPath = `/api/v1/tenants/${A}/windows/adatum-daily-scan`;
    const { recurrence: _dropped, ...rest } = (await call("GET", W, { key: keys.author })).json.document;
    const scan = { ...rest, id: "adatum-daily-scan", clients: ["adatum"], mode: "scan" };
    const created = await call("PUT", scanPath, { key: keys.author, headers: { "if-none-match": "*" }, body: scan });
    expect(created.status).toBe(201);
    const saved = await call("GET", scanPath, { key: keys.auditor });
    expect(saved.json.document.recurrence).toEqual({ frequency: "Daily" });
    // The version's hash is of the document with its recurrence written out.
    expect(saved.json.sha256).toBe(sha(saved.json.document));
    const patchPath = `/api/v1/tenants/${A}/windows/adatum-no-recurrence`;
    const patch = await call("PUT", patchPath, {
      key: keys.author,
      headers: { "if-none-match": "*" },
      body: { ...scan, id: "adatum-no-recurrence", mode: "patch" },
    });
    expect(patch.status).toBe(400);
    expect(patch.json.errors.map((e: { field: string }) => e.field)).toEqual(["body.recurrence"]);
    expect((await call("GET", patchPath, { key: keys.auditor })).status).toBe(404);
  });

  it("replaces the ring order as a new window version, and previews the devices the window targets now", async () => {
    const rings = await call("GET", `${W}/rings`, { key: keys.author });
    expect(rings.json.rings.map((r: { name: string }) => r.name)).toEqual(["dev", "prod"]);
    const saved = await call("PUT", `${W}/rings`, {
      key: keys.author,
      headers: { "if-match": rings.headers.get("etag")! },
      body: {
        rings: [
          { name: "dev", maxFailurePercent: 0 },
          { name: "prod", waitAfterPreviousMinutes: 60 },
        ],
      },
    });
    expect(saved.status).toBe(200);
    const window = await call("GET", W, { key: keys.auditor });
    expect(window.json.document.rings[1]).toMatchObject({ name: "prod", waitAfterPreviousMinutes: 60 });
    const versions = await call("GET", `${W}/versions`, { key: keys.auditor });
    expect(versions.json.versions.map((v: { version: number }) => v.version)).toEqual([1]);

    const targets = await call("GET", `${W}/targets`, { key: keys.auditor });
    expect(targets.status).toBe(200);
    const names = targets.json.targets.map((t: { device: { name: string } }) => t.device.name);
    expect(names).toContain("WIN-SERVER01");
    // Only this tenant's devices.
    expect(targets.json.targets.every((t: { client: string }) => ["fabrikam", "adatum"].includes(t.client))).toBe(true);
  });

  it("lists the windows and documents every route in the OpenAPI document", async () => {
    const list = await call("GET", `/api/v1/tenants/${A}/windows`, { key: keys.auditor });
    expect(list.json.windows.map((w: { id: string }) => w.id)).toEqual(
      expect.arrayContaining(["fabrikam-nightly", "adatum-weekend"]),
    );
    const doc = await call("GET", "/api/v1/openapi.json");
    const put = doc.json.paths["/v1/tenants/{tenant}/clients/{client}/devices/{device}/policy"].put;
    expect(put["x-patchpilot-permission"]).toBe("policies:write");
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(["200", "201", "412", "428"]));
    expect(put.requestBody.content["application/json"].schema.additionalProperties).toBe(false);
    expect(doc.json.paths["/v1/tenants/{tenant}/windows/{windowId}/versions/{version}"].get.parameters).toHaveLength(3);
  });
});

describe("the OpenAPI document declares what the management routes send", () => {
  it("for every answer given in this file: status, content type and response headers", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const { problems, checked } = checkExchanges(doc, exchanges);
    expect(problems).toEqual([]);
    expect(checked.size).toBeGreaterThan(10);
  });
});
