import type { DeviceSpec, ScaleSetSpec } from "./deviceSchema";
import type { Scenario } from "./scenarioSchema";

/** The tag names PatchPilot's inventory targets by (issue 3: on VMSS, the scale set's tags). */
export const TAG = {
  tenant: "patchpilot:tenant",
  client: "patchpilot:client",
  ring: "patchpilot:ring",
  window: "patchpilot:window",
} as const;

/** Where a device or scale set is targeted: tenant, client, window and ring, all resolved. */
export interface Targeting {
  tenant: string;
  client: string;
  window: string | undefined;
  ring: string | undefined;
}

type Targetable = Pick<ScaleSetSpec, "tenant" | "client" | "window" | "ring">;

/** Fills in the default window (the client's first) and ring (the window's first). */
export function resolveTargeting(scenario: Pick<Scenario, "clients" | "windows">, spec: Targetable): Targeting {
  const client = scenario.clients.find((c) => c.tenant === spec.tenant && c.client === spec.client);
  const window = spec.window ?? client?.windows[0];
  const ring = spec.ring ?? scenario.windows.find((w) => w.id === window && w.tenant === spec.tenant)?.rings[0]?.name;
  return { tenant: spec.tenant, client: spec.client, window, ring };
}

/** The ARM tags of an Arc machine or scale set: its own tags plus the `patchpilot:*` ones. */
export function targetingTags(targeting: Targeting, own: Readonly<Record<string, string>>): Record<string, string> {
  const tags: Record<string, string> = { ...own, [TAG.tenant]: targeting.tenant, [TAG.client]: targeting.client };
  if (targeting.ring !== undefined) tags[TAG.ring] = targeting.ring;
  if (targeting.window !== undefined) tags[TAG.window] = targeting.window;
  return tags;
}

/** The targetable part of a device: its scale set for VMSS instances, itself for Arc machines and Azure VMs. */
export function targetableOf(scenario: Pick<Scenario, "scaleSets">, device: DeviceSpec): Targetable | undefined {
  if (device.kind === "vmss" || device.kind === "vmssFlex")
    return scenario.scaleSets.find((s) => s.name === device.scaleSet);
  if (device.tenant === undefined || device.client === undefined) return undefined;
  return { tenant: device.tenant, client: device.client, window: device.window, ring: device.ring };
}
