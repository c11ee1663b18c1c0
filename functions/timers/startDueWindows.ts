import type { InvocationContext, Timer } from "@azure/functions";
import * as df from "durable-functions";
import { dueOccurrences } from "../../lib/domain/window/occurrences";
import type { MaintenanceWindow } from "../../lib/schemas/policies";
import { ORCHESTRATORS } from "../../orchestrators/activityNames";
import { windowRunInput } from "../../lib/domain/window/windowRunInput";
import { isUnknownInstance } from "../isUnknownInstance";

/** Every five minutes, on the second 0 (six-field NCRONTAB, UTC). */
export const START_DUE_WINDOWS_SCHEDULE = "0 */5 * * * *";
/**
 * Ticks can be late or missed (a host restart, a deployment): an occurrence that opened up to a day ago and has not
 * reached its cutoff still starts, late, rather than being skipped in silence. The cutoff bounds the lateness.
 */
export const LOOKBACK_MINUTES = 1440;

/** What the timer needs: the maintenance windows, from the policy store. */
export interface StartDueWindowsDeps {
  listWindows(): Promise<MaintenanceWindow[]>;
}

/** The DurableClient calls the timer makes (narrowed so tests can see what it does). */
type Client = Pick<df.DurableClient, "getStatus" | "startNew">;

/**
 * The timer trigger that starts maintenance windows: each due occurrence gets an instance id derived from window
 * id + occurrence date, so a tick that fires twice, or two overlapping ticks, start nothing twice; an occurrence
 * that already ran (or runs) is left alone rather than restarted.
 */
export function makeStartDueWindows(
  getDeps: () => StartDueWindowsDeps,
  getClient: (context: InvocationContext) => Client = df.getClient,
) {
  return async function startDueWindows(timer: Timer, context: InvocationContext): Promise<void> {
    const now = currentTick(timer);
    const client = getClient(context);
    for (const window of await getDeps().listWindows()) {
      for (const occurrence of dueOccurrences(window, now, LOOKBACK_MINUTES)) {
        try {
          await client.getStatus(occurrence.instanceId);
          continue; // exists: running or finished
        } catch (error) {
          if (!isUnknownInstance(error)) throw error;
        }
        await client.startNew(ORCHESTRATORS.maintenanceWindow, {
          instanceId: occurrence.instanceId,
          input: windowRunInput(window, occurrence, "schedule"),
        });
        context.log(
          `started maintenance window ${window.tenant}/${window.id} occurrence ${occurrence.localDate} as ${occurrence.instanceId}`,
        );
      }
    }
  };
}

/** 0001-01-01T00:00:00: .NET's DateTime.MinValue, which the host sends for "never" (the first run's `last`). */
const NEVER = Date.parse("0001-01-01T00:00:00Z");

/**
 * The schedule occurrence this invocation fires for, as the Functions host reports it (TimerListener in
 * Azure/azure-webjobs-sdk-extensions, src/WebJobs.Extensions/Extensions/Timers/Listener/TimerListener.cs, commit
 * 2e7550f7; @azure/functions only camel-cases the host's TimerInfo JSON, InvocationModel.ts):
 *   - the function receives the schedule status from BEFORE the invocation; the host updates it afterwards. So
 *     `scheduleStatus.next` is the tick being fired and `scheduleStatus.last` the previous one — on the first run
 *     after a deploy `last` is DateTime.MinValue ("0001-01-01T00:00:00+00:00"). Reading `last` started every window
 *     one tick late, and the first tick after a deploy started nothing.
 *   - past due (the host was down over a tick): `isPastDue` true and `next` is the missed occurrence. Occurrences
 *     that opened up to LOOKBACK_MINUTES before it still start (late); the maintenance-window orchestrator checks
 *     the cutoff against its own clock before each ring, so an occurrence whose cutoff passed while the host was
 *     down ends at once without touching a device.
 *   - no status (the schedule monitor is off, UseMonitor false): the wall clock.
 * The local host (local/durable/timerTriggers.ts) fills the Timer the same way, from its virtual clock.
 */
export function currentTick(timer: Timer): Date {
  const next = timer.scheduleStatus?.next;
  const parsed = next === undefined || next === "" ? Number.NaN : Date.parse(next);
  return Number.isNaN(parsed) || parsed <= NEVER ? new Date() : new Date(parsed);
}
