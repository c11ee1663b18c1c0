import type { MaintenanceWindow, WindowRecurrence } from "../../schemas/policies";

/**
 * A scan window's recurrence when it names none: daily, as Azure Update Manager assesses every 24 hours (its periodic
 * assessment). A patch window always names one (the schema refuses it otherwise): installing on a default schedule
 * nobody chose would be a surprise, assessing daily is not.
 */
export const SCAN_DEFAULT_RECURRENCE: WindowRecurrence = { frequency: "Daily" };

/** When the window opens: its own recurrence, or daily for a scan window without one. */
export function windowRecurrence(window: Pick<MaintenanceWindow, "recurrence">): WindowRecurrence {
  return window.recurrence ?? SCAN_DEFAULT_RECURRENCE;
}

/** The window with its recurrence written out (what the management API saves, so every version shows it). */
export function withRecurrence(window: MaintenanceWindow): MaintenanceWindow {
  return { ...window, recurrence: windowRecurrence(window) };
}
