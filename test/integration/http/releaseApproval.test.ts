import { checkExchanges, recordExchange, type Exchange } from "../../harness/openApiExchanges";
import { verifyAuditChain } from "../../../lib/api/audit/auditLog";
import { onDemandOccurrence } from "../../../lib/domain/window/occurrences";
import { windowRunInput } from "../../../lib/domain/window/windowRunInput";
import { openEvidenceSession } from "../../../lib/evidence/evidenceSession";
import { readPromotion } from "../../../lib/release/releaseStore";
import { WindowReportSchema, type WindowReport } from "../../../lib/schemas/window";
import { parseScenario } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { ORCHESTRATORS } from "../../../orchestrators/activityNames";

// The manual promotion gate through the HTTP API on the local stack: a staging window that requires approval is held
// (and says so) until a principal with the ReleaseApprover role approves dev's release; the approval is sealed
// beside the release, audited in the tenant's chain, idempotent per principal, and refused to other roles.

const A = "contoso-msp";
const T0 = new Date("2026-04-06T01:50:00Z");
const win = (id: string, ring: string, release: Record<string, unknown>) => ({
  id,
  tenant: A,
  clients: [],
  timeZone: "UTC",
  recurrence: { frequency: "Daily" },
  startTime: "02:00",
  durationMinutes: 240,
  rings: [{ name: ring }],
  maxConcurrency: "100%",
  maxErrors: 5,
  release,
});
const dev = (name: string, window: string, ring: string) => ({
  name,
  os: "windows",
  tenant: A,
  client: "alpha",
  window,
  ring,
  resourceGroup: "rg-rel",
  updates: [
    {
      updateId: "5c1e0009-2026-4a01-9c1d-000000000009",
      kb: "KB5070009",
      title: "2026-04 update KB5070009",
      classification: "Security Updates",
      severity: "Important",
      sizeBytes: 10_000_000,
      rebootBehavior: "NeverReboots",
      installSeconds: 60,
    },
  ],
});
const scenario = parseScenario({
  name: "release-approval",
  subscriptions: [
    { id: "00000000-0000-4000-8000-000000000024", resourceGroups: [{ name: "rg-rel", location: "westeurope" }] },
  ],
  tenants: [{ id: A, displayName: "Contoso" }],
  clients: [{ tenant: A, client: "alpha", displayName: "Alpha", timeZone: "UTC", windows: ["ap-dev", "ap-stg"] }],
  windows: [
    win("ap-dev", "dev", {}),
    win("ap-stg", "staging", { follows: { ring: "dev" }, gates: { requireApproval: true } }),
  ],
  policies: [{ scope: { level: "tenant", tenant: A }, update: { deferralDays: 0 }, diagnostics: { required: false } }],
  devices: [dev("ALPHA-DEV9", "ap-dev", "dev"), dev("ALPHA-STG9", "ap-stg", "staging")],
});

let stack: LocalStack;
const keys = { approver: "", operator: "" };

