// Pause / resume / cancel of a client rollout and an emergency deployment, replayed episode by episode through
// durable-functions' own replay code (every episode replays the whole history and is checked for determinism): the
// external events are delivered as the Durable extension records them (EventRaised in the history).
import { applyControl } from "../../../lib/domain/control/applyControl";
import { CONTROL_EVENT, type ControlCommand } from "../../../lib/schemas/control";
import type { DeploymentRunInput } from "../../../lib/schemas/deployment";
import type { DeviceRunInput, DeviceRunResult } from "../../../lib/schemas/deviceRun";
import type { DeviceRef } from "../../../lib/schemas/target";
import type { ClientRolloutInput, ClientRolloutResult } from "../../../lib/schemas/window";
import { EventType } from "../../../local/durable/historyEvent";
import { clientRollout } from "../../../orchestrators/clientRollout";
import { emergencyDeployment } from "../../../orchestrators/emergencyDeployment";
import { testWindow } from "../../harness/testWindow";
import { driveOrchestration, type Answer, type Call, type Raise } from "./driveOrchestration";

const T0 = "2026-01-20T01:00:00.000Z";
const at = (min: number): string => new Date(Date.parse(T0) + min * 60_000).toISOString();
const device = (name: string): DeviceRef => ({
  kind: "arc",
  machineName: name,
  resourceId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/${name}`,
  name,
  os: "windows",
  tags: {},
  status: "Connected",
  subscriptionId: "s",
  resourceGroup: "rg",
  location: "westeurope",
});
const command = (id: string, action: ControlCommand["action"]): ControlCommand => ({
  id,
  action,
  at: T0,
  by: "apiKey:ops",
});
const respond = (call: Call): Answer => {
  if (call.kind !== "subOrchestration")
    return { ok: { path: "t/_deployments/x/deployment-x/r.json", sha256: "a".repeat(64), published: [] } };
  const run = (call.input as DeviceRunInput).run;
  const result: DeviceRunResult = {
    run,
    exitCode: 0,
    exitName: "Success",
    counts: { approved: 1, installed: 1, failed: 0, regressions: 0 },
    evidencePrefix: `${run.tenant}/${run.client}/${run.device}/${run.runId}/`,
  };
  return { ok: result };
};
const rolloutInput: ClientRolloutInput = {
  tenant: "contoso-msp",
  client: "fabrikam",
  ring: "prod",
  window: testWindow({ maxConcurrency: 1, maxErrors: 0 }),
  occurrence: {
    windowId: "nightly",
    localDate: "2026-01-20",
    instanceId: "window-contoso-msp-nightly-2026-01-20",
    start: at(0),
    end: at(240),
    cutoff: at(210),
  },
  devices: ["A", "B", "C", "D"].map(device),
};

describe("the control transition", () => {
  it.each([
    ["running", "pause", "paused", false],
    ["paused", "pause", "paused", true],
    ["paused", "resume", "running", false],
    ["running", "resume", "running", true],
    ["running", "cancel", "cancelled", false],
    ["paused", "cancel", "cancelled", false],
    ["cancelled", "resume", "cancelled", true],
  ] as const)("%s + %s → %s", (from, action, to, ignored) => {
    const next = applyControl(from, action);
    expect(next.to).toBe(to);
    expect(next.ignored !== undefined).toBe(ignored);
  });
});

describe("clientRollout with control events (replayed)", () => {
  it("without a command: no timer and no extra call, one wave per device as before", async () => {
    const drive = await driveOrchestration(clientRollout, rolloutInput, respond, T0);
    expect(drive.calls.map((c) => c.kind)).toEqual([
      "subOrchestration",
      "subOrchestration",
      "subOrchestration",
      "subOrchestration",
    ]);
    expect((drive.outcome as { output: ClientRolloutResult }).output.control).toBeUndefined();
  });

  it("pause during the first wave: that device finishes, nothing starts until resume; cancel later stops the rest", async () => {
    const raises: Raise[] = [
      // Arrives while device A runs.
      { afterCalls: 1, name: CONTROL_EVENT, data: command("p1", "pause") },
      // The paused rollout waits on the event and a cutoff timer (call 2); resume an hour later.
      { afterCalls: 2, delayMs: 60 * 60_000, name: CONTROL_EVENT, data: command("r1", "resume") },
      // Arrives while device B runs (call 4, after the zero-length timer that looked for more commands).
      { afterCalls: 4, name: CONTROL_EVENT, data: command("c1", "cancel") },
    ];
    const drive = await driveOrchestration(clientRollout, rolloutInput, respond, T0, 500, raises);
    const output = (drive.outcome as { output: ClientRolloutResult }).output;
    expect(
      drive.calls.map((c) => [c.kind, c.kind === "timer" ? c.input : c.instanceId?.split(":").at(-1), c.at]),
    ).toEqual([
      ["subOrchestration", "A", at(0)],
      ["timer", at(210), at(0)], // paused: wait for a command, at most until the cutoff
      ["timer", at(60), at(60)], // resumed: one zero-length look for further commands
      ["subOrchestration", "B", at(60)], // nothing started while paused
    ]);
    expect(output.outcomes.map((o) => [o.device, o.status])).toEqual([
      ["A", "completed"],
      ["B", "completed"],
      ["C", "cancelled"],
      ["D", "cancelled"],
    ]);
    expect(output.stop).toEqual({ kind: "cancelled", by: "apiKey:ops", at: T0 });
    expect(output.control?.map((c) => [c.id, c.from, c.to, c.appliedAt])).toEqual([
      ["p1", "running", "paused", at(0)],
      ["r1", "paused", "running", at(60)],
      ["c1", "running", "cancelled", at(60)],
    ]);
    // The history the control added: three EventRaised and two timers (created, fired), nothing per device.
    const raised = drive.history.filter((e) => e.EventType === EventType.EventRaised);
    expect(raised).toHaveLength(3);
  });

  it("a command raised twice (a retried request) is applied once", async () => {
    const raises: Raise[] = [
      { afterCalls: 1, name: CONTROL_EVENT, data: command("c1", "cancel") },
      { afterCalls: 1, name: CONTROL_EVENT, data: command("c1", "cancel") },
    ];
    const drive = await driveOrchestration(clientRollout, rolloutInput, respond, T0, 500, raises);
    const output = (drive.outcome as { output: ClientRolloutResult }).output;
    expect(output.control?.map((c) => c.id)).toEqual(["c1"]);
    expect(output.outcomes.filter((o) => o.status === "cancelled")).toHaveLength(3);
  });
});

describe("emergencyDeployment with control events (replayed)", () => {
  const input: DeploymentRunInput = {
    deployment: {
      tenant: "contoso-msp",
      id: "dep-1",
      instanceId: "deployment-contoso-msp-dep-1",
      requestedBy: "apiKey:ops",
      requestedAt: T0,
      kbs: ["KB890830"],
      packages: [],
      maxConcurrency: 2,
      maxErrors: 0,
      cutoff: at(24 * 60),
      dryRun: false,
      requestSha256: "b".repeat(64),
    },
    targets: ["A", "B", "C"].map((n) => ({ client: "fabrikam", ring: "deployment", device: device(n) })),
    skipped: [],
  };

  it("a paused deployment waits on the event alone (no deadline timer) and the device runs carry the deployment", async () => {
    const raises: Raise[] = [
      { afterCalls: 1, name: CONTROL_EVENT, data: command("p1", "pause") },
      { afterCalls: 2, delayMs: 5 * 60_000, name: CONTROL_EVENT, data: command("r1", "resume") },
    ];
    const drive = await driveOrchestration(emergencyDeployment, input, respond, T0, 500, raises);
    expect(drive.outcome.status).toBe("completed");
    const kinds = drive.calls.map((c) => (c.kind === "subOrchestration" ? c.instanceId?.split(":").at(-1) : c.name));
    // Wave A+B (pause arrives during it), paused with no timer, resume, a zero-length look, wave C, report, events.
    expect(kinds).toEqual(["A", "B", "timer", "C", "writeDeploymentReport", "publishDeploymentEvents"]);
    const trigger = (drive.calls[0]?.input as DeviceRunInput).trigger;
    expect(trigger).toEqual({
      kind: "deployment",
      deploymentId: "dep-1",
      requestedBy: "apiKey:ops",
      kbs: ["KB890830"],
      packages: [],
    });
  });
});
