import https from "node:https";
import { listDevices } from "../../../lib/azure/inventory";
import { HybridMachineListSchema } from "../../../lib/azure/schemas/hybridMachine";
import { ScaleSetListSchema, ScaleSetVmListSchema } from "../../../lib/azure/schemas/scaleSet";
import {
  arcDevice,
  fleetOf,
  ManualClock,
  SUB_A,
  SUB_B,
  startEmulator,
  vmDevice,
  vmssDevice,
  type EmulatorUnderTest,
} from "./testFleet";

const clock = new ManualClock();
const tags = (tenant: string, client: string, ring: string) => ({
  "patchpilot:tenant": tenant,
  "patchpilot:client": client,
  "patchpilot:ring": ring,
  "patchpilot:window": "sat-02",
});
const arc = [
  ...Array.from({ length: 5 }, (_, i) =>
    arcDevice(`contoso-app-${i}`, tags("msp1", "contoso", i < 2 ? "pilot" : "broad")),
  ),
  arcDevice("contoso-db-0", tags("msp1", "contoso", "broad"), {
    os: "linux",
    disconnectedFrom: new Date("2025-01-01T00:00:00Z"),
  }),
  arcDevice("globex-0", tags("msp2", "globex", "pilot"), { subscriptionId: SUB_B, resourceGroup: "rg-globex" }),
  arcDevice("untagged-0", {}),
];
const vmss = [
  vmssDevice("web000000", "vmss-web", "0"),
  vmssDevice("web000001", "vmss-web", "1"),
  vmssDevice("wkr000000", "vmss-wkr", "0", { os: "windows" }),
];
const vms = [
  vmDevice("contoso-vm-0", tags("msp1", "contoso", "broad")),
  vmDevice("api-flex-0", tags("msp1", "contoso", "broad"), { os: "linux", scaleSetName: "vmss-api" }),
];
const scaleSets = [
  {
    name: "vmss-web",
    subscriptionId: SUB_A,
    resourceGroup: "rg-fabrikam",
    location: "northeurope",
    tags: tags("msp1", "fabrikam", "pilot"),
    os: "linux" as const,
    instances: ["web000000", "web000001"],
  },
  {
    name: "vmss-wkr",
    subscriptionId: SUB_A,
    resourceGroup: "rg-fabrikam",
    location: "northeurope",
    tags: tags("msp1", "contoso", "broad"),
    os: "windows" as const,
    instances: ["wkr000000"],
  },
];

let env: EmulatorUnderTest;
beforeAll(async () => {
  // Two machines a page: every list below needs nextLink paging.
  env = await startEmulator({ fleet: fleetOf([...arc, ...vmss, ...vms], scaleSets, { pageSize: 2 }), clock });
});
afterAll(async () => {
  await env.emulator.close();
});

/** A raw GET against the emulator, to check its wire shapes with the clients' schemas. */
function rawGet(
  path: string,
  authorization: string | null = "Bearer anything",
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, env.emulator.endpoint);
    const req = https.get(
      url,
      { ca: env.emulator.ca, headers: authorization === null ? {} : { authorization } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "null") }),
        );
      },
    );
    req.on("error", reject);
  });
}

/** POST bodies of the Resource Graph queries the emulator answered while `work` ran. */
async function graphQueries(work: () => Promise<unknown>): Promise<{ options?: { $skipToken?: string } }[]> {
  const seen: { options?: { $skipToken?: string } }[] = [];
  const stop = env.emulator.onExchange((e) => {
    if (e.url.toLowerCase().startsWith("/providers/microsoft.resourcegraph/resources"))
      seen.push(e.requestBody as { options?: { $skipToken?: string } });
  });
  try {
    await work();
  } finally {
    stop();
  }
  return seen;
}

