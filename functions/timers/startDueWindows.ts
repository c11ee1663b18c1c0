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
    // The occurrence time the trigger fired for (the local host's virtual clock, or Azure's schedule), not "now".
    const last = timer.scheduleStatus?.last;
    const now = last !== undefined && last !== "" && !Number.isNaN(Date.parse(last)) ? new Date(last) : new Date();
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
