import type { DeviceState } from "./deviceState";

// The pre-install point's fence on a simulated device (issue 20), as hooks.ps1 / hooks.sh leave it in the device's
// temporary folder: written when an action of the point failed, read once and removed by the install that follows in
// the same run command (install.ps1 / install.sh). Kept beside the device state, per device.

const fences = new WeakMap<DeviceState, Map<string, string>>();

/** Leaves (failed: what failed) or clears (undefined) the fence named `fence` on the device. */
export function setHookFence(state: DeviceState, fence: string, failed: string | undefined): void {
  const map = fences.get(state) ?? new Map<string, string>();
  fences.set(state, map);
  if (failed === undefined) map.delete(fence);
  else map.set(fence, failed);
}

/** Reads and removes the fence named `fence`: what failed, or undefined when there is none. */
export function takeHookFence(state: DeviceState, fence: string): string | undefined {
  const map = fences.get(state);
  const failed = map?.get(fence);
  map?.delete(fence);
  return failed;
}
