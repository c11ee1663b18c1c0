import type { ComputeManagementClient } from "@azure/arm-compute";
import { captureArmBodies } from "./armBodyTap";
import { isStatus, parseArm, RunCommandNotFoundError } from "./armErrors";
import { computeRunCommandModel, type RunCommandSpec } from "./runCommandSpec";
import { RunCommandListSchema, RunCommandResourceSchema, type RunCommandResource } from "./schemas/runCommand";

/** Where a VMSS instance is. */
export interface VmssInstanceAddress {
  resourceGroup: string;
  scaleSetName: string;
  instanceId: string;
}

function only(bodies: unknown[], operation: string): RunCommandResource {
  return parseArm(RunCommandResourceSchema, bodies[0], operation);
}

/**
 * VMSS VM run commands through arm-compute's `virtualMachineScaleSetVMRunCommands`. Each call sends one request:
 * the create's poller is only submitted, never polled (the caller polls with durable timers).
 */
export class VmssRunCommandClient {
  constructor(private readonly compute: ComputeManagementClient) {}

  /** PUT of the run command (201/200); returns the resource as created. */
  async createOrUpdate(vm: VmssInstanceAddress, name: string, spec: RunCommandSpec): Promise<RunCommandResource> {
    const bodies = await captureArmBodies(async () => {
      const poller = this.compute.virtualMachineScaleSetVMRunCommands.createOrUpdate(
        vm.resourceGroup,
        vm.scaleSetName,
        vm.instanceId,
        name,
        computeRunCommandModel(spec),
      );
      await poller.submitted();
    });
    return only(bodies, "VMSS runCommands create");
  }

  /** GET with `$expand=instanceView`. */
  async get(vm: VmssInstanceAddress, name: string, resourceId: string): Promise<RunCommandResource> {
    try {
      const bodies = await captureArmBodies(async () => {
        await this.compute.virtualMachineScaleSetVMRunCommands.get(
          vm.resourceGroup,
          vm.scaleSetName,
          vm.instanceId,
          name,
          {
            expand: "instanceView",
          },
        );
      });
      return only(bodies, "VMSS runCommands get");
    } catch (error) {
      if (isStatus(error, 404)) throw new RunCommandNotFoundError(resourceId, name);
      throw error;
    }
  }

  /** DELETE (200/202/204); the poller is submitted, not awaited. */
  async delete(vm: VmssInstanceAddress, name: string): Promise<void> {
    await this.compute.virtualMachineScaleSetVMRunCommands
      .delete(vm.resourceGroup, vm.scaleSetName, vm.instanceId, name)
      .submitted();
  }

  /** Lists the run commands on an instance (with instance views), following nextLink. */
  async list(vm: VmssInstanceAddress): Promise<RunCommandResource[]> {
    const bodies = await captureArmBodies(async () => {
      for await (const _page of this.compute.virtualMachineScaleSetVMRunCommands
        .list(vm.resourceGroup, vm.scaleSetName, vm.instanceId, { expand: "instanceView" })
        .byPage()) {
        // Drives the paging; the wire bodies are parsed below.
      }
    });
    return bodies.flatMap((body) => parseArm(RunCommandListSchema, body, "VMSS runCommands list").value);
  }
}
