import type { ArmClients } from "./armClients";
import { captureArmBodies } from "./armBodyTap";
import { parseArm, rethrowThrottled } from "./armErrors";
import { AgentStatusSchema, type AgentStatus, type DeviceRef } from "./deviceRef";
import { HybridMachineSchema } from "./schemas/hybridMachine";
import { ScaleSetVmListSchema, type ScaleSetVm } from "./schemas/scaleSet";

// Same mappings as inventory.ts: Arc reports the agent status itself; a VMSS instance's VM agent readiness stands in.
function arcStatus(status: string | null | undefined): AgentStatus {
  const parsed = AgentStatusSchema.safeParse(status);
  return parsed.success ? parsed.data : "Unknown";
}

function vmAgentStatus(vm: ScaleSetVm | undefined): AgentStatus {
  const display = vm?.properties?.instanceView?.vmAgent?.statuses?.[0]?.displayStatus;
  if (display === "Ready") return "Connected";
  if (display === "Not Ready") return "Disconnected";
  return "Unknown";
}

/**
 * The device's agent status now, read through ARM (no run command): Arc `machines.get` → `properties.status`; a VMSS
 * instance → its VM agent's readiness. VMSS instances are read with the scale set's instance list (`$expand=
 * instanceView`), which both ARM and the local fleet emulator serve; a per-instance `getInstanceView` would be one
 * smaller read in Azure.
 */
export async function getAgentStatus(arm: ArmClients, device: DeviceRef): Promise<AgentStatus> {
  if (device.kind === "arc") {
    const client = arm.hybridCompute(device.subscriptionId);
    try {
      const bodies = await captureArmBodies(async () => {
        await client.machines.get(device.resourceGroup, device.machineName);
      });
      return arcStatus(parseArm(HybridMachineSchema, bodies.at(-1), "machines get").properties?.status);
    } catch (error) {
      return rethrowThrottled(error, `get machine ${device.machineName}`);
    }
  }
  const client = arm.compute(device.subscriptionId);
  try {
    const bodies = await captureArmBodies(async () => {
      for await (const _page of client.virtualMachineScaleSetVMs
        .list(device.resourceGroup, device.scaleSetName, { expand: "instanceView" })
        .byPage()) {
        // Drives nextLink paging; the wire bodies are parsed below.
      }
    });
    const vms = bodies.flatMap((body) => parseArm(ScaleSetVmListSchema, body, "virtualMachineScaleSetVMs list").value);
    return vmAgentStatus(vms.find((vm) => vm.instanceId === device.instanceId));
  } catch (error) {
    return rethrowThrottled(error, `list instances of ${device.scaleSetName}`);
  }
}
