// Azure Resource Graph as the fleet emulator serves it: `POST /providers/Microsoft.ResourceGraph/resources`
// (2024-04-01, objectArray, `$skipToken` paging as the spec defines). It answers exactly the query shape PatchPilot's
// discovery sends (lib/azure/inventoryQuery.ts) and refuses any other query with a 400 naming it.
import { createHash } from "node:crypto";
import { z } from "zod";
import { ServiceError } from "../serviceError";
import type { Fleet, FleetClock, SimulatedDevice } from "./contract";

/** The query body (QueryRequest); unknown fields are refused as ARM's model binding would not know them. */
const QueryRequestSchema = z
  .object({
    subscriptions: z.array(z.string().min(1)).min(1, "a subscription scope is required"),
    query: z.string().min(1),
    options: z
      .object({
        $skipToken: z.string().min(1).optional(),
        $top: z.number().int().min(1).max(1000).optional(),
        resultFormat: z.literal("objectArray").optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

// The one shape answered, with `{filter}` where discovery's tag / resource-group condition goes (twice, equal).
const QUERY_SHAPE = [
  "resources",
  "| where type in~ ('microsoft.hybridcompute/machines', 'microsoft.compute/virtualmachines')",
  "| where {filter}",
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
  "        | where {filter}",
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

const KQL_STRING = String.raw`'((?:[^'\\]|\\.)*)'`;
const unquote = (s: string): string => s.replace(/\\(.)/g, "$1");

/** What the filter selects: exact tag values, and a resource group (case-insensitive). */
interface Filter {
  tags: Record<string, string>;
  resourceGroup?: string;
}

function parseFilter(text: string): Filter | undefined {
  if (text === "true") return { tags: {} };
  const filter: Filter = { tags: {} };
  const clause = new RegExp(
    String.raw`^(?:tostring\(tags\[${KQL_STRING}\]\) == ${KQL_STRING}|resourceGroup =~ ${KQL_STRING})$`,
  );
  for (const part of text.split(" and ")) {
    const m = clause.exec(part);
    if (m === null) return undefined;
    if (m[1] !== undefined && m[2] !== undefined) filter.tags[unquote(m[1])] = unquote(m[2]);
    else if (m[3] !== undefined) filter.resourceGroup = unquote(m[3]);
  }
  return filter;
}

/** The filter of a query of the answered shape, or undefined for any other query. */
export function recognizeInventoryQuery(query: string): Filter | undefined {
  const [before, middle, after] = QUERY_SHAPE.split("{filter}");
  if (before === undefined || middle === undefined || after === undefined) return undefined;
  if (!query.startsWith(before) || !query.endsWith(after)) return undefined;
  const inner = query.slice(before.length, query.length - after.length);
  const at = inner.indexOf(middle);
  if (at < 0) return undefined;
  const first = inner.slice(0, at);
  const second = inner.slice(at + middle.length);
  return first === second ? parseFilter(first) : undefined;
}

interface Row {
  id: string;
  [column: string]: unknown;
}

const armOs = (device: SimulatedDevice): string => (device.os === "windows" ? "Windows" : "Linux");

function rowOf(fleet: Fleet, device: SimulatedDevice, clock: FleetClock): Row | undefined {
  const p = device.placement;
  const base = `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers`;
  const common = {
    location: p.location,
    subscriptionId: p.subscriptionId,
    resourceGroup: p.resourceGroup.toLowerCase(),
    tags: { ...device.tags },
    computerName: device.armProperties.computerName,
  };
  // The simulated VM is running while its agent can be reached, stopped otherwise (the emulator has no separate
  // power model).
  const powerState = device.agentStatus(clock.now()) === "Connected" ? "PowerState/running" : "PowerState/stopped";
  if (device.kind === "arc") {
    return {
      id: `${base}/Microsoft.HybridCompute/machines/${p.arc?.machineName ?? device.name}`,
      name: p.arc?.machineName ?? device.name,
      type: "microsoft.hybridcompute/machines",
      ...common,
      osType: device.os,
      agentStatus: device.agentStatus(clock.now()),
      powerState: "",
      scaleSetId: "",
    };
  }
  if (device.kind === "vm" || device.kind === "vmssFlex") {
    const vmName = p.vm?.vmName ?? device.name;
    const setName = p.vm?.scaleSetName;
    return {
      id: `${base}/Microsoft.Compute/virtualMachines/${vmName}`,
      name: vmName,
      type: "microsoft.compute/virtualmachines",
      ...common,
      osType: armOs(device),
      agentStatus: "",
      powerState,
      scaleSetId: setName === undefined ? "" : `${base}/Microsoft.Compute/virtualMachineScaleSets/${setName}`,
    };
  }
  const vmss = p.vmss;
  const set = fleet.scaleSets.find((s) => s.name === vmss?.scaleSetName);
  if (vmss === undefined || set === undefined) return undefined;
  const setId = `${base}/Microsoft.Compute/virtualMachineScaleSets/${vmss.scaleSetName}`;
  return {
    id: `${setId}/virtualMachines/${vmss.instanceId}`,
    name: `${vmss.scaleSetName}_${vmss.instanceId}`,
    type: "microsoft.compute/virtualmachinescalesets/virtualmachines",
    ...common,
    tags: { ...set.tags },
    osType: armOs(device),
    agentStatus: "",
    powerState,
    scaleSetId: setId.toLowerCase(),
  };
}

function selected(row: Row, filter: Filter): boolean {
  const tags = (row.tags ?? {}) as Record<string, string>;
  if (Object.entries(filter.tags).some(([k, v]) => tags[k] !== v)) return false;
  return (
    filter.resourceGroup === undefined || String(row.resourceGroup).toLowerCase() === filter.resourceGroup.toLowerCase()
  );
}

const digestOf = (query: string, subscriptions: readonly string[]): string =>
  createHash("sha256")
    .update(JSON.stringify([query, [...subscriptions].map((s) => s.toLowerCase()).sort()]))
    .digest("hex")
    .slice(0, 16);

/** Answers one Resource Graph query over the fleet: a page of rows, `$skipToken` while more remain. */
export function answerResourceGraph(
  fleet: Fleet,
  clock: FleetClock,
  body: unknown,
  maxPageRows: number,
): { status: 200; body: object } {
  const parsed = QueryRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ServiceError(
      400,
      "BadRequest",
      parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
    );
  }
  const { query, subscriptions, options } = parsed.data;
  const filter = recognizeInventoryQuery(query);
  if (filter === undefined) {
    throw new ServiceError(
      400,
      "BadRequest",
      `The fleet emulator answers only PatchPilot's inventory query (lib/azure/inventoryQuery.ts); refused query: ${query.slice(0, 300)}`,
    );
  }
  const digest = digestOf(query, subscriptions);
  let offset = 0;
  if (options?.$skipToken !== undefined) {
    const token = /^([0-9a-f]{16})\.(\d+)$/.exec(Buffer.from(options.$skipToken, "base64url").toString("utf8"));
    if (token?.[1] !== digest)
      throw new ServiceError(400, "BadRequest", "The $skipToken does not belong to this query and scope.");
    offset = Number(token[2]);
  }
  const scope = new Set(subscriptions.map((s) => s.toLowerCase()));
  const rows = fleet.devices
    .filter((d) => scope.has(d.placement.subscriptionId.toLowerCase()))
    .map((d) => rowOf(fleet, d, clock))
    .filter((r): r is Row => r !== undefined && selected(r, filter))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const size = Math.max(1, Math.min(options?.$top ?? 100, 1000, maxPageRows));
  const page = rows.slice(offset, offset + size);
  const next =
    offset + size < rows.length ? Buffer.from(`${digest}.${offset + size}`).toString("base64url") : undefined;
  return {
    status: 200,
    body: {
      totalRecords: rows.length,
      count: page.length,
      resultTruncated: "false",
      ...(next === undefined ? {} : { $skipToken: next }),
      data: page,
      facets: [],
    },
  };
}
