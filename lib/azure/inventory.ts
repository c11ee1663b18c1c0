import type { ArmClients } from "./armClients";
import { captureArmBodies } from "./armBodyTap";
import { parseArm, rethrowThrottled } from "./armErrors";
import { AgentStatusSchema, type AgentStatus, type DeviceRef } from "./deviceRef";
import { inventoryQuery, type DeviceTarget } from "./inventoryQuery";
import type { OsFamily } from "../schemas/common";
import { InventoryRowSchema, QueryResponseSchema, type InventoryRow } from "./schemas/resourceGraph";

export { TARGET_TAGS, type DeviceTarget } from "./inventoryQuery";

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

/** Rows per Resource Graph page (its maximum is 1000). */
const PAGE_ROWS = 1000;

/**
 * Lists Arc machines, Azure VMs, Flexible and Uniform VMSS instances whose tags match `target`: one Resource Graph
 * query over all the subscriptions, paged with `$skipToken` (so discovery needs Reader only where the machines are).
 */
export async function listDevices(
  clients: ArmClients,
  scope: InventoryScope,
  target: DeviceTarget = {},
): Promise<Inventory> {
  const inventory: Inventory = { devices: [], skipped: [] };
  if (scope.subscriptionIds.length === 0) return inventory;
  const query = inventoryQuery(target, scope.resourceGroup);
  let skipToken: string | undefined;
  do {
    const token = skipToken;
    let bodies: unknown[];
    try {
      bodies = await captureArmBodies(async () => {
        await clients.resourceGraph.resources({
          subscriptions: [...scope.subscriptionIds],
          query,
          options: {
            resultFormat: "objectArray",
            top: PAGE_ROWS,
            ...(token === undefined ? {} : { skipToken: token }),
          },
        });
      });
    } catch (error) {
      return rethrowThrottled(error, "Resource Graph inventory query");
    }
    const page = parseArm(QueryResponseSchema, bodies.at(-1), "Resource Graph resources");
    for (const raw of page.data) add(inventory, deviceOf(parseArm(InventoryRowSchema, raw, "inventory row")));
    skipToken = page.$skipToken ?? undefined;
  } while (skipToken !== undefined);
  return inventory;
}

function add(inventory: Inventory, result: DeviceRef | SkippedResource): void {
  if ("kind" in result) inventory.devices.push(result);
  else inventory.skipped.push(result);
}

/** The resource group segment of an ARM id (ARM treats it case-insensitively; keep it as spelled). */
export function resourceGroupOf(resourceId: string): string {
  const match = /\/resourceGroups\/([^/]+)/i.exec(resourceId);
  if (match?.[1] === undefined) throw new Error(`not an ARM resource id: ${resourceId}`);
  return match[1];
}

function osFamily(osType: string | null | undefined): OsFamily | undefined {
  const text = (osType ?? "").toLowerCase();
  if (text.startsWith("windows")) return "windows";
  if (text.startsWith("linux")) return "linux";
  return undefined;
}

function arcStatus(status: string | null | undefined): AgentStatus {
  const parsed = AgentStatusSchema.safeParse(status);
  return parsed.success ? parsed.data : "Unknown";
}

// Resource Graph holds no VM agent status for Compute VMs: the power state stands in at discovery (a stopped or
// deallocated VM cannot run a command); the reboot wait reads the agent's readiness itself (agentStatus.ts).
function powerStatus(powerState: string | null | undefined): AgentStatus {
  const state = (powerState ?? "").toLowerCase();
  if (state === "powerstate/running") return "Connected";
  if (state === "") return "Unknown";
  return "Disconnected";
}

/** `.../virtualMachineScaleSets/{name}/virtualMachines/{instanceId}` → name and instance id. */
function uniformParts(id: string): { scaleSetName: string; instanceId: string } | undefined {
  const match = /\/virtualMachineScaleSets\/([^/]+)\/virtualMachines\/([^/]+)$/i.exec(id);
  return match?.[1] === undefined || match[2] === undefined
    ? undefined
    : { scaleSetName: match[1], instanceId: match[2] };
}

function deviceOf(row: InventoryRow): DeviceRef | SkippedResource {
  const type = row.type.toLowerCase();
  const os = osFamily(row.osType);
  if (os === undefined) return { resourceId: row.id, reason: "operating system not reported yet (osType is empty)" };
  const common = {
    resourceId: row.id,
    os,
    tags: row.tags ?? {},
    subscriptionId: row.subscriptionId,
    resourceGroup: row.resourceGroup,
    location: row.location,
  };
  const computer = row.computerName === null || row.computerName === undefined || row.computerName === "";
  if (type === "microsoft.hybridcompute/machines") {
    return { kind: "arc", machineName: row.name, name: row.name, status: arcStatus(row.agentStatus), ...common };
  }
  const name = computer ? row.name : (row.computerName ?? row.name);
  const status = powerStatus(row.powerState);
  if (type === "microsoft.compute/virtualmachines") {
    const scaleSetName = row.scaleSetId ? /\/virtualMachineScaleSets\/([^/]+)$/i.exec(row.scaleSetId)?.[1] : undefined;
    return scaleSetName === undefined
      ? { kind: "vm", vmName: row.name, name, status, ...common }
      : { kind: "vmssFlex", vmName: row.name, scaleSetName, name, status, ...common };
  }
  if (type === "microsoft.compute/virtualmachinescalesets/virtualmachines") {
    const parts = uniformParts(row.id);
    if (parts !== undefined) return { kind: "vmss", ...parts, name, status, ...common };
  }
  return { resourceId: row.id, reason: `resource type ${row.type} cannot run commands` };
}
