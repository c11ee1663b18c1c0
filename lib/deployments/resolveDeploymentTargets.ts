import type { ArmClients } from "../azure/armClients";
import { listDevices, TARGET_TAGS } from "../azure/inventory";
import type { DeploymentTarget } from "../schemas/api/deployments";
import type { WindowTarget } from "../schemas/window";

/** The devices a deployment's target names, with their clients; and what it named that cannot be patched. */
export interface ResolvedTargets {
  targets: WindowTarget[];
  skipped: { resource: string; reason: string }[];
  /** Device names the target listed that the tenant does not have (the API refuses the request then). */
  missing: string[];
}

/**
 * Resolves a deployment's target against the live inventory, one Resource Graph query as a window's discovery:
 * the tenant's devices (tag patchpilot:tenant), of the client when one is named, then the named devices (host names
 * case-insensitive) and the given tags (all must match exactly). A device without a patchpilot:client tag is skipped
 * with the reason: its client's policy could not be found.
 */
export async function resolveDeploymentTargets(
  arm: ArmClients,
  subscriptionIds: readonly string[],
  tenant: string,
  target: DeploymentTarget,
): Promise<ResolvedTargets> {
  const inventory = await listDevices(
    arm,
    { subscriptionIds },
    target.client === undefined ? { tenant } : { tenant, client: target.client },
  );
  const wanted = target.devices?.map((d) => d.toLowerCase());
  const tags = Object.entries(target.tags ?? {});
  const targets: WindowTarget[] = [];
  const skipped: ResolvedTargets["skipped"] = [];
  const seen = new Set<string>();
  for (const device of inventory.devices) {
    if (wanted !== undefined && !wanted.includes(device.name.toLowerCase())) continue;
    if (!tags.every(([k, v]) => device.tags[k] === v)) continue;
    seen.add(device.name.toLowerCase());
    const client = device.tags[TARGET_TAGS.client];
    if (client === undefined || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(client)) {
      skipped.push({ resource: device.resourceId, reason: `no valid ${TARGET_TAGS.client} tag` });
      continue;
    }
    targets.push({ client, ring: "deployment", device });
  }
  for (const s of inventory.skipped) {
    const name = s.resourceId.split("/").at(-1)?.toLowerCase() ?? "";
    if (wanted !== undefined && !wanted.includes(name)) continue;
    seen.add(name);
    skipped.push({ resource: s.resourceId, reason: s.reason });
  }
  const missing = (target.devices ?? []).filter((d) => !seen.has(d.toLowerCase()));
  return { targets, skipped, missing };
}
