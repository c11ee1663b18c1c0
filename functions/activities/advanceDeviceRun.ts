import { advanceRun } from "../../lib/deviceRun/advanceRun";
import type { DeviceRunDeps } from "../../lib/deviceRun/deps";
import { AdvanceDeviceRunInputSchema, type DeviceRunState } from "../../lib/schemas/deviceRun";

/**
 * The advanceDeviceRun activity: polls, records and plans one move of a device run (lib/deviceRun/advanceRun.ts).
 * Its input is checked here, at the boundary; the engine gets it typed.
 */
export function makeAdvanceDeviceRun(deps: DeviceRunDeps) {
  return function advanceDeviceRun(rawInput: unknown): Promise<DeviceRunState> {
    return advanceRun(deps, AdvanceDeviceRunInputSchema.parse(rawInput));
  };
}
