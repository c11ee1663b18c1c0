import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import { admitDevices, isWindowError, resolveLimit, type StopReason } from "../lib/domain/window/rateControl";
import type { DeviceRunInput, DeviceRunResult } from "../lib/schemas/deviceRun";
import type { DeviceRef } from "../lib/schemas/target";
import { ClientRolloutInputSchema, type ClientRolloutResult, type DeviceOutcome } from "../lib/schemas/window";
import { ORCHESTRATORS } from "./activityNames";

interface Running {
  device: DeviceRef;
  instanceId: string;
  runId: string;
  task: Task;
}

/** Run ids are readable and unique: the window's local date plus a replay-safe GUID. */
function runIdFor(context: OrchestrationContext, localDate: string, device: string): string {
  return `r${localDate.replace(/-/g, "")}-${context.df.newGuid(device)}`;
}

/**
 * One client's devices in one ring of a window, with rate control as in AWS Systems Manager maintenance windows:
 * at most maxConcurrency device runs at once; past maxErrors no new device starts, nor after the window's cutoff.
 * Limits are per client, because an MSP's error budget is per customer: one client's bad patch must not stop
 * another client's patching.
 */
export const clientRollout: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = ClientRolloutInputSchema.parse(context.df.getInput());
  const { window, occurrence } = input;
  const limits = {
    maxConcurrency: resolveLimit(window.maxConcurrency, input.devices.length, "concurrency"),
    maxErrors: resolveLimit(window.maxErrors, input.devices.length, "errors"),
  };
  const pending = [...input.devices].sort((a, b) => a.name.localeCompare(b.name));
  const running: Running[] = [];
  const outcomes: DeviceOutcome[] = [];
  let errors = 0;
  let stop: StopReason | undefined;
  const base = { client: input.client, ring: input.ring };

  for (;;) {
    const admit = admitDevices({ pending: pending.length, running: running.length, errors }, limits, context.df.currentUtcDateTime, new Date(occurrence.cutoff));
    stop ??= admit.stop;
    for (let i = 0; i < admit.start; i += 1) {
      const device = pending.shift();
      if (device === undefined) break;
      const instanceId = `${occurrence.instanceId}:${input.client}:${device.name}`;
      const runId = runIdFor(context, occurrence.localDate, device.name);
      const runInput: DeviceRunInput = {
        run: { tenant: input.tenant, client: input.client, device: device.name, runId },
        device,
        trigger: { kind: "window", windowId: window.id, ring: input.ring },
        window: { end: occurrence.end, cutoff: occurrence.cutoff },
        dryRun: false,
      };
      running.push({ device, instanceId, runId, task: context.df.callSubOrchestrator(ORCHESTRATORS.devicePatchRun, runInput, instanceId) });
    }
    if (running.length === 0) break;
    const finished = (yield context.df.Task.any(running.map((r) => r.task))) as Task;
    const index = running.findIndex((r) => r.task === finished);
    const [done] = running.splice(index, 1);
    if (done === undefined) continue;
    const ids = { ...base, device: done.device.name, instanceId: done.instanceId, runId: done.runId };
    if (finished.isFaulted) {
      errors += 1;
      const reason = finished.result instanceof Error ? finished.result.message : String(finished.result);
      outcomes.push({ ...ids, status: "orchestration-failed", reason });
    } else {
      const result = finished.result as DeviceRunResult;
      if (isWindowError(result.exitCode)) errors += 1;
      outcomes.push({ ...ids, status: "completed", result });
    }
  }
  const reason = stop === undefined ? "not started" : stop.kind === "max-errors" ? `maxErrors (${stop.maxErrors}) exceeded with ${stop.errors} errors` : `window cutoff ${stop.kind === "cutoff" ? stop.cutoff : ""} passed`;
  for (const device of pending) outcomes.push({ ...base, device: device.name, instanceId: `${occurrence.instanceId}:${input.client}:${device.name}`, runId: "", status: "not-started", reason });
  const result: ClientRolloutResult = { ...base, limits, outcomes, ...(stop === undefined ? {} : { stop }) };
  return result;
};
