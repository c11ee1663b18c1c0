import type { ArmClients } from "./armClients";
import { captureArmBodies } from "./armBodyTap";
import { parseArm } from "./armErrors";
import { AgentStatusSchema, type AgentStatus, type DeviceRef } from "./deviceRef";
import type { OsFamily } from "../schemas/common";
import { HybridMachineListSchema, type HybridMachine } from "./schemas/hybridMachine";
import { ScaleSetListSchema, ScaleSetVmListSchema, type ScaleSet, type ScaleSetVm } from "./schemas/scaleSet";

/** The tags PatchPilot targets by (on VMSS instances: the scale set's tags). */
export const TARGET_TAGS = {
  tenant: "patchpilot:tenant",
  client: "patchpilot:client",
  ring: "patchpilot:ring",
  window: "patchpilot:window",
} as const;

/** Which devices to include: every given tag must match exactly; omitted ones match anything. */
export type DeviceTarget = Partial<Record<keyof typeof TARGET_TAGS, string>>;

/** Where to look. */
export interface InventoryScope {
  subscriptionIds: readonly string[];
  /** Only this resource group (in every subscription); all of them when omitted. */
  resourceGroup?: string;
}

/** A resource that matched the target but cannot be patched, and why. */
export interface SkippedResource {
  resourceId: string;
  reason: string;
}

/** The inventory: reachable devices, and tagged resources that were left out with a reason. */
export interface Inventory {
  devices: DeviceRef[];
  skipped: SkippedResource[];
}

/** Lists Arc machines and VMSS instances whose tags match `target`, following nextLink on every list. */
export async function listDevices(
  clients: ArmClients,
  scope: InventoryScope,
  target: DeviceTarget = {},
): Promise<Inventory> {
  const inventory: Inventory = { devices: [], skipped: [] };
  for (const subscriptionId of scope.subscriptionIds) {
    for (const machine of await listArcMachines(clients, subscriptionId, scope.resourceGroup)) {
      if (matches(machine.tags, target)) add(inventory, arcDevice(machine, subscriptionId));
    }
    for (const scaleSet of await listScaleSets(clients, subscriptionId, scope.resourceGroup)) {
      if (!matches(scaleSet.tags, target)) continue;
      for (const vm of await listScaleSetVms(clients, subscriptionId, scaleSet)) {
        add(inventory, vmssDevice(scaleSet, vm, subscriptionId));
      }
    }
  }
  return inventory;
}

function add(inventory: Inventory, result: DeviceRef | SkippedResource): void {
  if ("kind" in result) inventory.devices.push(result);
  else inventory.skipped.push(result);
}

function matches(tags: Record<string, string> | null | undefined, target: DeviceTarget): boolean {
  return (Object.keys(target) as (keyof typeof TARGET_TAGS)[]).every(
    (key) => target[key] === undefined || tags?.[TARGET_TAGS[key]] === target[key],
  );
}

async function listArcMachines(
  clients: ArmClients,
  subscriptionId: string,
  resourceGroup?: string,
): Promise<HybridMachine[]> {
  const client = clients.hybridCompute(subscriptionId);
  const bodies = await captureArmBodies(async () => {
    const pages =
      resourceGroup === undefined
        ? client.machines.listBySubscription()
        : client.machines.listByResourceGroup(resourceGroup);
    for await (const _page of pages.byPage()) {
      // Drives the SDK's nextLink paging; the wire bodies are parsed below.
    }
  });
  return bodies.flatMap((body) => parseArm(HybridMachineListSchema, body, "machines list").value);
}

async function listScaleSets(clients: ArmClients, subscriptionId: string, resourceGroup?: string): Promise<ScaleSet[]> {
  const client = clients.compute(subscriptionId);
  const bodies = await captureArmBodies(async () => {
    const pages =
      resourceGroup === undefined
        ? client.virtualMachineScaleSets.listAll()
        : client.virtualMachineScaleSets.list(resourceGroup);
    for await (const _page of pages.byPage()) {
      // As above.
    }
  });
  return bodies.flatMap((body) => parseArm(ScaleSetListSchema, body, "virtualMachineScaleSets list").value);
}

async function listScaleSetVms(clients: ArmClients, subscriptionId: string, scaleSet: ScaleSet): Promise<ScaleSetVm[]> {
  const client = clients.compute(subscriptionId);
  const resourceGroup = resourceGroupOf(scaleSet.id);
  const bodies = await captureArmBodies(async () => {
    const pages = client.virtualMachineScaleSetVMs.list(resourceGroup, scaleSet.name, { expand: "instanceView" });
    for await (const _page of pages.byPage()) {
      // As above.
    }
  });
  return bodies.flatMap((body) => parseArm(ScaleSetVmListSchema, body, "virtualMachineScaleSetVMs list").value);
}

/** The resource group segment of an ARM id (ARM treats it case-insensitively; keep it as spelled). */
export function resourceGroupOf(resourceId: string): string {
  const match = /\/resourceGroups\/([^/]+)/i.exec(resourceId);
  if (match?.[1] === undefined) throw new Error(`not an ARM resource id: ${resourceId}`);
  return match[1];
}

function osFamily(osType: string | null | undefined, osName?: string | null): OsFamily | undefined {
  const text = (osType ?? osName ?? "").toLowerCase();
  if (text.startsWith("windows")) return "windows";
  if (text.startsWith("linux")) return "linux";
  return undefined;
}

function arcStatus(status: string | null | undefined): AgentStatus {
  const parsed = AgentStatusSchema.safeParse(status);
  return parsed.success ? parsed.data : "Unknown";
}

function arcDevice(machine: HybridMachine, subscriptionId: string): DeviceRef | SkippedResource {
  const os = osFamily(machine.properties?.osType, machine.properties?.osName);
  if (os === undefined) return { resourceId: machine.id, reason: "operating system not reported yet (osType is null)" };
  return {
    kind: "arc",
    machineName: machine.name,
    resourceId: machine.id,
    name: machine.name,
    os,
    tags: machine.tags ?? {},
    status: arcStatus(machine.properties?.status),
    subscriptionId,
    resourceGroup: resourceGroupOf(machine.id),
    location: machine.location,
  };
}

// A VMSS VM has no Arc-style status; the VM agent's readiness ("Ready" / "Not Ready") says whether Run Command can
// reach it.
function vmAgentStatus(vm: ScaleSetVm): AgentStatus {
  const display = vm.properties?.instanceView?.vmAgent?.statuses?.[0]?.displayStatus;
  if (display === "Ready") return "Connected";
  if (display === "Not Ready") return "Disconnected";
  return "Unknown";
}

function vmssDevice(scaleSet: ScaleSet, vm: ScaleSetVm, subscriptionId: string): DeviceRef | SkippedResource {
  const os = osFamily(
    vm.properties?.storageProfile?.osDisk?.osType ??
      scaleSet.properties?.virtualMachineProfile?.storageProfile?.osDisk?.osType,
    vm.properties?.instanceView?.osName,
  );
  if (os === undefined) return { resourceId: vm.id, reason: "operating system type unknown" };
  return {
    kind: "vmss",
    scaleSetName: scaleSet.name,
    instanceId: vm.instanceId,
    resourceId: vm.id,
    name: vm.properties?.osProfile?.computerName ?? vm.properties?.instanceView?.computerName ?? vm.name,
    os,
    tags: scaleSet.tags ?? {},
    status: vmAgentStatus(vm),
    subscriptionId,
    resourceGroup: resourceGroupOf(vm.id),
    location: vm.location,
  };
}
