import { readFileSync } from "node:fs";
import path from "node:path";
import { DiskClient } from "../../../lib/azure/snapshots/diskClient";
import type { DeviceRef } from "../../../lib/schemas/target";
import type { ArmExchange } from "../../../local/fleet/armServer";
import { fleetOf, ManualClock, startEmulator, SUB_A, vmDevice, type EmulatorUnderTest } from "./testFleet";

// Issue 20: the fleet emulator's disks, snapshots and VM power/OS-disk routes (local/fleet/arm/disks.ts) and the
// requests PatchPilot's DiskClient sends through the real arm-compute SDK, checked against Microsoft's published
// examples vendored under test/fixtures/reference/azure-rest-api-specs (DiskRP 2025-01-02, ComputeRP 2024-11-01).
// Every key path an example's request has must be in the SDK's request; every key path of an example's response that
// the emulator models must be in its answer, with the same JSON type; status codes must be ones the example lists.

const SPECS = path.resolve(
  __dirname,
  "../../fixtures/reference/azure-rest-api-specs/specification/compute/resource-manager",
);
const DISK_EXAMPLES = path.join(SPECS, "Microsoft.Compute/DiskRP/stable/2025-01-02/examples");
const VM_EXAMPLES = path.join(SPECS, "Microsoft.Compute/ComputeRP/stable/2024-11-01/examples/virtualMachineExamples");

interface Example {
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown }>;
}
const example = (dir: string, file: string): Example =>
  JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Example;

/** Leaf key paths of a JSON value with their JSON types (array items as `[]`). */
function paths(value: unknown, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(value)) {
    for (const item of value) for (const [p, t] of paths(item, `${prefix}[]`)) out.set(p, t);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value))
      for (const [p, t] of paths(v, prefix === "" ? k : `${prefix}.${k}`)) out.set(p, t);
  } else {
    out.set(prefix, value === null ? "null" : typeof value);
  }
  return out;
}

/** Asserts that `actual` has each of `wanted` (paths of `reference`) with the reference's JSON type. */
function expectPaths(actual: unknown, reference: unknown, wanted: readonly string[]): void {
  const ref = paths(reference);
  const got = paths(actual);
  for (const p of wanted) {
    expect(ref.has(p) ? p : `${p} (not in the example)`).toBe(p);
    expect([p, got.get(p)]).toEqual([p, ref.get(p)]);
  }
}

const VM = vmDevice("VM01", {});
const REF = {
  kind: "vm",
  vmName: "VM01",
  name: "VM01",
  resourceId: `/subscriptions/${SUB_A}/resourceGroups/rg-azure/providers/Microsoft.Compute/virtualMachines/VM01`,
  os: "windows",
  tags: {},
  status: "Connected",
  subscriptionId: SUB_A,
  resourceGroup: "rg-azure",
  location: "swedencentral",
} satisfies DeviceRef;

