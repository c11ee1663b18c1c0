import { ServiceError } from "../../serviceError";
import type { FleetClock, SimulatedDevice } from "../contract";

// Microsoft.Network for the fleet emulator (issue 20, load-balancer drain): network interfaces of Azure VMs (and
// Flexible scale-set VMs, whose NICs are standalone resources) and load balancers with backend pools. As in ARM,
// membership lives on the NIC's ip-configuration (`loadBalancerBackendAddressPools`); the pool shows it as the
// read-only back-reference `backendIPConfigurations`. Every change is logged with the fleet clock's time, so a test
// can prove when a device left a pool and when it came back (shapes: the vendored 2024-05-01 examples under
// test/fixtures/reference/azure-rest-api-specs/specification/network).

/** A scenario's load balancer: its pools and which devices (by name) are members (their NIC's first ip-configuration). */
export interface LoadBalancerSpec {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  pools: readonly { name: string; members: readonly string[] }[];
}

/** One membership change, as the emulator applied it. */
export interface MembershipChange {
  at: string;
  ipConfigurationId: string;
  poolId: string;
  member: boolean;
}

interface NicState {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  vmId: string;
  macAddress: string;
  privateIp: string;
  ipConfigurations: { name: string; pools: string[] }[];
  etag: number;
}

const lower = (s: string): string => s.toLowerCase();
const same = (a: string, b: string): boolean => lower(a) === lower(b);

/** The network side of a fleet: NICs of VM devices, load balancers, and the log of membership changes. */
export class FleetNetwork {
  readonly nics: NicState[] = [];
  readonly loadBalancers: readonly LoadBalancerSpec[];
  readonly history: MembershipChange[] = [];

  constructor(devices: readonly SimulatedDevice[], loadBalancers: readonly LoadBalancerSpec[], start: Date) {
    this.loadBalancers = loadBalancers;
    let n = 4;
    for (const device of devices) {
      const p = device.placement;
      if (p.vm === undefined) continue;
      const name = `${p.vm.vmName}-nic`;
      const id = `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.Network/networkInterfaces/${name}`;
      n += 1;
      const nic: NicState = {
        id,
        name,
        subscriptionId: p.subscriptionId,
        resourceGroup: p.resourceGroup,
        location: p.location,
        vmId: `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${p.vm.vmName}`,
        macAddress: `00-0D-3A-00-00-${(n % 256).toString(16).padStart(2, "0").toUpperCase()}`,
        privateIp: `10.0.0.${n % 250}`,
        ipConfigurations: [{ name: "ipconfig1", pools: [] }],
        etag: 1,
      };
      for (const lb of loadBalancers)
        for (const pool of lb.pools)
          if (pool.members.includes(device.name)) {
            const poolId = this.poolId(lb, pool.name);
            nic.ipConfigurations[0]?.pools.push(poolId);
            this.history.push({
              at: start.toISOString(),
              ipConfigurationId: `${id}/ipConfigurations/ipconfig1`,
              poolId,
              member: true,
            });
          }
      this.nics.push(nic);
    }
  }

  poolId(lb: LoadBalancerSpec, pool: string): string {
    return `/subscriptions/${lb.subscriptionId}/resourceGroups/${lb.resourceGroup}/providers/Microsoft.Network/loadBalancers/${lb.name}/backendAddressPools/${pool}`;
  }

  /** The ip-configurations (ids) in a pool now. */
  members(poolId: string): string[] {
    return this.nics.flatMap((nic) =>
      nic.ipConfigurations
        .filter((c) => c.pools.some((p) => same(p, poolId)))
        .map((c) => `${nic.id}/ipConfigurations/${c.name}`),
    );
  }

  /** Whether an ip-configuration was in a pool at a time (from the change log). */
  memberAt(ipConfigurationId: string, poolId: string, at: Date): boolean {
    let member = false;
    for (const change of this.history)
      if (
        Date.parse(change.at) <= at.getTime() &&
        same(change.ipConfigurationId, ipConfigurationId) &&
        same(change.poolId, poolId)
      )
        member = change.member;
    return member;
  }

  findNic(sub: string, rg: string, name: string): NicState {
    const nic = this.nics.find((n) => same(n.subscriptionId, sub) && same(n.resourceGroup, rg) && same(n.name, name));
    if (nic === undefined)
      throw new ServiceError(
        404,
        "ResourceNotFound",
        `The Resource 'Microsoft.Network/networkInterfaces/${name}' under resource group '${rg}' was not found.`,
      );
    return nic;
  }

