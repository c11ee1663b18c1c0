import { withLoadBalancer } from "../../domain/loadBalancer/planLoadBalancer";
import type { DeviceRunInput, DeviceRunState } from "../../schemas/deviceRun";
import type { DeviceRunDeps } from "../deps";
import { RunFacts } from "../runFacts";
import { StoredList } from "../storedArtifacts";
import { carryOutLoadBalancer } from "./carryOutLoadBalancer";

/**
 * The load-balancer part of `always` when the advance loop gave up (issue 20): a run that drained its device and never
 * reached the post stage puts the pool membership back before it is sealed. For the orchestrator's failure path (an
 * activity run before finishDeviceRun; hook points, issue 20): it asks the pure planner as for a run that ends, so a
 * run that never drained, or already restored, changes nothing and writes nothing. Idempotent as the restore is.
 * Returns the state to seal (the restore's event and evidence added).
 */
export async function restoreLoadBalancerAfterGivingUp(
  deps: Pick<DeviceRunDeps, "evidence" | "arm">,
  input: DeviceRunInput,
  state: DeviceRunState,
  now: Date,
): Promise<DeviceRunState> {
  const plan = withLoadBalancer(state, { state: { ...state, stage: "done" }, submit: [], record: [] }, now);
  if (plan.record.length === 0) return state;
  const stored = new StoredList(state.stored);
  const facts = new RunFacts(deps.evidence, input.run, () => stored.list());
  await carryOutLoadBalancer(deps, input.run, input.device, facts, plan.record, stored, now);
  return { ...state, events: plan.state.events, stored: stored.list() };
}
