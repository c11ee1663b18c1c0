import type { DeviceRunDeps } from "../../lib/deviceRun/deps";
import { startRun } from "../../lib/deviceRun/startRun";
import { StartDeviceRunInputSchema, type DeviceRunState } from "../../lib/schemas/deviceRun";

/**
 * The startDeviceRun activity: phase 01 and the first stage's steps (lib/deviceRun/startRun.ts). Its input is
 * checked here, at the boundary; the engine gets it typed.
 */
export function makeStartDeviceRun(deps: DeviceRunDeps) {
  return function startDeviceRun(rawInput: unknown): Promise<DeviceRunState> {
    return startRun(deps, StartDeviceRunInputSchema.parse(rawInput));
  };
}
