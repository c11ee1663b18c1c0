import type { DeviceRunDeps } from "../../lib/deviceRun/deps";
import { finishRun } from "../../lib/deviceRun/finishRun";
import { FinishDeviceRunInputSchema, type DeviceRunResult } from "../../lib/schemas/deviceRun";

/**
 * The finishDeviceRun activity: seal, exit code, report and lock release (lib/deviceRun/finishRun.ts). Its input is
 * checked here, at the boundary; the engine gets it typed.
 */
export function makeFinishDeviceRun(deps: Pick<DeviceRunDeps, "evidence" | "locks" | "stages">) {
  return function finishDeviceRun(rawInput: unknown): Promise<DeviceRunResult> {
    return finishRun(deps, FinishDeviceRunInputSchema.parse(rawInput));
  };
}