describe("inventory through Resource Graph against the emulator (one query, $skipToken paging)", () => {
  it("finds every Arc machine, VMSS instance and Azure VM across pages and subscriptions with one paged query", async () => {
    let inventory: Awaited<ReturnType<typeof listDevices>> | undefined;
    const queries = await graphQueries(async () => {
      inventory = await listDevices(env.arm, { subscriptionIds: [SUB_A, SUB_B] });
    });
    expect(inventory?.skipped).toEqual([]);
    expect(inventory?.devices.map((d) => d.name).sort()).toEqual([...arc, ...vmss, ...vms].map((d) => d.name).sort());
    // 13 rows at 2 a page: 7 requests of the same query, each after the first carrying the previous $skipToken.
    expect(queries).toHaveLength(7);
    expect(queries[0]?.options?.$skipToken).toBeUndefined();
    expect(queries.slice(1).every((q) => typeof q.options?.$skipToken === "string")).toBe(true);
  });

  it("tells standalone VMs from Flexible instances: both reached through VM run commands", async () => {
    const { devices } = await listDevices(env.arm, { subscriptionIds: [SUB_A] }, { tenant: "msp1", client: "contoso" });
    expect(devices.find((d) => d.name === "contoso-vm-0")).toMatchObject({
      kind: "vm",
      vmName: "contoso-vm-0",
      os: "windows",
      status: "Connected",
      location: "swedencentral",
    });
    expect(devices.find((d) => d.name === "api-flex-0")).toMatchObject({
      kind: "vmssFlex",
      vmName: "api-flex-0",
      scaleSetName: "vmss-api",
      os: "linux",
    });
  });

  it("refuses any query but PatchPilot's inventory query, with a 400 naming it", async () => {
    const other = "resources | where type =~ 'microsoft.compute/disks'";
    const error: unknown = await env.arm.resourceGraph
      .resources({ subscriptions: [SUB_A], query: other })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 400 });
    expect(String((error as Error).message)).toContain("microsoft.compute/disks");
  });

  it("targets by tags; VMSS instances carry their scale set's tags", async () => {
    const { devices } = await listDevices(
      env.arm,
      { subscriptionIds: [SUB_A, SUB_B] },
      { tenant: "msp1", client: "contoso", ring: "broad" },
    );
    expect(devices.map((d) => d.name).sort()).toEqual([
      "api-flex-0",
      "contoso-app-2",
      "contoso-app-3",
      "contoso-app-4",
      "contoso-db-0",
      "contoso-vm-0",
      "wkr000000",
    ]);
    const worker = devices.find((d) => d.name === "wkr000000");
    expect(worker).toMatchObject({
      kind: "vmss",
      scaleSetName: "vmss-wkr",
      instanceId: "0",
      os: "windows",
      status: "Connected",
      location: "northeurope",
      resourceGroup: "rg-fabrikam",
    });
    expect(worker?.tags["patchpilot:client"]).toBe("contoso");
    const db = devices.find((d) => d.name === "contoso-db-0");
    expect(db).toMatchObject({ kind: "arc", os: "linux", status: "Disconnected", subscriptionId: SUB_A });
    expect(db?.resourceId).toBe(
      `/subscriptions/${SUB_A}/resourceGroups/rg-contoso/providers/Microsoft.HybridCompute/machines/contoso-db-0`,
    );
  });

  it("limits to one resource group", async () => {
    const { devices } = await listDevices(
      env.arm,
      { subscriptionIds: [SUB_A], resourceGroup: "rg-fabrikam" },
      { tenant: "msp1" },
    );
    expect(devices.map((d) => d.name).sort()).toEqual(["web000000", "web000001", "wkr000000"]);
  });

  it("serves wire shapes the clients' zod schemas accept, with nextLink paging", async () => {
    const first = await rawGet(
      `/subscriptions/${SUB_A}/providers/Microsoft.HybridCompute/machines?api-version=2025-01-13`,
    );
    const page = HybridMachineListSchema.parse(first.body);
    expect(page.value).toHaveLength(2);
    expect(page.nextLink).toContain("$skiptoken=2");
    expect(page.value[0]?.properties?.lastStatusChange).toBeNull();
    ScaleSetListSchema.parse(
      (
        await rawGet(
          `/subscriptions/${SUB_A}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=2026-04-01`,
        )
      ).body,
    );
    const vms = ScaleSetVmListSchema.parse(
      (
        await rawGet(
          `/subscriptions/${SUB_A}/resourceGroups/rg-fabrikam/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web/virtualMachines?api-version=2026-04-01&$expand=instanceView`,
        )
      ).body,
    );
    expect(vms.value[0]?.properties?.instanceView?.vmAgent?.statuses?.[0]?.displayStatus).toBe("Ready");
  });

  it("answers 401 without a bearer token and 400 for an unknown api-version, as ARM does", async () => {
    const path = `/subscriptions/${SUB_A}/providers/Microsoft.HybridCompute/machines?api-version=2025-01-13`;
    expect(await rawGet(path, null)).toMatchObject({ status: 401, body: { error: { code: "AuthenticationFailed" } } });
    expect((await rawGet(path.replace("2025-01-13", "1999-01-01"))).status).toBe(400);
  });
});
