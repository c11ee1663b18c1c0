import type { ContainerClient } from "@azure/storage-blob";
import { DEFAULT_GLOBAL_POLICY } from "../../../lib/domain/policy/defaultPolicy";
import { resolveEffectivePolicy } from "../../../lib/domain/policy/overlay";
import { PolicyDocumentError } from "../../../lib/policy/policyDocumentError";
import { PolicyStore } from "../../../lib/policy/policyStore";
import type { ClientProfile, MaintenanceWindow } from "../../../lib/schemas/policies";
import type { PolicyLayer } from "../../../lib/schemas/policyLayer";
import { readScenarioFile } from "../../../local/fleet/scenario/parseScenario";
import { seedPolicyStore } from "../../../local/fleet/scenario/seedPolicies";
import { testStorage, uniqueRunId } from "../../harness/storage";

const created: ContainerClient[] = [];

/** A fresh container per test, so tests never see each other's documents. */
async function freshContainer(): Promise<ContainerClient> {
  const { blobService } = await testStorage();
  const container = blobService.getContainerClient(`policies-${uniqueRunId("p")}`.toLowerCase());
  await container.createIfNotExists();
  created.push(container);
  return container;
}

afterAll(async () => {
  await Promise.all(created.map((c) => c.deleteIfExists()));
});

async function putRaw(container: ContainerClient, name: string, body: string): Promise<void> {
  await container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
}

const tenantLayer: PolicyLayer = {
  schemaVersion: 1,
  scope: { level: "tenant", tenant: "contoso-msp" },
  update: { deferralDays: 7 },
};
const clientLayer: PolicyLayer = {
  schemaVersion: 1,
  scope: { level: "client", tenant: "contoso-msp", client: "fabrikam" },
  update: { excludeKbs: ["KB5012346"] },
};
const deviceLayer: PolicyLayer = {
  schemaVersion: 1,
  scope: { level: "device", tenant: "contoso-msp", client: "fabrikam", device: "WIN-SERVER01" },
  update: { rebootPolicy: "Never" },
};

const window: MaintenanceWindow = {
  schemaVersion: 1,
  id: "fabrikam-nightly",
  tenant: "contoso-msp",
  clients: [],
  timeZone: "Europe/Berlin",
  recurrence: { frequency: "Daily" },
  startTime: "02:00",
  durationMinutes: 240,
  cutoffMinutesBeforeEnd: 30,
  targetTags: {},
  rings: [{ name: "prod", waitAfterPreviousMinutes: 0, maxFailurePercent: 10 }],
  maxConcurrency: "50%",
  maxErrors: 3,
};

const profile: ClientProfile = {
  schemaVersion: 1,
  tenant: "contoso-msp",
  client: "fabrikam",
  displayName: "Fabrikam, Inc.",
  timeZone: "Europe/Berlin",
  windows: ["fabrikam-nightly"],
  contacts: [],
};

const target = { tenant: "contoso-msp", client: "fabrikam", device: "WIN-SERVER01" };

