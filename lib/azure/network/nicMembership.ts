import type { NetworkInterface } from "@azure/arm-network";
import type { IpConfigMembership } from "../../domain/loadBalancer/membership";
import type { DeviceRef } from "../../schemas/target";
import type { ArmClients } from "../armClients";

// Reading and changing a VM's NIC backend-pool membership through @azure/arm-network (issue 20). In ARM the
// membership is a property of the NIC's ip-configuration (`loadBalancerBackendAddressPools`); the pool lists its
// members as the read-only `backendIPConfigurations`, which is what the verification reads.

const same = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** The parts of an ARM resource id (`/subscriptions/{s}/resourceGroups/{g}/providers/{ns}/{type}/{name}/…`). */
function parseId(id: string): { subscriptionId: string; resourceGroup: string; names: string[] } {
  const parts = id.split("/").filter((p) => p !== "");
  const sub = parts.findIndex((p) => p.toLowerCase() === "subscriptions");
  const rg = parts.findIndex((p) => p.toLowerCase() === "resourcegroups");
  const providers = parts.findIndex((p) => p.toLowerCase() === "providers");
  if (sub < 0 || rg < 0 || providers < 0) throw new Error(`not an ARM resource id: ${id}`);
  // After the namespace: type, name, [child type, child name]…; keep the names only.
  const names = parts.slice(providers + 2).filter((_, i) => i % 2 === 1);
  return { subscriptionId: parts[sub + 1] ?? "", resourceGroup: parts[rg + 1] ?? "", names };
}

/** The NICs attached to an Azure VM (or a Flexible scale-set VM): its resource group's NICs whose `virtualMachine` is it. */
export async function nicsOfVm(arm: ArmClients, device: DeviceRef): Promise<NetworkInterface[]> {
  const client = arm.network(device.subscriptionId);
  const nics: NetworkInterface[] = [];
  for await (const nic of client.networkInterfaces.list(device.resourceGroup))
    if (same(nic.virtualMachine?.id, device.resourceId)) nics.push(nic);
  return nics;
}

/** One NIC by id. */
export async function getNic(arm: ArmClients, nicId: string): Promise<NetworkInterface> {
  const { subscriptionId, resourceGroup, names } = parseId(nicId);
  return arm.network(subscriptionId).networkInterfaces.get(resourceGroup, names[0] ?? "");
}

/** Puts a NIC back with new pool lists per ip-configuration (everything else as read); waits for the PUT to finish. */
export async function putNicPools(
  arm: ArmClients,
  nic: NetworkInterface,
  poolsOf: (ipConfiguration: string, current: string[]) => string[],
): Promise<NetworkInterface> {
  const { subscriptionId, resourceGroup, names } = parseId(nic.id ?? "");
  const ipConfigurations = (nic.ipConfigurations ?? []).map((c) => ({
    ...c,
    loadBalancerBackendAddressPools: poolsOf(c.name ?? "", poolIds(c.loadBalancerBackendAddressPools)).map((id) => ({
      id,
    })),
  }));
  return await arm
    .network(subscriptionId)
    .networkInterfaces.createOrUpdate(resourceGroup, names[0] ?? "", { ...nic, ipConfigurations });
}

const poolIds = (pools: { id?: string }[] | undefined): string[] =>
  (pools ?? []).flatMap((p) => (p.id === undefined ? [] : [p.id]));

/** Each ip-configuration of the NICs and its backend pools. */
export function membershipsOf(nics: readonly NetworkInterface[]): IpConfigMembership[] {
  return nics.flatMap((nic) =>
    (nic.ipConfigurations ?? []).map((c) => ({
      nicId: nic.id ?? "",
      ipConfiguration: c.name ?? "",
      ipConfigurationId: c.id ?? `${nic.id ?? ""}/ipConfigurations/${c.name ?? ""}`,
      pools: poolIds(c.loadBalancerBackendAddressPools),
    })),
  );
}

/** A backend pool's members (ip-configuration ids), from the pool itself. */
export async function poolMembers(arm: ArmClients, poolId: string): Promise<string[]> {
  const { subscriptionId, resourceGroup, names } = parseId(poolId);
  const pool = await arm
    .network(subscriptionId)
    .loadBalancerBackendAddressPools.get(resourceGroup, names[0] ?? "", names[1] ?? "");
  return (pool.backendIPConfigurations ?? []).flatMap((c) => (c.id === undefined ? [] : [c.id]));
}
