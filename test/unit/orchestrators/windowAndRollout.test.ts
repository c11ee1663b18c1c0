import { clientRollout } from "../../../orchestrators/clientRollout";
import { maintenanceWindow } from "../../../orchestrators/maintenanceWindow";
import type { DeviceRunInput, DeviceRunResult } from "../../../lib/schemas/deviceRun";
import { testWindow } from "../../harness/testWindow";
import type { DeviceRef } from "../../../lib/schemas/target";
import type {
  ClientRolloutInput,
  ClientRolloutResult,
  WindowReport,
  WindowRunInput,
  WindowTarget,
} from "../../../lib/schemas/window";
import { EventType } from "../../../local/durable/historyEvent";
import { driveOrchestration, type Answer, type Call } from "./driveOrchestration";

const T0 = "2026-01-20T01:00:00.000Z";
const at = (min: number): string => new Date(Date.parse(T0) + min * 60_000).toISOString();
const window = testWindow({ rings: [{ name: "dev" }, { name: "prod" }] });
const occurrence = {
  windowId: "nightly",
  localDate: "2026-01-20",
  instanceId: "window-contoso-msp-nightly-2026-01-20",
  start: at(0),
  end: at(240),
  cutoff: at(210),
};
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
const resultFor = (call: Call, exitCode: number): DeviceRunResult => {
  const run = (call.input as DeviceRunInput).run;
  return {
    run,
    exitCode,
    exitName: String(exitCode),
    counts: { approved: 1, installed: 1, failed: 0, regressions: 0 },
    evidencePrefix: `${run.tenant}/${run.client}/${run.device}/${run.runId}/`,
  };
};

describe("clientRollout (replayed)", () => {
  const rollout = (names: string[], over: Partial<ClientRolloutInput> = {}): ClientRolloutInput => ({
    tenant: "contoso-msp",
    client: "fabrikam",
    ring: "prod",
    window,
    occurrence,
    devices: names.map(device),
    ...over,
  });

  it("runs at most maxConcurrency devices at once and stops starting new ones past maxErrors", async () => {
    const codes: Record<string, number> = { A: 0, B: 210, C: 0, D: 0, E: 0 };
    const drive = await driveOrchestration(
      clientRollout,
      rollout(["A", "B", "C", "D", "E"]),
      (call) => ({ ok: resultFor(call, codes[(call.input as DeviceRunInput).device.name] ?? 0) }),
      at(0),
    );
    expect(drive.outcome.status).toBe("completed");
    const out = (drive.outcome as { output: ClientRolloutResult }).output;
    // A and B go as the first wave (maxConcurrency 2); B fails (210 > maxErrors 0) → no further wave.
    expect(drive.calls.map((c) => (c.input as DeviceRunInput).device.name)).toEqual(["A", "B"]);
    expect(out.stop).toEqual({ kind: "max-errors", errors: 1, maxErrors: 0 });
    expect(out.outcomes.filter((o) => o.status === "not-started").map((o) => [o.device, o.reason])).toEqual([
      ["C", "maxErrors (0) exceeded with 1 errors"],
      ["D", "maxErrors (0) exceeded with 1 errors"],
      ["E", "maxErrors (0) exceeded with 1 errors"],
    ]);
    // Instance ids derive from the window occurrence, so a restarted window never starts a device twice.
    expect(drive.calls[0]?.instanceId).toBe("window-contoso-msp-nightly-2026-01-20:fabrikam:A");
    expect((drive.calls[0]?.input as DeviceRunInput).run.runId).toMatch(/^r20260120-[0-9a-f-]{36}$/);
    // Replaying the recorded history: never more than two device runs in flight.
    let inFlight = 0;
    let peak = 0;
    for (const e of drive.history) {
      if (e.EventType === EventType.SubOrchestrationInstanceCreated) peak = Math.max(peak, ++inFlight);
      if (
        e.EventType === EventType.SubOrchestrationInstanceCompleted ||
        e.EventType === EventType.SubOrchestrationInstanceFailed
      )
        inFlight -= 1;
    }
    expect(peak).toBe(2);
  });

  it("runs clean devices in waves of maxConcurrency until all are done", async () => {
    const drive = await driveOrchestration(
      clientRollout,
      rollout(["A", "B", "C", "D", "E"]),
      (call) => ({ ok: resultFor(call, 0) }),
      at(0),
    );
    const out = (drive.outcome as { output: ClientRolloutResult }).output;
    expect(out.outcomes.map((o) => [o.device, o.status])).toEqual(
      ["A", "B", "C", "D", "E"].map((d) => [d, "completed"]),
    );
    expect(out.stop).toBeUndefined();
  });

  it("waits for the rest of a wave when one device's orchestration fails, without scheduling anything twice", async () => {
    const drive = await driveOrchestration(
      clientRollout,
      rollout(["A", "B"], { window: { ...window, maxErrors: 5 } }),
      (call) =>
        (call.input as DeviceRunInput).device.name === "A"
          ? { error: "storage unavailable" }
          : { ok: resultFor(call, 0) },
      at(0),
    );
    const out = (drive.outcome as { output: ClientRolloutResult }).output;
    expect(out.outcomes.map((o) => [o.device, o.status])).toEqual([
      ["A", "orchestration-failed"],
      ["B", "completed"],
    ]);
    expect(drive.history.filter((e) => e.EventType === EventType.SubOrchestrationInstanceCreated)).toHaveLength(2);
  });

  it("starts nothing after the window's cutoff and says so", async () => {
    const late = { ...occurrence, cutoff: at(-1) };
    const drive = await driveOrchestration(
      clientRollout,
      rollout(["A", "B"], { occurrence: late }),
      () => ({ error: "must not be called" }),
      at(0),
    );
    const out = (drive.outcome as { output: ClientRolloutResult }).output;
    expect(drive.calls).toEqual([]);
    expect(out.stop).toEqual({ kind: "cutoff", cutoff: at(-1) });
    expect(out.outcomes.map((o) => o.status)).toEqual(["not-started", "not-started"]);
  });

  it("counts a device run whose orchestration failed as an error, with the reason", async () => {
    const drive = await driveOrchestration(
      clientRollout,
      rollout(["A"]),
      () => ({ error: "storage unavailable" }),
      at(0),
    );
    const out = (drive.outcome as { output: ClientRolloutResult }).output;
    expect(out.outcomes).toEqual([
      expect.objectContaining({
        device: "A",
        status: "orchestration-failed",
        reason: expect.stringContaining("storage unavailable"),
      }),
    ]);
  });
});