describe("PolicyStore (against Azurite)", () => {
  it("stores layers at their documented blob names and returns them Global → Tenant → Client → Device", async () => {
    const container = await freshContainer();
    const store = new PolicyStore(container);
    // Written out of order: the order of layersFor comes from the levels, not from the writes.
    expect(await store.putLayer(deviceLayer)).toBe(
      "layers/tenants/contoso-msp/clients/fabrikam/devices/WIN-SERVER01.json",
    );
    expect(await store.putLayer(clientLayer)).toBe("layers/tenants/contoso-msp/clients/fabrikam.json");
    expect(await store.putLayer(tenantLayer)).toBe("layers/tenants/contoso-msp.json");
    const global: PolicyLayer = {
      ...DEFAULT_GLOBAL_POLICY,
      update: { ...DEFAULT_GLOBAL_POLICY.update, maxReboots: 1 },
    };
    expect(await store.putLayer(global)).toBe("layers/global.json");

    const layers = await store.layersFor(target);
    expect(layers.map((l) => l.scope.level)).toEqual(["global", "tenant", "client", "device"]);
    expect(layers).toEqual([global, tenantLayer, clientLayer, deviceLayer]);
    const names: string[] = [];
    for await (const item of container.listBlobsFlat()) names.push(item.name);
    expect(names.sort()).toEqual([
      "layers/global.json",
      "layers/tenants/contoso-msp.json",
      "layers/tenants/contoso-msp/clients/fabrikam.json",
      "layers/tenants/contoso-msp/clients/fabrikam/devices/WIN-SERVER01.json",
    ]);
  });

  it("skips missing layers and stands in the default global layer when none is stored", async () => {
    const store = new PolicyStore(await freshContainer());
    await store.putLayer(deviceLayer);
    const layers = await store.layersFor(target);
    expect(layers).toEqual([DEFAULT_GLOBAL_POLICY, deviceLayer]);
    // Another device of the same client gets only the default.
    expect(await store.layersFor({ ...target, device: "FAB-SQL01" })).toEqual([DEFAULT_GLOBAL_POLICY]);
    expect(Object.isFrozen(layers[0])).toBe(false);
  });

  it("overwrites a layer on a second write (policies are mutable configuration)", async () => {
    const store = new PolicyStore(await freshContainer());
    await store.putLayer(tenantLayer);
    await store.putLayer({ ...tenantLayer, update: { deferralDays: 14 } });
    expect(await store.getLayer(tenantLayer.scope)).toEqual({ ...tenantLayer, update: { deferralDays: 14 } });
  });

  it("stores, reads and lists maintenance windows and client profiles", async () => {
    const store = new PolicyStore(await freshContainer());
    expect(await store.putWindow(window)).toBe("windows/contoso-msp/fabrikam-nightly.json");
    await store.putWindow({ ...window, tenant: "northwind-it", id: "wingtip-nightly" });
    expect(await store.putClient(profile)).toBe("clients/contoso-msp/fabrikam.json");

    expect(await store.getWindow("contoso-msp", "fabrikam-nightly")).toEqual(window);
    expect(await store.getWindow("contoso-msp", "other")).toBeUndefined();
    expect((await store.listWindows()).map((w) => `${w.tenant}/${w.id}`)).toEqual([
      "contoso-msp/fabrikam-nightly",
      "northwind-it/wingtip-nightly",
    ]);
    expect((await store.listWindows("northwind-it")).map((w) => w.id)).toEqual(["wingtip-nightly"]);
    expect(await store.getClient("contoso-msp", "fabrikam")).toEqual(profile);
    expect(await store.getClient("contoso-msp", "adatum")).toBeUndefined();
  });

  it("refuses a malformed stored layer, naming the blob and the field", async () => {
    const container = await freshContainer();
    const store = new PolicyStore(container);
    await putRaw(
      container,
      "layers/tenants/contoso-msp.json",
      JSON.stringify({ ...tenantLayer, update: { deferalDays: 7 } }),
    );
    const error = await store.layersFor(target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyDocumentError);
    expect((error as PolicyDocumentError).blobName).toBe("layers/tenants/contoso-msp.json");
    expect((error as PolicyDocumentError).issues).toEqual([
      { path: "update.deferalDays", message: 'unknown field "deferalDays"' },
    ]);
    expect((error as Error).message).toContain("layers/tenants/contoso-msp.json");
  });

  it("refuses a stored document that is not JSON, and one filed under another tenant's name", async () => {
    const container = await freshContainer();
    const store = new PolicyStore(container);
    await putRaw(container, "clients/contoso-msp/fabrikam.json", "{ not json");
    await expect(store.getClient("contoso-msp", "fabrikam")).rejects.toThrow(
      /clients\/contoso-msp\/fabrikam\.json[\s\S]*not JSON/,
    );

    // A northwind layer copied into contoso's place must not apply to contoso's devices.
    await putRaw(
      container,
      "layers/tenants/contoso-msp.json",
      JSON.stringify({ ...tenantLayer, scope: { level: "tenant", tenant: "northwind-it" } }),
    );
    const error = (await store.layersFor(target).catch((e: unknown) => e)) as PolicyDocumentError;
    expect(error).toBeInstanceOf(PolicyDocumentError);
    expect(error.issues[0]).toMatchObject({
      path: "scope",
      message: expect.stringContaining("tenant:northwind-it") as string,
    });
  });

  it("refuses a malformed window in a listing instead of skipping it", async () => {
    const container = await freshContainer();
    const store = new PolicyStore(container);
    await store.putWindow(window);
    await putRaw(
      container,
      "windows/contoso-msp/broken.json",
      JSON.stringify({ ...window, id: "broken", durationMinutes: 30 }),
    );
    const error = (await store.listWindows().catch((e: unknown) => e)) as PolicyDocumentError;
    expect(error).toBeInstanceOf(PolicyDocumentError);
    expect(error.blobName).toBe("windows/contoso-msp/broken.json");
    expect(error.issues.map((i) => i.path)).toContain("durationMinutes");

    await container.deleteBlob("windows/contoso-msp/broken.json");
    await putRaw(container, "windows/contoso-msp/notes.txt", "hello");
    await expect(store.listWindows()).rejects.toThrow(/windows\/contoso-msp\/notes\.txt/);
  });

  it("refuses invalid documents and ids before writing", async () => {
    const container = await freshContainer();
    const store = new PolicyStore(container);
    await expect(store.putLayer({ ...tenantLayer, update: { deferralDays: -1 } })).rejects.toThrow(PolicyDocumentError);
    await expect(store.getClient("../northwind-it", "fabrikam")).rejects.toThrow();
    await expect(store.layersFor({ ...target, device: "../x" })).rejects.toThrow();
    const names: string[] = [];
    for await (const item of container.listBlobsFlat()) names.push(item.name);
    expect(names).toEqual([]);
  });

  it("refuses a window shorter than the install estimate of the clients it covers, naming durationMinutes", async () => {
    const container = await freshContainer();
    const store = new PolicyStore(container);
    // Azure Update Manager's minimum of 1h30 against the default 2-hour estimate: no install could ever start.
    const short: MaintenanceWindow = { ...window, durationMinutes: 90, cutoffMinutesBeforeEnd: 0 };
    const refused = await store.putWindow(short).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(PolicyDocumentError);
    const issues = (refused as PolicyDocumentError).issues;
    expect(issues.map((i) => i.path)).toEqual(["durationMinutes"]);
    expect(issues[0]?.message).toContain(
      `update.maxInstallMinutes = ${DEFAULT_GLOBAL_POLICY.update?.maxInstallMinutes}`,
    );
    expect(issues[0]?.message).toContain("global");
    expect(await store.getWindow(window.tenant, window.id)).toBeUndefined();

    // The tenant lowers its estimate: the same window fits.
    await store.putLayer({ ...tenantLayer, update: { maxInstallMinutes: 60 } });
    await expect(store.putWindow(short)).resolves.toBe("windows/contoso-msp/fabrikam-nightly.json");
    // A client the window names raises it again: refused, naming that client's layer.
    await store.putLayer({ ...clientLayer, update: { maxInstallMinutes: 100 } });
    await expect(store.putWindow({ ...short, clients: ["fabrikam"] })).rejects.toThrow(
      /durationMinutes: a 90-minute window cannot fit .* = 100 \(set by client:contoso-msp\/fabrikam\)/,
    );
  });
});

