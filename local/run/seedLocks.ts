import type { DeviceLocks } from "../../lib/locks/deviceLock";
import { resolveTargeting, targetableOf } from "../fleet/scenario/resolveTargeting";
import type { Scenario } from "../fleet/scenario/scenarioSchema";

/**
 * Devices whose scenario says another PatchPilot run holds them (`runningCommand.runId`) get that run's lease in the
 * Locks table, so the window meets real lock contention (exit code 170).
 */
export async function seedLocks(locks: DeviceLocks, scenario: Scenario, now: Date): Promise<string[]> {
  const seeded: string[] = [];
  for (const device of scenario.devices) {
    const holder = device.runningCommand?.runId;
    const targetable = targetableOf(scenario, device);
    if (holder === undefined || targetable === undefined) continue;
    const { tenant, client } = resolveTargeting(scenario, targetable);
    const startedAt = new Date(now.getTime() - (device.runningCommand?.startedMinutesAgo ?? 0) * 60_000);
    const outcome = await locks.acquire({ tenant, client, device: device.name, runId: holder }, startedAt, 24 * 60);
    if (outcome.acquired) seeded.push(device.name);
  }
  return seeded;
}