  findLoadBalancer(sub: string, rg: string, name: string): LoadBalancerSpec {
    const lb = this.loadBalancers.find(
      (l) => same(l.subscriptionId, sub) && same(l.resourceGroup, rg) && same(l.name, name),
    );
    if (lb === undefined)
      throw new ServiceError(
        404,
        "ResourceNotFound",
        `The Resource 'Microsoft.Network/loadBalancers/${name}' under resource group '${rg}' was not found.`,
      );
    return lb;
  }

  poolExists(poolId: string): boolean {
    return this.loadBalancers.some((lb) => lb.pools.some((p) => same(this.poolId(lb, p.name), poolId)));
  }

  nicJson(nic: NicState): unknown {
    return {
      name: nic.name,
      id: nic.id,
      etag: `W/"${nic.etag}"`,
      type: "Microsoft.Network/networkInterfaces",
      location: nic.location,
      properties: {
        provisioningState: "Succeeded",
        ipConfigurations: nic.ipConfigurations.map((c) => ({
          name: c.name,
          id: `${nic.id}/ipConfigurations/${c.name}`,
          etag: `W/"${nic.etag}"`,
          type: "Microsoft.Network/networkInterfaces/ipConfigurations",
          properties: {
            provisioningState: "Succeeded",
            privateIPAddress: nic.privateIp,
            privateIPAllocationMethod: "Dynamic",
            subnet: {
              id: `/subscriptions/${nic.subscriptionId}/resourceGroups/${nic.resourceGroup}/providers/Microsoft.Network/virtualNetworks/fleet-vnet/subnets/default`,
            },
            primary: true,
            privateIPAddressVersion: "IPv4",
            loadBalancerBackendAddressPools: c.pools.map((id) => ({ id })),
          },
        })),
        dnsSettings: { dnsServers: [], appliedDnsServers: [] },
        macAddress: nic.macAddress,
        enableAcceleratedNetworking: false,
        enableIPForwarding: false,
        primary: true,
        virtualMachine: { id: nic.vmId },
        vnetEncryptionSupported: false,
      },
    };
  }

  poolJson(lb: LoadBalancerSpec, pool: string): unknown {
    const id = this.poolId(lb, pool);
    return {
      name: pool,
      id,
      etag: 'W/"1"',
      type: "Microsoft.Network/loadBalancers/backendAddressPools",
      properties: {
        provisioningState: "Succeeded",
        backendIPConfigurations: this.members(id).map((m) => ({ id: m })),
        loadBalancingRules: [],
      },
    };
  }

  loadBalancerJson(lb: LoadBalancerSpec): unknown {
    return {
      name: lb.name,
      id: `/subscriptions/${lb.subscriptionId}/resourceGroups/${lb.resourceGroup}/providers/Microsoft.Network/loadBalancers/${lb.name}`,
      etag: 'W/"1"',
      type: "Microsoft.Network/loadBalancers",
      location: lb.location,
      sku: { name: "Standard", tier: "Regional" },
      properties: {
        provisioningState: "Succeeded",
        frontendIPConfigurations: [],
        backendAddressPools: lb.pools.map((p) => this.poolJson(lb, p.name)),
        loadBalancingRules: [],
        probes: [],
        inboundNatRules: [],
        outboundRules: [],
      },
    };
  }

