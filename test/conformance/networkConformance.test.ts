import { readFileSync } from "node:fs";
import path from "node:path";
import { createArmClients, type ArmClients } from "../../lib/azure/armClients";
import { getNic, membershipsOf, nicsOfVm, poolMembers, putNicPools } from "../../lib/azure/network/nicMembership";
import type { DeviceRef } from "../../lib/schemas/target";
import { startFleetEmulator, type ArmExchange, type FleetEmulator } from "../../local/fleet/armServer";
import { FleetNetwork } from "../../local/fleet/arm/network";
import type { Fleet } from "../../local/fleet/contract";
import { LocalFleetCredential } from "../../local/fleet/localCredential";
import { buildFleet } from "../../local/fleet/scenario/buildFleet";
import { readScenarioFile } from "../../local/fleet/scenario/parseScenario";
import { ManualClock } from "../integration/fleet/testFleet";
import { startExampleServer, type ExampleServer } from "./exampleServer";
import { SPEC_ROOT } from "./swaggerSpecs";

// The load-balancer drain (issue 20) against Microsoft's published Microsoft.Network 2024-05-01 specs: the vendored
// examples served to the real @azure/arm-network client (PatchPilot must read the membership the way ARM writes it
// and PUT it where the spec puts it), and the fleet emulator's NIC and backend-pool answers checked property by
// property against the spec's definitions (test/fixtures/reference/network-excerpts).

type Json = Record<string, unknown>;
interface Example {
  parameters: Json;
  responses: Record<string, { body: Json }>;
}
const EXAMPLES = path.join(
  SPEC_ROOT,
  "specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/examples",
);
const example = (name: string): Example => JSON.parse(readFileSync(path.join(EXAMPLES, name), "utf8")) as Example;
const DEFINITIONS = JSON.parse(
  readFileSync(path.join(SPEC_ROOT, "../network-excerpts/definitions-2024-05-01.json"), "utf8"),
) as Record<string, Record<string, { properties: Record<string, { readOnly?: boolean }> }>>;
const definition = (file: string, name: string) => {
  const d = DEFINITIONS[file]?.[name];
  if (d === undefined) throw new Error(`no ${file}#/definitions/${name} in the excerpt`);
  return d.properties;
};
/** The ARM resource envelope (network.json#/definitions/Resource and SubResource): id, name, type, location, tags. */
const ENVELOPE = ["id", "name", "type", "location", "tags"];

/** Property names of `value` that the definition does not define (the `properties` bag is the flattened format's). */
function undefinedKeys(value: Json, file: string, resource: string, format: string): string[] {
  const outer = new Set([...Object.keys(definition(file, resource)), ...ENVELOPE]);
  const inner = new Set(Object.keys(definition(file, format)));
  return [
    ...Object.keys(value).filter((k) => !outer.has(k)),
    ...Object.keys((value.properties as Json | undefined) ?? {})
      .filter((k) => !inner.has(k))
      .map((k) => `properties.${k}`),
  ];
}

