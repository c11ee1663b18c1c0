import type { DeviceRunDeps } from "../../lib/deviceRun/deps";
import { runFailureHooks } from "../../lib/deviceRun/hooks/runFailureHooks";
import { RunFailureHooksInputSchema, type RunFailureHooksResult } from "../../lib/schemas/failureHooks";

/**
 * The runFailureHooks activity: one look of the device run's failure path for hooks (on-failure and `always` after
 * the run was given up; lib/deviceRun/hooks/runFailureHooks.ts). Its input is checked here, at the boundary.
 */
export function makeRunFailureHooks(deps: DeviceRunDeps) {
  return function runFailureHooksActivity(rawInput: unknown): Promise<RunFailureHooksResult> {
    return runFailureHooks(deps, RunFailureHooksInputSchema.parse(rawInput));
  };
}
