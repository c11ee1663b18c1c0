import type { DeviceState } from "./deviceState";

// The "reboot required" marker on a simulated device (issue 22), as install.ps1 / install.sh leave it in the device's
// temporary folder when the install needs a restart (RebootMarker), and the reboot section later in the same run
// command reads it once and removes it (reboot.ps1 / reboot.sh): without it, that section schedules nothing.

const markers = new WeakMap<DeviceState, Set<string>>();

/** Leaves (needed) or removes (not needed) the marker named `marker` on the device. */
export function setRebootMarker(state: DeviceState, marker: string, needed: boolean): void {
  const set = markers.get(state) ?? new Set<string>();
  markers.set(state, set);
  if (needed) set.add(marker);
  else set.delete(marker);
}

/** Reads and removes the marker named `marker`: true when it was there. */
export function takeRebootMarker(state: DeviceState, marker: string): boolean {
  const set = markers.get(state);
  const found = set?.has(marker) === true;
  set?.delete(marker);
  return found;
}
