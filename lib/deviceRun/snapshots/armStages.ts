import { getAgentStatus } from "../../azure/agentStatus";
import type { StageOutcome } from "../../domain/run/planDeviceRun";
import type { DeviceRunInput, DeviceRunState } from "../../schemas/deviceRun";
import type { DeviceRunDeps } from "../deps";
import type { RecordStepContext } from "../recordStep";
import { restoreOsDisk } from "./restoreOsDisk";
import { takeSnapshots } from "./takeSnapshots";

/**
 * The stages whose work is an ARM-side action of the advance activity rather than a run command (issue 20): the
 * snapshots before the install, the OS-disk swap of a restoreSnapshot remediation, and the wait for the restarted VM's
 * agent. Undefined for every other stage.
 */
export async function lookArmStage(
  deps: DeviceRunDeps,
  ctx: RecordStepContext,
  input: DeviceRunInput,
  state: DeviceRunState,
): Promise<StageOutcome | undefined> {
  switch (state.stage) {
    case "snapshot":
      return takeSnapshots(deps, ctx, input);
    case "restore":
      return restoreOsDisk(deps, ctx, input, state);
    case "restoreWait":
      return { stage: "restoreWait", agentStatus: await getAgentStatus(deps.arm, input.device) };
    default:
      return undefined;
  }
}
