import type { DeviceSpec, LinuxDeviceSpec, WindowsDeviceSpec } from "./deviceSchema";
import type { Scenario } from "./scenarioSchema";
import type { LinuxUpdateSpec, WindowsUpdateSpec } from "./updateSchema";

/** The keys a scenario may name a Windows update by (breaks, outcomes): KB and WUA update id. */
export function windowsUpdateKeys(update: Pick<WindowsUpdateSpec, "kb" | "updateId">): string[] {
  return [update.kb, update.updateId.toLowerCase()];
}

/** Finds a device's update by KB, WUA update id (any case) or package name. */
export function matchesUpdateKey(
  update: Pick<WindowsUpdateSpec, "kb" | "updateId"> | Pick<LinuxUpdateSpec, "name">,
  key: string,
): boolean {
  return "kb" in update
    ? windowsUpdateKeys(update).includes(key.startsWith("KB") ? key : key.toLowerCase())
    : update.name === key;
}

function withOutcome<U extends WindowsUpdateSpec | LinuxUpdateSpec>(update: U, outcomes: DeviceSpec["outcomes"]): U {
  const key = Object.keys(outcomes).find((k) => matchesUpdateKey(update, k));
  return key === undefined ? update : { ...update, outcome: outcomes[key] as U["outcome"] };
}

/**
 * A device's pending updates: its update sets in order, then its own `updates` (which replace a set's update with
 * the same KB / package), with `outcomes` overrides applied. Unknown set names are skipped (the schema reports them).
 */
export function resolveWindowsUpdates(
  scenario: Pick<Scenario, "updateSets">,
  device: WindowsDeviceSpec,
): WindowsUpdateSpec[] {
  const byKb = new Map<string, WindowsUpdateSpec>();
  for (const setName of device.updateSets) {
    const set = scenario.updateSets[setName];
    if (set?.os === "windows") for (const u of set.updates) byKb.set(u.kb, u);
  }
  for (const u of device.updates) byKb.set(u.kb, u);
  return [...byKb.values()].map((u) => withOutcome(u, device.outcomes));
}

/** As resolveWindowsUpdates, for Linux packages (keyed by package name). */
export function resolveLinuxUpdates(
  scenario: Pick<Scenario, "updateSets">,
  device: LinuxDeviceSpec,
): LinuxUpdateSpec[] {
  const byName = new Map<string, LinuxUpdateSpec>();
  for (const setName of device.updateSets) {
    const set = scenario.updateSets[setName];
    if (set?.os === "linux") for (const u of set.updates) byName.set(u.name, u);
  }
  for (const u of device.updates) byName.set(u.name, u);
  return [...byName.values()].map((u) => withOutcome(u, device.outcomes));
}

/** Either OS. */
export function resolveDeviceUpdates(
  scenario: Pick<Scenario, "updateSets">,
  device: DeviceSpec,
): (WindowsUpdateSpec | LinuxUpdateSpec)[] {
  return device.os === "windows" ? resolveWindowsUpdates(scenario, device) : resolveLinuxUpdates(scenario, device);
}
