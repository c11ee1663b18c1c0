import { isRestError } from "@azure/core-rest-pipeline";
import type { DeviceRunDeps } from "../../lib/deviceRun/deps";
import { finishRun } from "../../lib/deviceRun/finishRun";
import { restoreLoadBalancerAfterGivingUp } from "../../lib/deviceRun/loadBalancer/restoreAfterGivingUp";
import { sealedResult } from "../../lib/deviceRun/sealedResult";
import { FinishDeviceRunInputSchema, type FinishedRun, type FinishDeviceRunInput } from "../../lib/schemas/deviceRun";

type FinishDeps = Pick<DeviceRunDeps, "evidence" | "locks" | "stages"> & Partial<Pick<DeviceRunDeps, "arm">>;

/**
 * A run given up by the orchestrator (its advance loop failed) after a load-balancer drain still owes the pool
 * membership back (issue 20, `always`): restored here, before the seal, so the restore's evidence is sealed with the
 * run. A run that never drained or already restored changes nothing. ARM refusing or failing the restore must not
 * keep the run from being sealed: the refusal is recorded as a run event (the pools to put back are in the sealed
 * `lb-pools-before.json`) and the finish goes on.
 */
async function restoreGivenUpDrain(deps: FinishDeps, parsed: FinishDeviceRunInput): Promise<FinishDeviceRunInput> {
  const { input, state, now, failure } = parsed;
  if (failure === undefined || state.lockContended || deps.arm === undefined) return parsed;
  try {
    const restored = await restoreLoadBalancerAfterGivingUp(
      { evidence: deps.evidence, arm: deps.arm },
      input,
      state,
      new Date(now),
    );
    return { ...parsed, state: restored };
  } catch (error) {
    if (!isRestError(error)) throw error;
    const reason = `load-balancer restore failed (ARM ${error.statusCode ?? "no status"}): ${error.message}`;
    const event = { at: now, type: "loadBalancer.restoreFailed", data: { reason: reason.slice(0, 1000) } };
    return { ...parsed, state: { ...state, events: [...state.events, event] } };
  }
}

/**
 * The finishDeviceRun activity: seal, exit code, report and lock release (lib/deviceRun/finishRun.ts). Its input is
 * checked here, at the boundary; the engine gets it typed.
 */
export function makeFinishDeviceRun(deps: FinishDeps) {
  return async function finishDeviceRun(rawInput: unknown): Promise<FinishedRun> {
    const request = FinishDeviceRunInputSchema.parse(rawInput);
    // Sealed already (the ending advance sealed it and its answer was lost): the seal is final, return what it says.
    const sealed = await sealedResult(deps.evidence, request.input.run);
    if (sealed !== undefined) {
      // The sealing call may have stopped before its lock release; releasing a lock no longer held is a no-op.
      const { run } = request.input;
      if (!request.state.lockContended)
        await deps.locks.release({ tenant: run.tenant, device: run.device, runId: run.runId });
      return sealed;
    }
    return finishRun(deps, await restoreGivenUpDrain(deps, request));
  };
}
