import { HttpRequest, HttpResponse, InvocationContext } from "@azure/functions";
import { z } from "zod";
import { ApiProblem } from "../../../lib/api/apiProblem";
import { AuditLog, verifyAuditChain } from "../../../lib/api/audit/auditLog";
import { ApiKeyStore } from "../../../lib/api/auth/apiKeyStore";
import { TenantIdSchema } from "../../../lib/schemas/common";
import type { AppDeps, HttpDefinition } from "../../../functions/definitions";
import { defineApiRoute, toHttpDefinition } from "../../../functions/http/api/apiRoute";
import { testConfig, testStorage, uniqueRunId } from "../../harness/storage";

/**
 * The audit step of every audited route, through the real route adapter and a real AuditLog on Azurite: failed calls
 * are recorded with the status they got, and a chain head that cannot be won answers 503 + Retry-After, never 500.
 */
describe("audited routes (Azurite)", () => {
  let deps: AppDeps;
  let key: string;
  let tenant: string;
  const clock = (): Date => new Date(Date.UTC(2026, 0, 20, 9, 0));

  beforeAll(async () => {
    const storage = await testStorage();
    tenant = uniqueRunId("audited")
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-");
    const apiKeys = new ApiKeyStore(storage.tables.apiKeys);
    key = (await apiKeys.issue(tenant, { name: "auditor", roles: ["Auditor"] }, clock())).key;
    // Only what the adapter uses; the rest of AppDeps is never touched by these routes.
    deps = { config: testConfig(), apiKeys, auditLog: new AuditLog(storage.tables.auditLog), clock } as AppDeps;
  });

  const route = (name: string, handle: () => Promise<never> | Promise<{ status: number; json: unknown }>) =>
    toHttpDefinition(
      defineApiRoute({
        name,
        method: "GET",
        path: "tenants/{tenant}/things",
        summary: name,
        tag: "test",
        permission: "evidence:read",
        params: z.object({ tenant: TenantIdSchema }),
        query: z.strictObject({}),
        audit: "things.read",
        responses: { 200: { description: "ok" } },
        handle,
      }),
      () => deps,
    );

  async function invoke(definition: HttpDefinition, query = ""): Promise<HttpResponse> {
    const request = new HttpRequest({
      method: "GET",
      url: `http://localhost/api/v1/tenants/${tenant}/things${query}`,
      headers: { "x-api-key": key, "x-request-id": `req-${definition.name}${query.length}` },
      params: { tenant },
    });
    const context = new InvocationContext({
      functionName: definition.name,
      invocationId: "t",
      logHandler: () => undefined,
    });
    const result = await definition.handler(request, context);
    return result as HttpResponse;
  }

  it("records a call whose handler failed (500), one refused with 400 and one answered 200", async () => {
    const before = (await deps.auditLog.read(tenant)).length;
    const crashed = await invoke(
      route("crash", () => Promise.reject(new TypeError("cannot read properties of undefined"))),
    );
    expect(crashed.status).toBe(500);
    const refused = await invoke(route("refuse", () => Promise.reject(new ApiProblem(404, "Not Found"))));
    expect(refused.status).toBe(404);
    const badQuery = await invoke(
      route("ok", () => Promise.resolve({ status: 200, json: {} })),
      "?unknown=1",
    );
    expect(badQuery.status).toBe(400);
    const ok = await invoke(route("ok", () => Promise.resolve({ status: 200, json: {} })));
    expect(ok.status).toBe(200);
    const events = await deps.auditLog.read(tenant);
    expect(events.slice(before).map((e) => e.outcome)).toEqual([500, 404, 400, 200]);
    expect(verifyAuditChain(tenant, events).ok).toBe(true);
  });

  it("answers 503 with Retry-After, serving nothing, when the chain head cannot be won", async () => {
    const table = (await testStorage()).tables.auditLog;
    const head = (await deps.auditLog.head(tenant)) ?? { seq: -1 };
    // A row already at the next seq: every attempt to append loses, as under unbounded contention.
    await table.createEntity({ partitionKey: tenant, rowKey: String(head.seq + 1).padStart(12, "0"), event: "{}" });
    const saved = deps.auditLog;
    deps = { ...deps, auditLog: new AuditLog(table, { maxAttempts: 3, backoffMs: 1 }) };
    try {
      const r = await invoke(route("busy", () => Promise.resolve({ status: 200, json: { secret: "evidence" } })));
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("1");
      expect(r.headers.get("content-type")).toBe("application/problem+json");
      expect(await r.text()).not.toContain("evidence");
    } finally {
      deps = { ...deps, auditLog: saved };
    }
  });
});