describe("Microsoft.Network examples through the real client", () => {
  let server: ExampleServer;
  let arm: ArmClients;
  beforeAll(async () => {
    server = await startExampleServer();
    arm = createArmClients({
      endpoint: server.endpoint,
      credential: new LocalFleetCredential(),
      ca: server.ca,
      maxRetries: 0,
    });
  });
  afterAll(() => server.close());

  it("NetworkInterfaces_Get: each ip-configuration of the example is read with its pools (none here)", async () => {
    const ex = example("NetworkInterfaceGet.json");
    const body = ex.responses["200"]?.body as Json;
    const seen = server.answerNext({ status: 200, body });
    const nic = await getNic(arm, String(body.id));
    const request = await seen;
    expect(request.method).toBe("GET");
    expect(request.url).toContain(`/resourceGroups/${String(ex.parameters.resourceGroupName)}/`);
    expect(request.url).toContain(`/networkInterfaces/${String(ex.parameters.networkInterfaceName)}?`);
    const configs = (body.properties as { ipConfigurations: { name: string; id: string }[] }).ipConfigurations;
    expect(membershipsOf([nic])).toEqual(
      configs.map((c) => ({ nicId: body.id, ipConfiguration: c.name, ipConfigurationId: c.id, pools: [] })),
    );
  });

  it("NetworkInterfaces_CreateOrUpdate: the PUT carries the ip-configurations by name and the pools under their properties", async () => {
    const get = example("NetworkInterfaceGet.json").responses["200"]?.body as Json;
    const put = example("NetworkInterfaceCreate.json");
    const pool = example("LoadBalancerBackendAddressPoolGet.json").responses["200"]?.body.id as string;
    const read = server.answerNext({ status: 200, body: get });
    const nic = await getNic(arm, String(get.id));
    await read;
    const seen = server.answerNext({ status: 200, body: put.responses["200"]?.body });
    await putNicPools(arm, nic, (name, current) => (name === "ipconfig1" ? [...current, pool] : current));
    const request = await seen;
    expect(request.method).toBe("PUT");
    const sent = JSON.parse(request.body) as Json;
    const shape = put.parameters.parameters as {
      location: string;
      properties: { ipConfigurations: { name: string }[] };
    };
    // As the example's request: location, and properties.ipConfigurations[] each named, with a properties bag.
    expect(sent.location).toBe(shape.location);
    const sentConfigs = (sent.properties as { ipConfigurations: { name: string; properties: Json }[] })
      .ipConfigurations;
    expect(sentConfigs.map((c) => c.name)).toEqual(shape.properties.ipConfigurations.map((c) => c.name));
    expect(sentConfigs[0]?.properties.loadBalancerBackendAddressPools).toEqual([{ id: pool }]);
    expect(sentConfigs[1]?.properties.loadBalancerBackendAddressPools).toEqual([]);
    // Every property sent is one the spec defines for a NIC.
    expect(
      undefinedKeys(sent, "networkInterface.json", "NetworkInterface", "NetworkInterfacePropertiesFormat"),
    ).toEqual([]);
  });

  it("LoadBalancerBackendAddressPools_Get: the members are the pool's backendIPConfigurations", async () => {
    const ex = example("LoadBalancerBackendAddressPoolGet.json");
    const body = ex.responses["200"]?.body as { id: string; properties: { backendIPConfigurations: { id: string }[] } };
    const seen = server.answerNext({ status: 200, body });
    expect(await poolMembers(arm, body.id)).toEqual(body.properties.backendIPConfigurations.map((c) => c.id));
    const request = await seen;
    expect(request.url).toContain(
      `/loadBalancers/${String(ex.parameters.loadBalancerName)}/backendAddressPools/${String(ex.parameters.backendAddressPoolName)}?`,
    );
  });
});

