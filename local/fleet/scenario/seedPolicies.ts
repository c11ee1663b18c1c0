import { clientBlobName, layerBlobName, windowBlobName } from "../../../lib/policy/policyBlobNames";
import type { PolicyStore } from "../../../lib/policy/policyStore";
import type { Scenario } from "./scenarioSchema";

/** How many documents of each kind a seed wrote. */
export interface SeedCounts {
  layers: number;
  windows: number;
  clients: number;
}

// Writes run in parallel and replace, so two documents for one blob would leave whichever landed last: refuse instead.
function refuseDuplicates(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name))
      throw new Error(`scenario defines ${name} more than once; the policy store would keep only one`);
    seen.add(name);
  }
}

/**
 * Writes a parsed scenario's policy layers, maintenance windows and client profiles into a policy store, so the
 * backend reads them where it reads them in Azure. Parsing applied the defaults, so each document is already in its
 * lib schema's shape; the store validates it again on the way in.
 */
export async function seedPolicyStore(store: PolicyStore, scenario: Scenario): Promise<SeedCounts> {
  refuseDuplicates([
    ...scenario.policies.map((layer) => layerBlobName(layer.scope)),
    ...scenario.windows.map((window) => windowBlobName(window.tenant, window.id)),
    ...scenario.clients.map((client) => clientBlobName(client.tenant, client.client)),
  ]);
  await Promise.all([
    ...scenario.policies.map((layer) => store.putLayer(layer)),
    ...scenario.windows.map((window) => store.putWindow(window)),
    ...scenario.clients.map((client) => store.putClient(client)),
  ]);
  return { layers: scenario.policies.length, windows: scenario.windows.length, clients: scenario.clients.length };
}
