import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { admitDevices, isWindowError, resolveLimit, type StopReason } from "../lib/domain/window/rateControl";
import type { DeviceRunInput, DeviceRunResult } from "../lib/schemas/deviceRun";
import { ClientRolloutInputSchema, type ClientRolloutResult, type DeviceOutcome } from "../lib/schemas/window";
import { ORCHESTRATORS } from "./activityNames";
import { ControlChannel } from "./runControl";

/** Run ids are readable and unique: the window's local date plus a replay-safe GUID. */
function runIdFor(context: OrchestrationContext, localDate: string, device: string): string {
  return `r${localDate.replace(/-/g, "")}-${context.df.newGuid(device)}`;
}

function stopText(stop: StopReason | undefined): string {
  if (stop === undefined) return "not started";
  if (stop.kind === "max-errors") return `maxErrors (${stop.maxErrors}) exceeded with ${stop.errors} errors`;
  if (stop.kind === "cutoff") return `window cutoff ${stop.cutoff} passed`;
  if (stop.kind === "cancelled") return `cancelled by ${stop.by} at ${stop.at}`;
  return `ring ${stop.ring} gate closed`;
}

/**
 * One client's devices in one ring of a window, with rate control as in AWS Systems Manager maintenance windows:
 * at most maxConcurrency device runs at once; past maxErrors no new device starts, nor after the window's cutoff.
 * Devices go in waves of up to maxConcurrency (like Ansible's `serial` batches) rather than a rolling window, because
 * a rolling Task.any over running sub-orchestrations re-schedules them in durable-js (see settleAll.ts).
 * Limits are per client: an MSP's error budget is per customer, one client's bad patch must not stop another's.
 */
export const clientRollout: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = ClientRolloutInputSchema.parse(context.df.getInput());
  const { window, occurrence } = input;
  const limits = {
    maxConcurrency: resolveLimit(window.maxConcurrency, input.devices.length, "concurrency"),
    maxErrors: resolveLimit(window.maxErrors, input.devices.length, "errors"),
  };
  const pending = [...input.devices].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const outcomes: DeviceOutcome[] = [];
  const base = { client: input.client, ring: input.ring };
  const instanceIdOf = (device: string): string => `${occurrence.instanceId}:${input.client}:${device}`;
  let errors = 0;
  let stop: StopReason | undefined;
  // Pause / resume / cancel (orchestrators/runControl.ts): applied between waves, never to a device already started.
  const control = new ControlChannel(context, `rollout ${input.ring}/${input.client}`);

  while (pending.length > 0) {
    const state = yield* control.checkpoint(new Date(occurrence.cutoff));
    const cancelled = control.cancelledBy;
    if (state === "cancelled" && cancelled !== undefined) {
      stop = { kind: "cancelled", by: cancelled.by, at: cancelled.at };
      break;
    }
    const admit = admitDevices(
      { pending: pending.length, running: 0, errors },
      limits,
      context.df.currentUtcDateTime,
      new Date(occurrence.cutoff),
    );
    if (admit.stop !== undefined || admit.start === 0) {
      stop = admit.stop;
      break;
    }
    const wave = pending.splice(0, admit.start).map((device) => {
      const runId = runIdFor(context, occurrence.localDate, device.name);
      const runInput: DeviceRunInput = {
        run: { tenant: input.tenant, client: input.client, device: device.name, runId },
        device,
        trigger: { kind: "window", windowId: window.id, ring: input.ring },
        window: { end: occurrence.end, cutoff: occurrence.cutoff },
        // A scan window assesses only: the run stops after the catalog (and, as a dry run, installs nothing).
        dryRun: window.mode === "scan",
        scanOnly: window.mode === "scan",
        ...(input.release !== undefined ? { release: input.release } : {}),
      };
      return {
        device,
        runId,
        task: context.df.callSubOrchestrator(ORCHESTRATORS.devicePatchRun, runInput, instanceIdOf(device.name)),
      };
    });
    const settled = yield* control.settle<DeviceRunResult>(wave.map((w) => w.task));
    for (const [i, w] of wave.entries()) {
      const ids = { ...base, device: w.device.name, instanceId: instanceIdOf(w.device.name), runId: w.runId };
      const s = settled[i];
      if (s === undefined || !s.ok) {
        errors += 1;
        outcomes.push({ ...ids, status: "orchestration-failed", reason: s === undefined ? "no outcome" : s.error });
      } else {
        if (isWindowError(s.value.exitCode)) errors += 1;
        outcomes.push({ ...ids, status: "completed", result: s.value });
      }
    }
  }
  for (const device of pending)
    outcomes.push({
      ...base,
      device: device.name,
      instanceId: instanceIdOf(device.name),
      runId: "",
      status: stop?.kind === "cancelled" ? "cancelled" : "not-started",
      reason: stopText(stop),
    });
  control.drain();
  const log = control.log;
  const result: ClientRolloutResult = {
    ...base,
    limits,
    outcomes,
    ...(stop === undefined ? {} : { stop }),
    ...(log.length === 0 ? {} : { control: log }),
  };
  return result;
};
