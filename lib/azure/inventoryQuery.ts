// The one Resource Graph query discovery sends per window. The fleet emulator answers exactly this shape and refuses
// any other query (local/fleet/resourceGraph.ts), so a change here shows there at once.

/** The tags PatchPilot targets by (Uniform VMSS instances: their scale set's tags). */
export const TARGET_TAGS = {
  tenant: "patchpilot:tenant",
  client: "patchpilot:client",
  ring: "patchpilot:ring",
  window: "patchpilot:window",
} as const;

/** Which devices to include: every given tag must match exactly; omitted ones match anything. */
export type DeviceTarget = Partial<Record<keyof typeof TARGET_TAGS, string>>;

/** A KQL string literal (single-quoted; backslash and quote escaped). */
export function kqlString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** The `where` condition over tags (and resource group) shared by machines and scale sets. */
export function targetFilter(target: DeviceTarget, resourceGroup?: string): string {
  const clauses = (Object.keys(TARGET_TAGS) as (keyof typeof TARGET_TAGS)[])
    .filter((key) => target[key] !== undefined)
    .map((key) => `tostring(tags[${kqlString(TARGET_TAGS[key])}]) == ${kqlString(target[key] ?? "")}`);
  if (resourceGroup !== undefined) clauses.push(`resourceGroup =~ ${kqlString(resourceGroup)}`);
  return clauses.length === 0 ? "true" : clauses.join(" and ");
}

/**
 * Arc machines and Azure VMs (standalone and Flexible VMSS instances) from `resources`, and Uniform VMSS instances
 * from `computeresources` joined to their tagged scale set; one row per device with the columns
 * {@link InventoryRowSchema} reads. Arc reports its agent status; Compute rows carry the power state (Resource Graph
 * holds no VM agent status).
 */
export function inventoryQuery(target: DeviceTarget, resourceGroup?: string): string {
  const filter = targetFilter(target, resourceGroup);
  return [
    "resources",
    "| where type in~ ('microsoft.hybridcompute/machines', 'microsoft.compute/virtualmachines')",
    `| where ${filter}`,
    "| project id, name, type, location, subscriptionId, resourceGroup, tags," +
      " osType = tostring(coalesce(properties.osType, properties.storageProfile.osDisk.osType))," +
      " computerName = tostring(properties.osProfile.computerName)," +
      " agentStatus = tostring(properties.status)," +
      " powerState = tostring(properties.extended.instanceView.powerState.code)," +
      " scaleSetId = tostring(properties.virtualMachineScaleSet.id)",
    "| union (computeresources",
    "    | where type =~ 'microsoft.compute/virtualmachinescalesets/virtualmachines'",
    "    | extend scaleSetId = tolower(strcat_array(array_slice(split(id, '/'), 0, 8), '/'))",
    "    | join kind=inner (resources",
    "        | where type =~ 'microsoft.compute/virtualmachinescalesets'",
    `        | where ${filter}`,
    "        | project scaleSetId = tolower(id), scaleSetTags = tags," +
      " scaleSetOsType = tostring(properties.virtualMachineProfile.storageProfile.osDisk.osType)) on scaleSetId",
    "    | project id, name, type, location, subscriptionId, resourceGroup, tags = scaleSetTags," +
      " osType = tostring(coalesce(properties.storageProfile.osDisk.osType, scaleSetOsType))," +
      " computerName = tostring(properties.osProfile.computerName)," +
      " agentStatus = ''," +
      " powerState = tostring(properties.extended.instanceView.powerState.code)," +
      " scaleSetId)",
    "| order by id asc",
  ].join("\n");
}
