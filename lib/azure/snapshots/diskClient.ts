import { isRestError } from "@azure/core-rest-pipeline";
import type { ArmClients } from "../armClients";
import { rethrowThrottled } from "../armErrors";
import type { DeviceRef } from "../deviceRef";

/** A managed disk of the device, as its VM model names it. */
export interface DeviceDisk {
  /** `os`, or `lun{N}` for a data disk. */
  disk: string;
  id: string;
}

/** The device's VM model: its resource id, region and managed disks. */
export interface DeviceDisks {
  resourceId: string;
  location: string;
  disks: DeviceDisk[];
}

/** A snapshot as listed by ARM: what retention reads. */
export interface ListedSnapshot {
  id: string;
  name: string;
  tags: Record<string, string>;
  timeCreated?: string;
}

/** ARM answered with an error that retrying will not change (not a 429 / 503: those are thrown as throttling). */
export class DiskActionError extends Error {
  constructor(
    readonly operation: string,
    readonly statusCode: number | undefined,
    readonly armCode: string | undefined,
    message: string,
  ) {
    super(`${operation}: ${statusCode ?? "no status"} ${armCode ?? ""} ${message}`.replace(/\s+/g, " ").trim());
    this.name = "DiskActionError";
  }
}

/** Runs one ARM action: throttling is rethrown as such; any other REST error becomes a DiskActionError. */
async function act<T>(operation: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!isRestError(error)) throw error;
    if (error.statusCode === 429 || error.statusCode === 503) rethrowThrottled(error, operation);
    throw new DiskActionError(operation, error.statusCode, error.code, error.message.slice(0, 1000));
  }
}

type ComputeDevice = Exclude<DeviceRef, { kind: "arc" }>;

/** The resource name of an ARM id's last segment. */
export const nameOfId = (id: string): string =>
  id
    .split("/")
    .filter((p) => p !== "")
    .at(-1) ?? id;

/**
 * Managed-disk snapshots and the OS-disk swap through `@azure/arm-compute` (DiskRP `snapshots` / `disks`, ComputeRP
 * `virtualMachines`), in the device's resource group. Each long-running operation is awaited to its end: the advance
 * activity records the result as evidence before the install command is sent.
 */
export class DiskClient {
  constructor(
    private readonly arm: ArmClients,
    private readonly device: ComputeDevice,
  ) {}

  private get compute() {
    return this.arm.compute(this.device.subscriptionId);
  }

  private get rg(): string {
    return this.device.resourceGroup;
  }

  /** The VM (or Uniform scale-set instance) model: OS disk and data disks. */
  async disks(): Promise<DeviceDisks & { osCreateOption: string }> {
    const d = this.device;
    const vm = await act(`read the VM model of ${d.name}`, () =>
      d.kind === "vmss"
        ? this.compute.virtualMachineScaleSetVMs.get(this.rg, d.scaleSetName, d.instanceId)
        : this.compute.virtualMachines.get(this.rg, d.vmName),
    );
    const storage = vm.storageProfile;
    const os = storage?.osDisk?.managedDisk?.id;
    const disks: DeviceDisk[] = os === undefined ? [] : [{ disk: "os", id: os }];
    for (const data of storage?.dataDisks ?? []) {
      const id = data.managedDisk?.id;
      if (id !== undefined) disks.push({ disk: `lun${data.lun}`, id });
    }
    return {
      resourceId: vm.id ?? d.resourceId,
      location: vm.location ?? d.location,
      disks,
      osCreateOption: storage?.osDisk?.createOption ?? "FromImage",
    };
  }

  /** PUT of an incremental snapshot of `sourceDiskId` (a copy of the disk as it is now), tagged. */
  async createSnapshot(name: string, sourceDiskId: string, location: string, tags: Record<string, string>) {
    return act(`snapshot ${nameOfId(sourceDiskId)}`, () =>
      this.compute.snapshots.createOrUpdate(this.rg, name, {
        location,
        tags,
        creationData: { createOption: "Copy", sourceResourceId: sourceDiskId },
        incremental: true,
      }),
    );
  }

  /** Every snapshot in the device's resource group (retention picks PatchPilot's own by their tags). */
  async listSnapshots(): Promise<ListedSnapshot[]> {
    return act(`list the snapshots of resource group ${this.rg}`, async () => {
      const out: ListedSnapshot[] = [];
      for await (const s of this.compute.snapshots.listByResourceGroup(this.rg)) {
        if (s.id === undefined || s.name === undefined) continue;
        const timeCreated = s.timeCreated;
        out.push({
          id: s.id,
          name: s.name,
          tags: { ...(s.tags ?? {}) },
          ...(timeCreated === undefined ? {} : { timeCreated: new Date(timeCreated).toISOString() }),
        });
      }
      return out;
    });
  }

  async deleteSnapshot(name: string): Promise<void> {
    await act(`delete snapshot ${name}`, async () => {
      await this.compute.snapshots.delete(this.rg, name);
    });
  }

  private vmName(): string {
    if (this.device.kind === "vmss") throw new Error(`${this.device.name}: a Uniform scale-set instance has no VM API`);
    return this.device.vmName;
  }

  async deallocate(): Promise<void> {
    await act(`deallocate ${this.device.name}`, async () => {
      await this.compute.virtualMachines.deallocate(this.rg, this.vmName());
    });
  }

  async start(): Promise<void> {
    await act(`start ${this.device.name}`, async () => {
      await this.compute.virtualMachines.start(this.rg, this.vmName());
    });
  }

  /** PUT of a managed disk copied from a snapshot; returns its id. */
  async createDiskFromSnapshot(name: string, snapshotId: string, location: string, tags: Record<string, string>) {
    const disk = await act(`create disk ${name} from ${nameOfId(snapshotId)}`, () =>
      this.compute.disks.createOrUpdate(this.rg, name, {
        location,
        tags,
        creationData: { createOption: "Copy", sourceResourceId: snapshotId },
      }),
    );
    if (disk.id === undefined) throw new DiskActionError(`create disk ${name}`, undefined, undefined, "no id returned");
    return disk.id;
  }

  /** The documented OS-disk swap: a PATCH of the (deallocated) VM's storageProfile.osDisk.managedDisk.id. */
  async swapOsDisk(diskId: string, createOption: string): Promise<string | undefined> {
    const vm = await act(`swap the OS disk of ${this.device.name}`, () =>
      this.compute.virtualMachines.update(this.rg, this.vmName(), {
        // createOption is the model's own (the SDK's type requires it; a PATCH keeps it as it was).
        storageProfile: { osDisk: { name: nameOfId(diskId), createOption, managedDisk: { id: diskId } } },
      }),
    );
    return vm.storageProfile?.osDisk?.managedDisk?.id;
  }
}
