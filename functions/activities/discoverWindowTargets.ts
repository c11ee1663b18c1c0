import type { ArmClients } from "../../lib/azure/armClients";
import { listDevices, TARGET_TAGS } from "../../lib/azure/inventory";
import { DiscoverWindowTargetsInputSchema } from "../../lib/schemas/activities";
import { ClientIdSchema } from "../../lib/schemas/common";
import type { WindowTargets } from "../../lib/schemas/window";

/** What discovery needs. */
export interface DiscoverDeps {
  arm: ArmClients;
  subscriptionIds: readonly string[];
}

/**
 * Builds the activity that finds a window's devices: every Arc machine and VMSS instance tagged with the tenant and
 * the window, carrying all the window's target tags, of a covered client. The ring comes from the `patchpilot:ring`
 * tag; a device without one goes into the last ring (the most conservative: it waits for every gate). Devices that
 * cannot be placed are skipped with the reason, as are the resources inventory itself could not use.
 */
export function makeDiscoverWindowTargets(deps: DiscoverDeps) {
  return async function discoverWindowTargets(rawInput: unknown): Promise<WindowTargets> {
    const { tenant, windowId, clients, targetTags, rings } = DiscoverWindowTargetsInputSchema.parse(rawInput);
    const inventory = await listDevices(
      deps.arm,
      { subscriptionIds: deps.subscriptionIds },
      { tenant, window: windowId },
    );
    const result: WindowTargets = {
      targets: [],
      skipped: inventory.skipped.map((s) => ({ resource: s.resourceId, reason: s.reason })),
    };
    const lastRing = rings[rings.length - 1] ?? "";
    for (const device of inventory.devices) {
      const missing = Object.entries(targetTags).filter(([key, value]) => device.tags[key] !== value);
      if (missing.length > 0) {
        // Not a target of this window (its tags do not select it): left out silently, like an untagged resource.
        continue;
      }
      const client = device.tags[TARGET_TAGS.client];
      const parsedClient = ClientIdSchema.safeParse(client);
      if (client === undefined || !parsedClient.success) {
        result.skipped.push({ resource: device.resourceId, reason: `no valid ${TARGET_TAGS.client} tag` });
        continue;
      }
      if (clients.length > 0 && !clients.includes(parsedClient.data)) continue;
      const ring = device.tags[TARGET_TAGS.ring] ?? lastRing;
      if (!rings.includes(ring)) {
        result.skipped.push({
          resource: device.resourceId,
          reason: `ring ${ring} is not one of the window's rings (${rings.join(", ")})`,
        });
        continue;
      }
      result.targets.push({ client: parsedClient.data, ring, device });
    }
    return result;
  };
}