async function runWindowAt(id: string, at: Date): Promise<WindowReport> {
  const now = stack.host.now().getTime();
  if (at.getTime() > now) stack.host.advanceTime(at.getTime() - now);
  const w = (await stack.deps.policies.listWindows()).find((x) => x.id === id);
  if (w === undefined) throw new Error(`no window ${id}`);
  const o = onDemandOccurrence(w, stack.host.now());
  await stack.host.client.startNew(ORCHESTRATORS.maintenanceWindow, {
    instanceId: o.instanceId,
    input: windowRunInput(w, o, "on-demand"),
  });
  expect((await stack.host.waitForInstance(o.instanceId)).runtimeStatus).toBe("Completed");
  const read = await openEvidenceSession(stack.deps.evidence, {
    tenant: A,
    client: "_windows",
    device: id,
    runId: o.instanceId,
  }).readBytes("window-report.json");
  expect(read.read.status).toBe("verified");
  return WindowReportSchema.parse(JSON.parse(read.bytes?.toString("utf8") ?? "null"));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
async function call(
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${stack.host.httpBaseUrl}${path}`, {
    method,
    headers: { "x-api-key": key, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  recordExchange(exchanges, method, path, response.status, response.headers.entries());
  return { status: response.status, json: (await response.json()) as Json };
}

/** Every answer given in this file, checked against the OpenAPI document (last test). */
const exchanges: Exchange[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ scenario, clock: "virtual", startTime: T0, httpPort: 0 });
  const issue = async (name: string, roles: ("Operator" | "ReleaseApprover")[]) =>
    (await stack.deps.apiKeys.issue(A, { name, roles }, stack.host.now())).key;
  keys.approver = await issue("release-approver", ["ReleaseApprover"]);
  keys.operator = await issue("operator", ["Operator"]);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("manual approval gate", () => {
  let releaseId = "";

  it("holds the following ring until the release is approved, then promotes it with the approver sealed", async () => {
    await runWindowAt("ap-dev", new Date("2026-04-06T02:00:00Z"));
    const list = await call("GET", `/api/v1/tenants/${A}/releases`, keys.approver);
    expect(list.status).toBe(200);
    expect(list.json.releases).toHaveLength(1);
    expect(list.json.releases[0]).toMatchObject({ ring: "dev", current: true, updates: ["KB5070009"] });
    releaseId = list.json.releases[0].id;

    const held = await runWindowAt("ap-stg", new Date("2026-04-07T02:00:00Z"));
    expect(held.rings[0]).toMatchObject({ started: false });
    expect(held.rings[0]?.reason).toContain("approval");
    const first = await readPromotion(stack.deps.evidence, A, "ap-stg", held.occurrence.instanceId, "staging", 1);
    expect(first?.value.gates.find((g) => g.gate === "approval")).toMatchObject({ met: false });

    // Only the approver role may approve; a second approval by the same principal returns the first.
    expect((await call("POST", `/api/v1/tenants/${A}/releases/${releaseId}/approvals`, keys.operator, {})).status).toBe(
      403,
    );
    expect(
      (await call("POST", `/api/v1/tenants/${A}/releases/rel-none-20260101-00000000/approvals`, keys.approver, {}))
        .status,
    ).toBe(404);
    const approved = await call("POST", `/api/v1/tenants/${A}/releases/${releaseId}/approvals`, keys.approver, {
      comment: "dev soaked fine",
    });
    expect(approved.status).toBe(201);
    expect(approved.json).toMatchObject({ release: { id: releaseId }, created: true });
    expect(approved.json.principal).toContain("release-approver");
    stack.host.advanceTime(60_000);
    const again = await call("POST", `/api/v1/tenants/${A}/releases/${releaseId}/approvals`, keys.approver, {});
    expect(again.status).toBe(200);
    expect(again.json.at).toBe(approved.json.at);

    const events = await stack.deps.auditLog.read(A);
    const approvals = events.filter((e) => e.action === "releases.approve");
    // Every call past the permission check is in the chain, the refused lookup too (the 403 never got that far).
    expect(approvals.map((e) => e.outcome)).toEqual([404, 201, 200]);
    expect(approvals.find((e) => e.outcome === 201)).toMatchObject({
      actor: { kind: "apiKey", name: "release-approver" },
      details: { releaseId, created: true },
    });
    expect(verifyAuditChain(A, events).ok).toBe(true);

    const promoted = await runWindowAt("ap-stg", new Date("2026-04-08T02:00:00Z"));
    expect(promoted.rings[0]).toMatchObject({ started: true });
    expect(promoted.totals.byExitCode).toEqual({ "0": 1 });
    const decision = await readPromotion(
      stack.deps.evidence,
      A,
      "ap-stg",
      promoted.occurrence.instanceId,
      "staging",
      1,
    );
    expect(decision?.value).toMatchObject({ promoted: true, release: { id: releaseId } });
    expect(decision?.value.approvals).toHaveLength(1);
    expect(decision?.value.approvals[0]?.principal).toBe(approved.json.principal);
    expect(decision?.value.approvals[0]?.sha256).toBe(approved.json.evidence.sha256);
  }, 300_000);
});

describe("the OpenAPI document declares what the release routes send", () => {
  it("for every answer given in this file, and both routes were exercised", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json", "")).json;
    const { problems, checked, operations } = checkExchanges(doc, exchanges);
    expect(problems).toEqual([]);
    const releases = operations.filter((o) => o.tag === "releases").map((o) => o.key);
    expect(releases.sort()).toEqual([
      "GET /v1/tenants/{tenant}/releases",
      "POST /v1/tenants/{tenant}/releases/{releaseId}/approvals",
    ]);
    for (const key of releases) expect(checked.has(key)).toBe(true);
  });
});
