import type { ComputeManagementClient } from "@azure/arm-compute";
import { captureArmBodies } from "./armBodyTap";
import { isStatus, parseArm, RunCommandNotFoundError } from "./armErrors";
import { computeRunCommandModel, type RunCommandSpec } from "./runCommandSpec";
import { RunCommandResourceSchema, type RunCommandResource } from "./schemas/runCommand";

/** Where an Azure VM is: a standalone VM, or a Flexible scale set's instance (a VM in its own right). */
export interface VmAddress {
  resourceGroup: string;
  vmName: string;
}

function only(bodies: unknown[], operation: string): RunCommandResource {
  return parseArm(RunCommandResourceSchema, bodies[0], operation);
}

/**
 * VM run commands (`Microsoft.Compute/virtualMachines/runCommands`) through arm-compute's
 * `virtualMachineRunCommands`, for standalone VMs and Flexible VMSS instances. Each call sends one request: the
 * create's poller is only submitted, never polled (the caller polls with durable timers).
 */
export class VmRunCommandClient {
  constructor(private readonly compute: ComputeManagementClient) {}

  /** PUT of the run command (201/200); returns the resource as created. */
  async createOrUpdate(vm: VmAddress, name: string, spec: RunCommandSpec): Promise<RunCommandResource> {
    const bodies = await captureArmBodies(async () => {
      await this.compute.virtualMachineRunCommands
        .createOrUpdate(vm.resourceGroup, vm.vmName, name, computeRunCommandModel(spec))
        .submitted();
    });
    return only(bodies, "VM runCommands create");
  }

  /** GET with `$expand=instanceView` (Compute returns the instance view only when asked). */
  async get(vm: VmAddress, name: string, resourceId: string): Promise<RunCommandResource> {
    try {
      const bodies = await captureArmBodies(async () => {
        await this.compute.virtualMachineRunCommands.getByVirtualMachine(vm.resourceGroup, vm.vmName, name, {
          expand: "instanceView",
        });
      });
      return only(bodies, "VM runCommands get");
    } catch (error) {
      if (isStatus(error, 404)) throw new RunCommandNotFoundError(resourceId, name);
      throw error;
    }
  }

  /** DELETE (200/202/204); the poller is submitted, not awaited. */
  async delete(vm: VmAddress, name: string): Promise<void> {
    await this.compute.virtualMachineRunCommands.delete(vm.resourceGroup, vm.vmName, name).submitted();
  }
}