  /**
   * A PUT of a NIC: only the backend-pool membership of its existing ip-configurations may change here (anything
   * else a real PUT could do is out of the emulator's scope and refused, so a test cannot pass on it by accident).
   */
  put(nic: NicState, body: unknown, now: Date): void {
    const b = body as {
      location?: unknown;
      properties?: {
        ipConfigurations?: { name?: unknown; properties?: { loadBalancerBackendAddressPools?: unknown } }[];
      };
    };
    if (typeof b?.location !== "string" || b.location === "")
      throw new ServiceError(400, "LocationRequired", "The location property is required for this definition.");
    const configs = b.properties?.ipConfigurations;
    if (!Array.isArray(configs) || configs.length !== nic.ipConfigurations.length)
      throw new ServiceError(
        400,
        "InvalidRequestFormat",
        "Cannot parse the request: ipConfigurations must name the NIC's existing ip-configurations.",
      );
    const next: { name: string; pools: string[] }[] = [];
    for (const current of nic.ipConfigurations) {
      const sent = configs.find((c) => typeof c?.name === "string" && same(c.name, current.name));
      if (sent === undefined)
        throw new ServiceError(400, "InvalidRequestFormat", `ipConfigurations must include ${current.name}.`);
      const pools = sent.properties?.loadBalancerBackendAddressPools ?? [];
      if (!Array.isArray(pools))
        throw new ServiceError(400, "InvalidRequestFormat", "loadBalancerBackendAddressPools must be an array.");
      const ids = pools.map((p: { id?: unknown }) => p?.id);
      for (const id of ids)
        if (typeof id !== "string" || !this.poolExists(id))
          throw new ServiceError(
            400,
            "InvalidResourceReference",
            `Resource ${String(id)} referenced by resource ${nic.id} was not found.`,
          );
      next.push({ name: current.name, pools: ids as string[] });
    }
    for (const [i, current] of nic.ipConfigurations.entries()) {
      const wanted = next[i]?.pools ?? [];
      const ipConfigurationId = `${nic.id}/ipConfigurations/${current.name}`;
      for (const poolId of current.pools)
        if (!wanted.some((w) => same(w, poolId)))
          this.history.push({ at: now.toISOString(), ipConfigurationId, poolId, member: false });
      for (const poolId of wanted)
        if (!current.pools.some((c) => same(c, poolId)))
          this.history.push({ at: now.toISOString(), ipConfigurationId, poolId, member: true });
      current.pools = [...wanted];
    }
    nic.etag += 1;
  }
}

interface NetworkRouteContext {
  body: unknown;
  match: string[];
}
type NetworkReply = { status: number; body?: unknown };

const S = "/subscriptions/([^/]+)";
const RG = "/resourceGroups/([^/]+)";
const NW = "/providers/Microsoft\\.Network";
const route = (pattern: string): RegExp => new RegExp(`^${pattern}$`, "i");

/** The emulator's Microsoft.Network routes (registered by local/fleet/armServer.ts). */
export function networkRoutes(
  network: FleetNetwork | undefined,
  clock: FleetClock,
): [string, RegExp, (ctx: NetworkRouteContext) => NetworkReply][] {
  if (network === undefined) return [];
  const m = (ctx: NetworkRouteContext, i: number): string => ctx.match[i] ?? "";
  return [
    [
      "GET",
      route(`${S}${RG}${NW}/networkInterfaces`),
      (ctx) => ({
        status: 200,
        body: {
          value: network.nics
            .filter((n) => same(n.subscriptionId, m(ctx, 1)) && same(n.resourceGroup, m(ctx, 2)))
            .map((n) => network.nicJson(n)),
        },
      }),
    ],
    [
      "GET",
      route(`${S}${RG}${NW}/networkInterfaces/([^/]+)`),
      (ctx) => ({ status: 200, body: network.nicJson(network.findNic(m(ctx, 1), m(ctx, 2), m(ctx, 3))) }),
    ],
    [
      "PUT",
      route(`${S}${RG}${NW}/networkInterfaces/([^/]+)`),
      (ctx) => {
        const nic = network.findNic(m(ctx, 1), m(ctx, 2), m(ctx, 3));
        network.put(nic, ctx.body, clock.now());
        return { status: 200, body: network.nicJson(nic) };
      },
    ],
    [
      "GET",
      route(`${S}${RG}${NW}/loadBalancers/([^/]+)`),
      (ctx) => ({
        status: 200,
        body: network.loadBalancerJson(network.findLoadBalancer(m(ctx, 1), m(ctx, 2), m(ctx, 3))),
      }),
    ],
    [
      "GET",
      route(`${S}${RG}${NW}/loadBalancers/([^/]+)/backendAddressPools/([^/]+)`),
      (ctx) => {
        const lb = network.findLoadBalancer(m(ctx, 1), m(ctx, 2), m(ctx, 3));
        const pool = lb.pools.find((p) => same(p.name, m(ctx, 4)));
        if (pool === undefined)
          throw new ServiceError(
            404,
            "ResourceNotFound",
            `The Resource 'Microsoft.Network/loadBalancers/${lb.name}/backendAddressPools/${m(ctx, 4)}' was not found.`,
          );
        return { status: 200, body: network.poolJson(lb, pool.name) };
      },
    ],
  ];
}