describe("seedPolicyStore", () => {
  it("seeds demo.json and resolves WIN-SERVER01's effective policy from the stored layers", async () => {
    const scenario = readScenarioFile("local/scenarios/demo.json");
    const store = new PolicyStore(await freshContainer());
    const counts = await seedPolicyStore(store, scenario);
    expect(counts).toEqual({
      layers: scenario.policies.length,
      windows: scenario.windows.length,
      clients: scenario.clients.length,
    });

    const layers = await store.layersFor({ tenant: "contoso-msp", client: "fabrikam", device: "WIN-SERVER01" });
    expect(layers.map((l) => l.scope.level)).toEqual(["global", "tenant", "client", "device"]);
    const { policy, provenance } = resolveEffectivePolicy(layers);

    // From the device layer: the WebApp checks; from the client layer: Portal; from the tenant layer: maxReboots 2.
    const webApp = policy.appValidation.apps.find((a) => a.name === "WebApp");
    expect(webApp?.checks.map((c) => c.name)).toEqual(["iis", "home"]);
    expect(provenance["appValidation.apps[WebApp]"]).toBe("device:contoso-msp/fabrikam/WIN-SERVER01");
    expect(provenance["appValidation.apps[Portal]"]).toBe("client:contoso-msp/fabrikam");
    expect(policy.update.maxReboots).toBe(2);
    expect(provenance["update.maxReboots"]).toBe("tenant:contoso-msp");

    expect((await store.listWindows()).map((w) => w.id).sort()).toEqual(scenario.windows.map((w) => w.id).sort());
    expect(await store.getClient("contoso-msp", "fabrikam")).toEqual(
      scenario.clients.find((c) => c.client === "fabrikam"),
    );
    // A device layer of another client never reaches WIN-SERVER01.
    expect(layers.some((l) => l.scope.level === "device" && l.scope.device !== "WIN-SERVER01")).toBe(false);
  });
});
