import path from "node:path";
import { RebootRecordSchema } from "../../../lib/schemas/artifacts/catalog";
import { runPrefix } from "../../../lib/evidence/keys";
import { EventType, type StoredEvent } from "../../../local/durable/historyEvent";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { startLocalStack, type LocalStack } from "../../../local/run/localStack";
import { runWindows, type WindowsSummary } from "../../../local/run/runWindows";
import { ORCHESTRATORS } from "../../../orchestrators/activityNames";

const DEMO = path.resolve(__dirname, "../../../local/scenarios/demo.json");

// Issue 22: what a device run costs in Durable history, counted in the events the local host stores for each device
// orchestration (OrchestratorStarted/Completed included), over the demo window. Each wait on the device costs a timer
// and an advance call in two episodes: eight events. A run with no reboot needs three such waits (pre with the
// catalog scan in its command, install, post); one with a reboot needs three too: the install with the reboot last in
// its command (collected with the agent's return after the restart), then the boot probe with the post steps and the
// stability probe in its command (the device waits on itself until it has been up the settle time). Start, the
// publish and the execution add twelve.
let stack: LocalStack;
let summary: WindowsSummary;
const histories = new Map<string, StoredEvent[]>();

beforeAll(async () => {
  stack = await startLocalStack({ scenario: readScenarioFile(DEMO), clock: "virtual" });
  summary = await runWindows(stack, undefined, { verify: false });
  const runs = (await stack.host.client.getStatusAll()).filter((s) => s.name === ORCHESTRATORS.devicePatchRun);
  for (const run of runs) histories.set(run.instanceId, await stack.host.getHistory(run.instanceId));
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

interface Advance {
  stage: string;
  commands: number;
  pollAttempt: number;
  resultStage?: string;
  resultPollAttempt?: number;
}

function advancesOf(history: StoredEvent[]): Advance[] {
  const byId = new Map<number, Advance>();
  const list: Advance[] = [];
  for (const e of history) {
    if (e.EventType === EventType.TaskScheduled && e.Name === "advanceDeviceRun") {
      const state = (
        JSON.parse(e.Input ?? "{}") as { state: { stage: string; commands: unknown[]; pollAttempt: number } }
      ).state;
      const advance = { stage: state.stage, commands: state.commands.length, pollAttempt: state.pollAttempt };
      byId.set(e.EventId, advance);
      list.push(advance);
    }
    if (e.EventType === EventType.TaskCompleted && e.TaskScheduledId !== undefined) {
      const advance = byId.get(e.TaskScheduledId);
      if (advance === undefined) continue;
      const result = JSON.parse(e.Result ?? "{}") as { stage: string; pollAttempt: number };
      advance.resultStage = result.stage;
      advance.resultPollAttempt = result.pollAttempt;
    }
  }
  return list;
}

const count = (history: StoredEvent[], type: number, name?: string): number =>
  history.filter((e) => e.EventType === type && (name === undefined || e.Name === name)).length;

describe("history events per device run (issue 22)", () => {
  it("seals in the activity that ended the run, publishes in its own call, and stays within the waits it needs", () => {
    const completed = summary.devices.filter((d) => d.status === "completed" && d.exitCode === 0);
    expect(completed.length).toBeGreaterThan(5);
    const measured: Record<string, number[]> = { reboot: [], noReboot: [], noRebootAnyExit: [] };
    const over: string[] = [];
    for (const [instanceId, history] of histories) {
      const advances = advancesOf(history);
      const started = history.find((e) => e.EventType === EventType.ExecutionStarted);
      const runId = (JSON.parse(started?.Input ?? "{}") as { run?: { runId?: string } }).run?.runId;
      const device = summary.devices.find((d) => d.runId === runId);
      // Runs that reached the post phases without a reboot (the reboot policy said no) are counted too.
      const noRebootRun =
        device?.exitCode === 150 &&
        !advances.some((a) => [a.stage, a.resultStage].some((s) => s === "reboot" || s === "bootProbe"));
      if (noRebootRun) measured.noRebootAnyExit?.push(history.length);
      if (device?.exitCode !== 0) continue;
      // finishDeviceRun's work was done by the activity that ended the run; the publish stays its own call.
      expect([instanceId, count(history, EventType.TaskScheduled, "finishDeviceRun")]).toEqual([instanceId, 0]);
      expect(count(history, EventType.TaskScheduled, "publishRunEvents")).toBe(1);
      // Looks that found the command still running (an estimate too short for this device): printed, not asserted.
      const early = advances.filter(
        (a) => a.commands > 0 && a.resultStage === a.stage && (a.resultPollAttempt ?? 0) > a.pollAttempt,
      );
      if (early.length > 0) console.log(`${device.device}: ${early.length} look(s) too early (${early[0]?.stage})`);
      // Every event is one of: the execution's two, an episode's pair, a task's or a timer's pair.
      const episodes = count(history, EventType.OrchestratorStarted);
      const tasks = count(history, EventType.TaskScheduled);
      const timers = count(history, EventType.TimerCreated);
      expect(history.length).toBe(2 + 2 * episodes + 2 * tasks + 2 * timers);
      // The reboot leaves no advance of its own when it rode in the install's command: a run rebooted when it waited
      // for the agent after a reboot or sent the boot probe.
      const rebooted = advances.some((a) =>
        [a.stage, a.resultStage].some((s) => s === "reboot" || s === "rebootWait" || s === "bootProbe"),
      );
      measured[rebooted ? "reboot" : "noReboot"]?.push(history.length);
      // Twelve for start, publish and the execution, eight per wait on the device (3 with or without a reboot).
      // Before issue 22's cuts a run with a reboot took 84-100 events and one without 52 (finishDeviceRun its own
      // call, the post stage its own command after the boot probe's, the agent's return a look of its own, the
      // stability check a wait and a probe of its own, the catalog a command of its own, the reboot a command of its
      // own: 68 typical, then 44). Now: at most 52 (a device the agent returns late to, or that dropped mid-install)
      // and 36.
      if (history.length > (rebooted ? 52 : 36)) over.push(`${device.device}: ${history.length}`);
    }
    console.log(`history events per exit-0 device run: ${JSON.stringify(measured)}`);
    expect(over).toEqual([]);
    // The typical run with a reboot: start, pre (with the catalog), install with the reboot (the agent back at the
    // first look, the boot probe sent in the same call), the boot probe with the post steps and the stability probe
    // (collected at its first look), the publish: 12 + 3 × 8.
    const typical = [...(measured.reboot ?? [])].sort((a, b) => a - b)[Math.floor((measured.reboot?.length ?? 0) / 2)];
    expect(typical).toBeLessThanOrEqual(36);
    expect(measured.reboot?.length).toBeGreaterThan(5);
    // A run that reached its post phases without a reboot: start, pre (with the catalog), install, post, publish: 12 + 3 × 8.
    expect(measured.noRebootAnyExit?.length).toBeGreaterThan(0);
    for (const events of measured.noRebootAnyExit ?? []) expect(events).toBeLessThanOrEqual(36);
  });

  it("keeps a reboot loop visible with the stability probe in the boot probe's command (TSP-RDS01: loops once)", async () => {
    // The demo's TSP-RDS01 goes down again by itself 120 s after the proven boot, during the settle wait: the command
    // dies with it, the planner looks again on its own, and the stored reboot evidence says RebootLoopGuard.
    const device = summary.devices.find((d) => d.device === "TSP-RDS01");
    expect(device?.exitCode).toBe(150);
    const ref = { tenant: device!.tenant, client: device!.client, device: device!.device, runId: device!.runId };
    const bytes = await stack.deps.evidence.store.get(ref, "06-reboot/reboot.json");
    const reboot = RebootRecordSchema.parse(JSON.parse(bytes?.toString("utf8") ?? "null"));
    expect(reboot).toMatchObject({ outcome: "RebootLoopGuard" });
    expect(reboot).toMatchObject({ decidedBy: "boot-probe", rebootCount: 2 });
    // The stability probe's section never began (the device restarted during the wait): its status says so.
    const names = await stack.deps.evidence.store.listBlobNames(runPrefix(ref));
    const status = names.find((n) => /06-reboot\/transcripts\/.*-stableProbe\.status\.json$/.test(n));
    expect(status).toBeDefined();
    const text = (await stack.deps.evidence.store.get(ref, status!.slice(runPrefix(ref).length)))?.toString("utf8");
    expect(JSON.parse(text ?? "{}")).toMatchObject({ role: "stableProbe", exitCode: null });
  });
});
