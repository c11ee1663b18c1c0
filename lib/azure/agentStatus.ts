import type { ArmClients } from "./armClients";
import { captureArmBodies } from "./armBodyTap";
import { parseArm, rethrowThrottled } from "./armErrors";
import { AgentStatusSchema, type AgentStatus, type DeviceRef } from "./deviceRef";
import { VmInstanceViewSchema, type VmInstanceView } from "./schemas/scaleSet";

function arcStatus(status: string | null | undefined): AgentStatus {
  const parsed = AgentStatusSchema.safeParse(status);
  return parsed.success ? parsed.data : "Unknown";
}

// A Compute VM has no Arc-style status; the VM agent's readiness ("Ready" / "Not Ready") says whether Run Command
// can reach it.
function vmAgentStatus(view: VmInstanceView | undefined): AgentStatus {
  const display = view?.vmAgent?.statuses?.[0]?.displayStatus;
  if (display === "Ready") return "Connected";
  if (display === "Not Ready") return "Disconnected";
  return "Unknown";
}

/**
 * The device's agent status now, read through ARM with one GET of that one machine (no run command, no listing):
 * Arc `Machines_Get` → `properties.status`; a Uniform VMSS instance → `virtualMachineScaleSetVMs.getInstanceView`;
 * an Azure VM or Flexible instance → `virtualMachines.instanceView`; the VM agent's readiness stands in.
 */
export async function getAgentStatus(arm: ArmClients, device: DeviceRef): Promise<AgentStatus> {
  try {
    if (device.kind === "arc") {
      const machine = await arm.arcRunCommands.getMachine({
        subscriptionId: device.subscriptionId,
        resourceGroup: device.resourceGroup,
        machineName: device.machineName,
      });
      return arcStatus(machine.properties?.status);
    }
    const compute = arm.compute(device.subscriptionId);
    const bodies = await captureArmBodies(async () => {
      if (device.kind === "vmss")
        await compute.virtualMachineScaleSetVMs.getInstanceView(
          device.resourceGroup,
          device.scaleSetName,
          device.instanceId,
        );
      else await compute.virtualMachines.instanceView(device.resourceGroup, device.vmName);
    });
    return vmAgentStatus(parseArm(VmInstanceViewSchema, bodies.at(-1), "instance view"));
  } catch (error) {
    return rethrowThrottled(error, `read the agent status of ${device.name}`);
  }
}
