import type { SimulatedFleet } from "../../../local/fleet/scenario/buildFleet";

/** How many install records each simulated device holds now (device name → count). */
export function installCounts(fleet: SimulatedFleet): Map<string, number> {
  return new Map(fleet.devices.map((d) => [d.name, d.state.installRecords.length]));
}

/** Updates a simulated device installed more than once, per device (devices without any are left out). */
export function repeatedInstalls(fleet: SimulatedFleet): Record<string, string[]> {
  const repeated: Record<string, string[]> = {};
  for (const device of fleet.devices) {
    const keys = device.state.installRecords.map((r) => r.update.key);
    const twice = [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];
    if (twice.length > 0) repeated[device.name] = twice;
  }
  return repeated;
}
