import { readFileSync } from "node:fs";
import path from "node:path";
import {
  checkMembership,
  planRemovals,
  poolsAfterDrain,
  poolsAfterRestore,
  poolsChanged,
  type IpConfigMembership,
} from "../../../lib/domain/loadBalancer/membership";

// The pure decisions of the load-balancer drain (issue 20): what leaves which pool, what comes back, and what the
// pools' own member lists must say afterwards. Ids are taken from Microsoft's published examples (2024-05-01).

const EXAMPLES = path.resolve(
  __dirname,
  "../../fixtures/reference/azure-rest-api-specs/specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/examples",
);
const read = (name: string) =>
  JSON.parse(readFileSync(path.join(EXAMPLES, name), "utf8")) as {
    responses: { "200": { body: { id: string; properties: Record<string, unknown> } } };
  };
const nic = read("NetworkInterfaceGet.json").responses["200"].body;
const pool = read("LoadBalancerBackendAddressPoolGet.json").responses["200"].body;
const configs = (nic.properties.ipConfigurations as { name: string; id: string }[]).map((c) => ({
  name: c.name,
  id: c.id,
}));
const WEB = pool.id;
const API = pool.id.replace(/backendAddressPools\/[^/]+$/, "backendAddressPools/api");
const OTHER_LB = pool.id.replace(/loadBalancers\/[^/]+/, "loadBalancers/other");

const membership = (i: number, pools: string[]): IpConfigMembership => ({
  nicId: nic.id,
  ipConfiguration: configs[i]!.name,
  ipConfigurationId: configs[i]!.id,
  pools,
});

describe("planRemovals", () => {
  it("removes every pool each ip-configuration is in when the hook names none", () => {
    expect(planRemovals([membership(0, [WEB, API]), membership(1, [OTHER_LB])])).toEqual([
      { ...membership(0, [WEB, API]) },
      { ...membership(1, [OTHER_LB]) },
    ]);
  });

  it("removes only the named pools, matching ids case-insensitively as ARM does, and never one the device was not in", () => {
    const named = [WEB.toUpperCase(), OTHER_LB];
    expect(planRemovals([membership(0, [WEB, API]), membership(1, [])], named)).toEqual([membership(0, [WEB])]);
  });

  it("plans nothing for a device in none of the pools", () => {
    expect(planRemovals([membership(0, []), membership(1, [API])], [WEB])).toEqual([]);
  });
});

describe("poolsAfterDrain / poolsAfterRestore", () => {
  it("a drain keeps the pools not removed; done twice it removes nothing more", () => {
    const once = poolsAfterDrain([WEB, API, OTHER_LB], [WEB, OTHER_LB]);
    expect(once).toEqual([API]);
    expect(poolsAfterDrain(once, [WEB, OTHER_LB])).toEqual([API]);
    expect(poolsChanged(once, poolsAfterDrain(once, [WEB]))).toBe(false);
  });

  it("a restore adds back only what was removed, once, and keeps what was added meanwhile", () => {
    expect(poolsAfterRestore([API], [WEB])).toEqual([API, WEB]);
    expect(poolsAfterRestore([API, WEB.toLowerCase()], [WEB])).toEqual([API, WEB.toLowerCase()]);
    expect(poolsChanged([API, WEB.toLowerCase()], poolsAfterRestore([API, WEB.toLowerCase()], [WEB]))).toBe(false);
    expect(poolsAfterRestore([OTHER_LB], [])).toEqual([OTHER_LB]);
  });
});

describe("checkMembership", () => {
  const removals = planRemovals([membership(0, [WEB])]);
  const member = (pool.properties.backendIPConfigurations as { id: string }[]).map((c) => c.id);

  it("reads the pool's own backendIPConfigurations: out after a drain is ok, in is not", () => {
    expect(checkMembership(removals, new Map([[WEB, member]]), false)).toEqual([
      { poolId: WEB, ipConfigurationId: configs[0]!.id, member: false, ok: true },
    ]);
    const withIt = [...member, configs[0]!.id.toUpperCase()];
    expect(checkMembership(removals, new Map([[WEB, withIt]]), false)[0]).toMatchObject({ member: true, ok: false });
    expect(checkMembership(removals, new Map([[WEB, withIt]]), true)[0]).toMatchObject({ member: true, ok: true });
  });

  it("a pool that could not be listed counts as not a member (a restore fails rather than passing blind)", () => {
    expect(checkMembership(removals, new Map(), true)[0]).toMatchObject({ member: false, ok: false });
  });
});
