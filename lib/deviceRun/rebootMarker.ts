import { hashScript } from "../device/registry";
import type { DeviceRunInput } from "../schemas/deviceRun";

// Issue 22: the names the step table needs for the reboot in the install's run command (lib/deviceRun/rebootWithInstall.ts
// holds the fold itself; kept apart so the step table does not import the collector through it).

/** The step that carries the reboot at the end of the install's command. */
export const REBOOT_AFTER_INSTALL = "rebootAfterInstall";

/**
 * The run's "reboot required" marker: derived from the run, so a retry sends the same bytes and no other run's marker
 * is ever read (a marker left by a run that crashed between the install and the reboot section is another name).
 */
export function rebootMarker(input: DeviceRunInput): string {
  const { tenant, client, device, runId } = input.run;
  return `pp-${hashScript(`${tenant}/${client}/${device}/${runId}/reboot-required`).slice(0, 40)}`;
}