describe("the fleet emulator's Microsoft.Network answers against the spec", () => {
  let emulator: FleetEmulator;
  let arm: ArmClients;
  let device: DeviceRef;
  const exchanges: ArmExchange[] = [];

  beforeAll(async () => {
    const clock = new ManualClock(new Date("2026-01-20T01:00:00Z"));
    const scenario = readScenarioFile(path.resolve(__dirname, "../../local/scenarios/demo.json"));
    const spec = scenario.devices.find((d) => d.name === "WIN-SERVER01");
    if (spec === undefined) throw new Error("no WIN-SERVER01");
    spec.kind = "vm";
    scenario.loadBalancers = [{ name: "lb", pools: [{ name: "backend", members: ["WIN-SERVER01"] }] }];
    const fleet: Fleet = buildFleet(scenario, clock);
    emulator = await startFleetEmulator({ fleet, clock, arm: { latencyMs: 0, transientErrorRate: 0 } });
    emulator.onExchange((e) => exchanges.push(e));
    arm = createArmClients({
      endpoint: emulator.endpoint,
      credential: emulator.credential,
      ca: emulator.ca,
      maxRetries: 0,
    });
    const p = fleet.devices.find((d) => d.name === "WIN-SERVER01")?.placement;
    if (p?.vm === undefined) throw new Error("WIN-SERVER01 is no VM");
    device = {
      kind: "vm",
      vmName: p.vm.vmName,
      name: "WIN-SERVER01",
      os: "windows",
      tags: {},
      status: "Connected",
      subscriptionId: p.subscriptionId,
      resourceGroup: p.resourceGroup,
      location: p.location,
      resourceId: `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${p.vm.vmName}`,
    };
    expect(fleet.network).toBeInstanceOf(FleetNetwork);
  });
  afterAll(() => emulator.close());

  it("a NIC answer defines only spec properties, names its VM, and lists its pools where the spec puts them", async () => {
    const [nic] = await nicsOfVm(arm, device);
    expect(nic?.virtualMachine?.id).toBe(device.resourceId);
    const answer = exchanges.at(-1)?.responseBody as { value: Json[] };
    const body = answer.value[0] as Json;
    expect(
      undefinedKeys(body, "networkInterface.json", "NetworkInterface", "NetworkInterfacePropertiesFormat"),
    ).toEqual([]);
    for (const config of (body.properties as { ipConfigurations: Json[] }).ipConfigurations)
      expect(
        undefinedKeys(
          config,
          "networkInterface.json",
          "NetworkInterfaceIPConfiguration",
          "NetworkInterfaceIPConfigurationPropertiesFormat",
        ),
      ).toEqual([]);
    // The same places as Microsoft's example answer, plus the membership.
    const ex = example("NetworkInterfaceGet.json").responses["200"]?.body as Json;
    for (const key of ["ipConfigurations", "virtualMachine", "provisioningState", "macAddress", "primary"])
      expect(Object.keys(body.properties as Json)).toContain(
        Object.keys(ex.properties as Json).find((k) => k === key) ?? `missing in the example: ${key}`,
      );
    expect(membershipsOf([nic!])[0]?.pools).toHaveLength(1);
  });

  it("a backend pool answer has the example's shape and lists the NIC's ip-configuration back", async () => {
    const [nic] = await nicsOfVm(arm, device);
    const poolId = membershipsOf([nic!])[0]?.pools[0] ?? "";
    const members = await poolMembers(arm, poolId);
    expect(members).toEqual([nic?.ipConfigurations?.[0]?.id]);
    const body = exchanges.at(-1)?.responseBody as Json;
    const ex = example("LoadBalancerBackendAddressPoolGet.json").responses["200"]?.body as Json;
    expect(Object.keys(body).sort()).toEqual(Object.keys(ex).sort());
    expect(Object.keys(body.properties as Json).sort()).toEqual(Object.keys(ex.properties as Json).sort());
    expect(
      undefinedKeys(body, "loadBalancer.json", "BackendAddressPool", "BackendAddressPoolPropertiesFormat"),
    ).toEqual([]);
    // The back-reference is read-only in the spec: membership changes go through the NIC, as PatchPilot does.
    expect(
      definition("loadBalancer.json", "BackendAddressPoolPropertiesFormat").backendIPConfigurations?.readOnly,
    ).toBe(true);
  });

  it("a PUT naming a pool that does not exist is refused as ARM does (InvalidResourceReference), changing nothing", async () => {
    const [nic] = await nicsOfVm(arm, device);
    const missing = `${membershipsOf([nic!])[0]?.pools[0] ?? ""}-gone`;
    await expect(putNicPools(arm, nic!, () => [missing])).rejects.toMatchObject({
      statusCode: 400,
      code: "InvalidResourceReference",
    });
    const [after] = await nicsOfVm(arm, device);
    expect(membershipsOf([after!])[0]?.pools).toEqual(membershipsOf([nic!])[0]?.pools);
  });
});