describe("maintenanceWindow (replayed)", () => {
  const targets: WindowTarget[] = [
    { client: "fabrikam", ring: "dev", device: device("FAB-DEV01") },
    { client: "adatum", ring: "dev", device: device("ADT-DEV01") },
    { client: "fabrikam", ring: "prod", device: device("FAB-PRD01") },
  ];
  const windowInput: WindowRunInput = { window, occurrence, startedBy: "schedule" };

  function respond(devCodes: Record<string, number>): (call: Call) => Answer {
    return (call) => {
      if (call.name === "discoverWindowTargets")
        return { ok: { targets, skipped: [{ resource: "x", reason: "ring canary is not in the window" }] } };
      if (call.name === "writeWindowReport")
        return { ok: { path: "contoso-msp/_windows/nightly/x/window-report.json", sha256: "a".repeat(64) } };
      if (call.name === "publishWindowEvents") return { ok: { published: [] } };
      const r = call.input as ClientRolloutInput;
      const outcomes = r.devices.map((d) => ({
        client: r.client,
        ring: r.ring,
        device: d.name,
        instanceId: "i",
        runId: "r",
        status: "completed" as const,
        result: {
          run: { tenant: r.tenant, client: r.client, device: d.name, runId: "r20260120-x" },
          exitCode: devCodes[d.name] ?? 0,
          exitName: "x",
          counts: { approved: 0, installed: 0, failed: 0, regressions: 0 },
          evidencePrefix: "p",
        },
      }));
      const result: ClientRolloutResult = {
        client: r.client,
        ring: r.ring,
        limits: { maxConcurrency: 1, maxErrors: 0 },
        outcomes,
      };
      return { ok: result };
    };
  }

  it("rolls out ring by ring, one rollout per client, and writes the report", async () => {
    const drive = await driveOrchestration(maintenanceWindow, windowInput, respond({}), at(0));
    expect(drive.calls.map((c) => c.instanceId ?? c.name)).toEqual([
      "discoverWindowTargets",
      `${occurrence.instanceId}:dev:adatum`,
      `${occurrence.instanceId}:dev:fabrikam`,
      `${occurrence.instanceId}:prod:fabrikam`,
      "writeWindowReport",
      "publishWindowEvents",
    ]);
    // The events are published from the stored report, by reference.
    expect(drive.calls.at(-1)?.input).toEqual({
      path: "contoso-msp/_windows/nightly/x/window-report.json",
      sha256: "a".repeat(64),
    });
    const report = drive.calls.at(-2)?.input as WindowReport;
    expect(report.totals).toEqual({
      targets: 3,
      completed: 3,
      notStarted: 0,
      orchestrationFailed: 0,
      byExitCode: { "0": 3 },
    });
    expect(report.skipped).toHaveLength(1);
  });

  it("completes with its report when window events cannot be published, and names runs whose events were lost", async () => {
    const base = respond({});
    const drive = await driveOrchestration(
      maintenanceWindow,
      windowInput,
      (call) => {
        if (call.name === "publishWindowEvents") return { error: "Event Grid unavailable (503)" };
        const answer = base(call);
        if (call.kind === "subOrchestration" && "ok" in answer) {
          const rollout = answer.ok as ClientRolloutResult;
          return {
            ok: {
              ...rollout,
              outcomes: rollout.outcomes.map((o) =>
                o.device === "FAB-DEV01" && o.result ? { ...o, result: { ...o.result, eventsError: "503" } } : o,
              ),
            },
          };
        }
        return answer;
      },
      at(0),
    );
    expect(drive.outcome).toMatchObject({
      status: "completed",
      output: { eventsError: expect.stringContaining("Event Grid unavailable") },
    });
    const report = drive.calls.find((c) => c.name === "writeWindowReport")?.input as WindowReport;
    expect(report.decisions).toContain(
      "1 device runs finished without their CloudEvents (publishing failed after retries): FAB-DEV01",
    );
  });

  it("closes the ring gate after a regression in dev: prod never starts, and the report says why", async () => {
    const drive = await driveOrchestration(maintenanceWindow, windowInput, respond({ "FAB-DEV01": 220 }), at(0));
    expect(drive.calls.some((c) => c.instanceId?.includes(":prod:"))).toBe(false);
    const report = drive.calls.find((c) => c.name === "writeWindowReport")?.input as WindowReport;
    expect(report.rings.map((r) => [r.ring, r.started])).toEqual([
      ["dev", true],
      ["prod", false],
    ]);
    expect(report.decisions).toContain("ring dev gate closed: install failures or regressions on FAB-DEV01");
    expect(report.totals.notStarted).toBe(1);
    expect(report.rings[1]?.rollouts.flatMap((r) => r.outcomes).map((o) => [o.device, o.status, o.reason])).toEqual([
      ["FAB-PRD01", "not-started", "ring dev gate closed: install failures or regressions on FAB-DEV01"],
    ]);
  });
});