describe("fleet emulator: managed disks and snapshots against the DiskRP / ComputeRP examples (issue 20)", () => {
  let env: EmulatorUnderTest;
  let seen: ArmExchange[] = [];
  beforeAll(async () => {
    env = await startEmulator({ fleet: fleetOf([VM]), clock: new ManualClock(new Date("2026-01-20T01:00:00Z")) });
    env.emulator.onExchange((x) => seen.push(x));
  });
  afterAll(async () => {
    await env?.emulator.close();
  });
  beforeEach(() => {
    seen = [];
  });
  const last = (method: string, pattern: RegExp): ArmExchange => {
    const found = seen.filter((x) => x.method === method && pattern.test(x.url)).at(-1);
    if (found === undefined) throw new Error(`no ${method} ${String(pattern)} seen`);
    return found;
  };

  it("Snapshots_CreateOrUpdate: the SDK's request has the example's shape; the answer is one of its codes and shapes", async () => {
    const client = new DiskClient(env.arm, REF);
    const model = await client.disks();
    const os = model.disks.find((d) => d.disk === "os")!;
    await client.createSnapshot("pp-VM01-run-0001-os", os.id, model.location, { "patchpilot:run": "run-0001" });
    const put = last("PUT", /\/snapshots\/pp-VM01-run-0001-os\?/);
    const ex = example(DISK_EXAMPLES, "snapshotExamples/Snapshot_Create_FromAnExistingSnapshot.json");
    expectPaths(put.requestBody, ex.parameters["snapshot"], [
      "location",
      "properties.creationData.createOption",
      "properties.creationData.sourceResourceId",
    ]);
    expect(put.requestBody).toMatchObject({
      properties: { creationData: { createOption: "Copy", sourceResourceId: os.id } },
    });
    // `incremental` where DiskRP's incremental snapshot has it.
    const incremental = example(DISK_EXAMPLES, "snapshotExamples/Snapshot_GetIncrementalSnapshot.json");
    expectPaths(put.requestBody, incremental.responses["200"]!.body, ["properties.incremental"]);
    expect(Object.keys(ex.responses)).toContain(String(put.status));
    expectPaths(put.responseBody, ex.responses["200"]!.body, [
      "id",
      "name",
      "location",
      "properties.provisioningState",
      "properties.creationData.createOption",
      "properties.creationData.sourceResourceId",
    ]);
  });

  it("Snapshots_Get and Snapshots_ListByResourceGroup answer as DiskRP's examples do (incremental, timeCreated, tags)", async () => {
    const compute = env.arm.compute(SUB_A);
    await compute.snapshots.get("rg-azure", "pp-VM01-run-0001-os");
    const get = last("GET", /\/snapshots\/pp-VM01-run-0001-os\?/);
    const ex = example(DISK_EXAMPLES, "snapshotExamples/Snapshot_GetIncrementalSnapshot.json");
    expect(Object.keys(ex.responses)).toContain(String(get.status));
    const modelled = [
      "id",
      "name",
      "type",
      "location",
      "properties.osType",
      "properties.creationData.createOption",
      "properties.creationData.sourceResourceId",
      "properties.diskSizeGB",
      "properties.incremental",
      "properties.timeCreated",
      "properties.provisioningState",
    ];
    expectPaths(get.responseBody, ex.responses["200"]!.body, modelled);
    expect(get.responseBody).toMatchObject({ type: "Microsoft.Compute/snapshots", properties: { incremental: true } });
    expect(get.responseBody).toMatchObject({ tags: { "patchpilot:run": "run-0001" } });

    const listed: string[] = [];
    for await (const s of compute.snapshots.listByResourceGroup("rg-azure")) listed.push(s.name ?? "");
    expect(listed).toEqual(["pp-VM01-run-0001-os"]);
    const list = last("GET", /\/resourceGroups\/rg-azure\/providers\/Microsoft\.Compute\/snapshots\?/);
    const exList = example(DISK_EXAMPLES, "snapshotExamples/Snapshot_ListByResourceGroup.json");
    expect(Object.keys(exList.responses)).toContain(String(list.status));
    expectPaths(list.responseBody, exList.responses["200"]!.body, [
      "value[].id",
      "value[].name",
      "value[].type",
      "value[].location",
      "value[].properties.creationData.createOption",
      "value[].properties.creationData.sourceResourceId",
      "value[].properties.timeCreated",
      "value[].properties.provisioningState",
    ]);
  });

  it("Disks_CreateOrUpdate by copying a snapshot, the OS-disk swap (deallocated VMs only), deallocate and start", async () => {
    const client = new DiskClient(env.arm, REF);
    const snapshotId = `/subscriptions/${SUB_A}/resourceGroups/rg-azure/providers/Microsoft.Compute/snapshots/pp-VM01-run-0001-os`;
    const model = await client.disks();
    const diskId = await client.createDiskFromSnapshot("pp-VM01-run-0001-restored", snapshotId, model.location, {});
    const put = last("PUT", /\/disks\/pp-VM01-run-0001-restored\?/);
    const ex = example(DISK_EXAMPLES, "diskExamples/Disk_Create_ByCopyingASnapshot.json");
    expectPaths(put.requestBody, ex.parameters["disk"], [
      "location",
      "properties.creationData.createOption",
      "properties.creationData.sourceResourceId",
    ]);
    expect(Object.keys(ex.responses)).toContain(String(put.status));
    expectPaths(put.responseBody, ex.responses["200"]!.body, [
      "id",
      "name",
      "location",
      "properties.provisioningState",
      "properties.creationData.createOption",
      "properties.creationData.sourceResourceId",
    ]);

    // ARM refuses an OS-disk swap on a running VM.
    await expect(client.swapOsDisk(diskId, model.osCreateOption)).rejects.toMatchObject({ statusCode: 409 });
    await client.deallocate();
    const deallocate = last("POST", /\/virtualMachines\/VM01\/deallocate\?/);
    expect(Object.keys(example(VM_EXAMPLES, "VirtualMachine_Deallocate_MinimumSet_Gen.json").responses)).toContain(
      String(deallocate.status),
    );
    expect(await client.swapOsDisk(diskId, model.osCreateOption)).toBe(diskId);
    const patch = last("PATCH", /\/virtualMachines\/VM01\?/);
    expect(patch.requestBody).toMatchObject({
      properties: { storageProfile: { osDisk: { managedDisk: { id: diskId } } } },
    });
    await client.start();
    const start = last("POST", /\/virtualMachines\/VM01\/start\?/);
    expect(Object.keys(example(VM_EXAMPLES, "VirtualMachine_Start_MinimumSet_Gen.json").responses)).toContain(
      String(start.status),
    );
    const after = await client.disks();
    expect(after.disks.find((d) => d.disk === "os")?.id).toBe(diskId);

    // The old OS disk is still there, unattached; the new one is attached and cannot be deleted.
    const compute = env.arm.compute(SUB_A);
    await expect(compute.disks.get("rg-azure", "VM01_OsDisk_1")).resolves.toMatchObject({ diskState: "Unattached" });
    await expect(compute.disks.delete("rg-azure", "pp-VM01-run-0001-restored")).rejects.toMatchObject({
      statusCode: 409,
    });
  });

  it("Snapshots_Delete answers one of the example's codes, and 204 for a snapshot that is gone", async () => {
    const client = new DiskClient(env.arm, REF);
    const ex = example(DISK_EXAMPLES, "snapshotExamples/Snapshot_Delete.json");
    await client.deleteSnapshot("pp-VM01-run-0001-os");
    await client.deleteSnapshot("pp-VM01-run-0001-os");
    const deletes = seen.filter((x) => x.method === "DELETE").map((x) => String(x.status));
    expect(deletes).toEqual(["200", "204"]);
    for (const status of deletes) expect(Object.keys(ex.responses)).toContain(status);
  });
});
