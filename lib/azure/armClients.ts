import { ComputeManagementClient } from "@azure/arm-compute";
import { HybridComputeManagementClient } from "@azure/arm-hybridcompute";
import { NetworkManagementClient } from "@azure/arm-network";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { ArcRunCommandClient } from "./arcRunCommandClient";
import { ARM_SCOPE, armPipelineOptions, type ArmConnection } from "./armConnection";

/** The SDK clients PatchPilot uses against ARM, one per subscription where the SDK binds it. */
export interface ArmClients {
  hybridCompute(subscriptionId: string): HybridComputeManagementClient;
  compute(subscriptionId: string): ComputeManagementClient;
  /** Microsoft.Network (NICs, load-balancer backend pools: issue 20's drain/restore). */
  network(subscriptionId: string): NetworkManagementClient;
  /** Arc run commands and machine reads at HybridCompute 2025-01-13 (the registry's SDK sends 2021-05-20). */
  arcRunCommands: ArcRunCommandClient;
  /** Tenant-level Resource Graph queries (inventory). */
  resourceGraph: ResourceGraphClient;
}

/** Builds (lazily, cached per subscription) the real SDK clients for an ARM endpoint. */
export function createArmClients(connection: ArmConnection): ArmClients {
  const common = armPipelineOptions(connection);
  const hybrid = new Map<string, HybridComputeManagementClient>();
  const compute = new Map<string, ComputeManagementClient>();
  const network = new Map<string, NetworkManagementClient>();
  return {
    hybridCompute(subscriptionId) {
      let client = hybrid.get(subscriptionId);
      if (client === undefined) {
        client = new HybridComputeManagementClient(connection.credential, subscriptionId, {
          ...common,
          endpoint: connection.endpoint,
          $host: connection.endpoint,
          credentialScopes: [ARM_SCOPE],
        });
        hybrid.set(subscriptionId, client);
      }
      return client;
    },
    compute(subscriptionId) {
      let client = compute.get(subscriptionId);
      if (client === undefined) {
        client = new ComputeManagementClient(connection.credential, subscriptionId, {
          ...common,
          endpoint: connection.endpoint,
          credentials: { scopes: [ARM_SCOPE] },
        });
        compute.set(subscriptionId, client);
      }
      return client;
    },
    network(subscriptionId) {
      let client = network.get(subscriptionId);
      if (client === undefined) {
        client = new NetworkManagementClient(connection.credential, subscriptionId, {
          ...common,
          endpoint: connection.endpoint,
          credentials: { scopes: [ARM_SCOPE] },
        });
        network.set(subscriptionId, client);
      }
      return client;
    },
    arcRunCommands: new ArcRunCommandClient(connection),
    resourceGraph: new ResourceGraphClient(connection.credential, {
      ...common,
      endpoint: connection.endpoint,
      credentials: { scopes: [ARM_SCOPE] },
    }),
  };
}
