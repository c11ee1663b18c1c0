import path from "node:path";
import { onDemandOccurrence } from "../../../lib/domain/window/occurrences";
import { windowRunInput } from "../../../lib/domain/window/windowRunInput";
import { WindowReportSchema } from "../../../lib/schemas/window";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { ORCHESTRATORS } from "../../../orchestrators/activityNames";
import type { WindowRunResult } from "../../../orchestrators/maintenanceWindow";
import { testWindow } from "../../harness/testWindow";

// Cancel of a running window occurrence through the HTTP API on the local stack: the command reaches the window and
// its running client rollout as a Durable external event; the rollout applies it between waves, so the device
// already started finishes and the devices not started are reported cancelled (and, by the emulator's own install
// records, never ran an install).

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");
const A = "contoso-msp";
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual", httpPort: 0 });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it("cancels a running window occurrence: started devices finish, the rest are cancelled, audited and reported", async () => {
  const base = stack.host.httpBaseUrl ?? "";
  const key = (await stack.deps.apiKeys.issue(A, { name: "rmm", roles: ["Operator"] }, stack.host.now())).key;
  // adatum's devices carry patchpilot:window=adatum-weekend; one at a time, so there are waves to cancel between.
  const window = testWindow({ id: "adatum-weekend", clients: ["adatum"], maxConcurrency: 1, maxErrors: "100%" });
  const occurrence = onDemandOccurrence(window, stack.host.now());
  const installsBefore = new Map(stack.fleet.devices.map((d) => [d.name, d.state.installRecords.length]));
  await stack.host.client.startNew(ORCHESTRATORS.maintenanceWindow, {
    instanceId: occurrence.instanceId,
    input: windowRunInput(window, occurrence, "on-demand"),
  });
  // Wait (real time) until the client rollout runs, so the command reaches it too.
  const rollout = `${occurrence.instanceId}:prod:adatum`;
  for (let i = 0; i < 200 && stack.host.getStatus(rollout)?.runtimeStatus !== "Running"; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));

  const url = `${base}/api/v1/tenants/${A}/windows/adatum-weekend/occurrences/${occurrence.instanceId}/cancel`;
  const response = await fetch(url, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify({ reason: "stop the weekend run" }),
  });
  expect(response.status).toBe(202);
  const accepted = (await response.json()) as { raisedTo: string[] };
  expect(accepted.raisedTo).toEqual([occurrence.instanceId, rollout]);
  // Another tenant's or window's occurrence cannot be named through this path.
  const foreign = await fetch(`${base}/api/v1/tenants/${A}/windows/other/occurrences/${occurrence.instanceId}/cancel`, {
    method: "POST",
    headers: { "x-api-key": key },
  });
  expect(foreign.status).toBe(404);

  const status = await stack.host.waitForInstance(occurrence.instanceId);
  const result = status.output as WindowRunResult;
  const bytes = await stack.deps.evidence.store.readBlob(result.reportPath);
  const report = WindowReportSchema.parse(JSON.parse(Buffer.from(bytes ?? new Uint8Array()).toString("utf8")));
  const outcomes = report.rings.flatMap((r) => r.rollouts.flatMap((x) => x.outcomes));
  const completed = outcomes.filter((o) => o.status === "completed").map((o) => o.device);
  const cancelled = outcomes.filter((o) => o.status === "cancelled").map((o) => o.device);
  expect(completed.length).toBeGreaterThanOrEqual(1);
  expect(cancelled.length).toBeGreaterThanOrEqual(1);
  expect(completed.length + cancelled.length).toBe(5);
  expect(report.totals.cancelled).toBe(cancelled.length);
  for (const device of cancelled) {
    const sim = stack.fleet.devices.find((d) => d.name === device);
    expect([device, sim?.state.installRecords.length]).toEqual([device, installsBefore.get(device)]);
  }
  expect(report.control?.map((c) => [c.scope, c.action, c.to])).toEqual(
    expect.arrayContaining([["rollout prod/adatum", "cancel", "cancelled"]]),
  );
  const audit = (await stack.deps.auditLog.read(A)).filter((e) => e.action === "windows.control");
  expect(audit.map((e) => e.outcome)).toEqual([202, 404]);
}, 240_000);

it("pauses a running window occurrence: no device starts after the pause, and a pause that outlasts the cutoff ends it there", async () => {
  const base = stack.host.httpBaseUrl ?? "";
  const key = (await stack.deps.apiKeys.issue(A, { name: "rmm2", roles: ["Operator"] }, stack.host.now())).key;
  const window = testWindow({ id: "adatum-weekend", clients: ["adatum"], maxConcurrency: 1, maxErrors: "100%" });
  const occurrence = onDemandOccurrence(window, stack.host.now());
  const installsBefore = new Map(stack.fleet.devices.map((d) => [d.name, d.state.installRecords.length]));
  await stack.host.client.startNew(ORCHESTRATORS.maintenanceWindow, {
    instanceId: occurrence.instanceId,
    input: windowRunInput(window, occurrence, "on-demand"),
  });
  const rollout = `${occurrence.instanceId}:prod:adatum`;
  for (let i = 0; i < 200 && stack.host.getStatus(rollout)?.runtimeStatus !== "Running"; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  const response = await fetch(
    `${base}/api/v1/tenants/${A}/windows/adatum-weekend/occurrences/${occurrence.instanceId}/pause`,
    { method: "POST", headers: { "x-api-key": key } },
  );
  expect(response.status).toBe(202);

  // Nobody resumes: the host's virtual clock runs on to the cutoff, where the paused rollout stops.
  const status = await stack.host.waitForInstance(occurrence.instanceId);
  const result = status.output as WindowRunResult;
  const bytes = await stack.deps.evidence.store.readBlob(result.reportPath);
  const report = WindowReportSchema.parse(JSON.parse(Buffer.from(bytes ?? new Uint8Array()).toString("utf8")));
  const outcomes = report.rings.flatMap((r) => r.rollouts.flatMap((x) => x.outcomes));
  const notStarted = outcomes.filter((o) => o.status === "not-started");
  expect(notStarted.length).toBeGreaterThanOrEqual(1);
  expect(notStarted.every((o) => /cutoff/.test(o.reason ?? ""))).toBe(true);
  const pause = report.control?.find((c) => c.scope === "rollout prod/adatum");
  expect(pause).toMatchObject({ action: "pause", from: "running", to: "paused" });
  // Every device that ran started before the pause was applied; the emulator shows no install on the others.
  const started = outcomes.filter((o) => o.status === "completed");
  expect(started.length + notStarted.length).toBe(5);
  for (const o of notStarted) {
    const sim = stack.fleet.devices.find((d) => d.name === o.device);
    expect([o.device, sim?.state.installRecords.length]).toEqual([o.device, installsBefore.get(o.device)]);
  }
  expect(report.control?.find((c) => c.scope === "window")).toMatchObject({ action: "pause" });
}, 240_000);