describe("maintenanceWindow with releases (replayed)", () => {
  const H = "b".repeat(64);
  const prodWindow = testWindow({
    rings: [{ name: "prod" }],
    release: { follows: { ring: "staging" }, gates: { soakMinutes: 60 } },
  });
  const input: WindowRunInput = { window: prodWindow, occurrence, startedBy: "schedule" };
  const allowance = {
    id: "rel-staging-20260119-0a0b0c0d",
    sha256: H,
    promotion: { path: "p", sha256: H },
    updates: [
      {
        key: "KB5000001",
        updateId: "u1",
        proof: { runId: "r20260119-aaaaaaaa", path: "05-install/install-summary.jsonl", leafIndex: 2, root: H },
      },
    ],
  };
  const stored = { path: "contoso-msp/_windows/nightly/x/promotions/prod-1.json", sha256: H };

  function respond(promotion: (attempt: number, now: string) => unknown, quarantineDecisions: unknown[] = []) {
    return (call: Call): Answer => {
      if (call.name === "discoverWindowTargets")
        return { ok: { targets: [{ client: "fabrikam", ring: "prod", device: device("FAB-PRD01") }], skipped: [] } };
      if (call.name === "decidePromotion") {
        const i = call.input as { attempt: number; now: string };
        return { ok: promotion(i.attempt, i.now) };
      }
      if (call.name === "sealRingRelease")
        return {
          ok: {
            release: { ...stored, id: "rel-prod-20260120-01020304", updates: 1, regressions: 0 },
            quarantined: [],
            recut: [],
            quarantineDecisions,
            decisions: ["ring prod sealed release rel-prod-20260120-01020304"],
          },
        };
      if (call.name === "publishQuarantineEvents") return { error: "Event Grid unavailable" };
      if (call.name === "writeWindowReport") return { ok: stored };
      if (call.name === "publishWindowEvents") return { ok: { published: [] } };
      const r = call.input as ClientRolloutInput;
      return {
        ok: {
          client: r.client,
          ring: r.ring,
          limits: { maxConcurrency: 1, maxErrors: 0 },
          outcomes: r.devices.map((d) => ({
            client: r.client,
            ring: r.ring,
            device: d.name,
            instanceId: "i",
            runId: "r20260120-x",
            status: "completed" as const,
            result: {
              run: { tenant: r.tenant, client: r.client, device: d.name, runId: "r20260120-xxxxxxxx" },
              exitCode: 0,
              exitName: "Success",
              counts: { approved: 1, installed: 1, failed: 0, regressions: 0 },
              evidencePrefix: "p",
            },
          })),
        } satisfies ClientRolloutResult,
      };
    };
  }

  it("waits for a soak that ends before the cutoff, decides again, then installs the release and seals the ring", async () => {
    const drive = await driveOrchestration(
      maintenanceWindow,
      input,
      respond((attempt) =>
        attempt === 1
          ? { promoted: false, reason: "soak not met", recheckAt: at(45), decision: stored }
          : { promoted: true, reason: "promoted", decision: stored, allowance },
      ),
      at(0),
    );
    expect(drive.outcome.status).toBe("completed");
    expect(drive.calls.map((c) => c.instanceId ?? c.name)).toEqual([
      "discoverWindowTargets",
      "decidePromotion",
      "timer",
      "decidePromotion",
      `${occurrence.instanceId}:prod:fabrikam`,
      "sealRingRelease",
      "writeWindowReport",
      "publishWindowEvents",
    ]);
    expect(drive.calls[2]?.input).toBe(at(45));
    expect(drive.calls[3]?.input).toMatchObject({ attempt: 2, follows: "staging", now: at(45) });
    expect((drive.calls[4]?.input as ClientRolloutInput).release).toEqual(allowance);
    expect(drive.calls[5]?.input).toMatchObject({
      ring: "prod",
      targeted: 1,
      runs: [{ device: "FAB-PRD01", runId: "r20260120-xxxxxxxx" }],
      finishedAt: at(45),
      quarantineAfterClients: 2,
    });
  });

  it("holds the ring when a gate other than the soak is unmet, or the soak ends after the cutoff; nothing starts", async () => {
    for (const verdict of [
      { promoted: false, reason: "open regression on KB5000001", decision: stored },
      { promoted: false, reason: "soak not met", recheckAt: at(300), decision: stored },
    ]) {
      const drive = await driveOrchestration(
        maintenanceWindow,
        input,
        respond(() => verdict),
        at(0),
      );
      // Held: no rollout, and nothing is sealed for a ring that did not run.
      expect(drive.calls.map((c) => c.instanceId ?? c.name)).toEqual([
        "discoverWindowTargets",
        "decidePromotion",
        "writeWindowReport",
        "publishWindowEvents",
      ]);
      const report = drive.calls.find((c) => c.name === "writeWindowReport")?.input as WindowReport;
      expect(report.rings[0]).toMatchObject({ ring: "prod", started: false });
      expect(report.rings[0]?.reason).toContain(
        `ring prod held: ${verdict.reason}; looked at again at the window's next occurrence`,
      );
      if (verdict.recheckAt !== undefined) expect(report.rings[0]?.reason).toContain("after this window's cutoff");
      expect(report.totals.notStarted).toBe(1);
    }
  });

  it("publishes the ring's quarantine decisions, and a failed publish is noted, not fatal", async () => {
    const drive = await driveOrchestration(
      maintenanceWindow,
      input,
      respond(() => ({ promoted: true, reason: "promoted", decision: stored, allowance }), [stored]),
      at(0),
    );
    expect(drive.outcome.status).toBe("completed");
    expect(drive.calls.find((c) => c.name === "publishQuarantineEvents")?.input).toEqual({ decisions: [stored] });
    const report = drive.calls.find((c) => c.name === "writeWindowReport")?.input as WindowReport;
    expect(report.decisions.some((d) => d.startsWith("quarantine events not published:"))).toBe(true);
  });
});
