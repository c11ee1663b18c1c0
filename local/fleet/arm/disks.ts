import { createHash } from "node:crypto";
import { z } from "zod";
import { scaleSetVmJson, vmId, vmssVmId } from "../armResources";
import type { FleetClock, SimulatedDevice } from "../contract";
import { ServiceError } from "../../serviceError";

// Managed disks, snapshots and the OS-disk swap in the fleet emulator (issue 20): DiskRP's `disks` and `snapshots`
// (PUT / GET / DELETE / list by resource group), ComputeRP's VM GET, PATCH (the OS-disk swap), deallocate and start,
// and the GET of a Uniform scale-set instance. Shapes follow the vendored specs and examples
// (test/fixtures/reference/azure-rest-api-specs, checked by test/integration/fleet/disks.test.ts). Long-running
// operations answer 200 with the final resource (a shape their specs allow and the SDK's poller accepts as done).
//
// A snapshot captures the simulated device's installed-update state at the time it is taken; a disk copied from it
// carries that time, and swapping it in as the OS disk puts the device back to it (SimulatedDevice's
// restoreInstalledState): what was installed since is gone, so a regression it caused clears, unless the scenario's
// break outlives a removal (`persistsAfterUninstall`).

/** DiskRP's api-version the arm-compute SDK sends for disks and snapshots. */
export const DISK_API_VERSIONS = ["2026-03-02"] as const;

/** The request and answer shapes the ARM server's routes use (local/fleet/armServer.ts). */
export interface DiskRouteContext {
  method: string;
  url: URL;
  base: string;
  body: unknown;
  match: string[];
}
export interface DiskRouteReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export type DiskRoute = [string, RegExp, (ctx: DiskRouteContext) => DiskRouteReply | Promise<DiskRouteReply>];

interface StoredResource {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  tags: Record<string, string>;
  createOption: string;
  sourceResourceId?: string;
  /** The device whose state the resource holds, and as of when (ms). */
  device?: string;
  capturedAt?: number;
  timeCreated: string;
  incremental?: boolean;
  osType?: "Windows" | "Linux";
  diskSizeGB: number;
}

const CreationDataSchema = z.object({
  createOption: z.string().min(1, "is required"),
  sourceResourceId: z.string().min(1).optional(),
});
const PutSchema = z.object({
  location: z.string().min(1, "is required"),
  tags: z.record(z.string(), z.string()).optional(),
  properties: z.object({ creationData: CreationDataSchema, incremental: z.boolean().optional() }),
});
const PatchVmSchema = z.object({
  properties: z
    .object({
      storageProfile: z
        .object({
          osDisk: z
            .object({ name: z.string().optional(), managedDisk: z.object({ id: z.string().min(1) }).optional() })
            .optional(),
        })
        .optional(),
    })
    .optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

const lower = (s: string) => s.toLowerCase();
const guid = (seed: string): string => {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

function invalid(message: string): never {
  throw new ServiceError(400, "InvalidParameter", message);
}

/** What the disk routes need from the ARM server. */
export interface DiskRouteDeps {
  clock: FleetClock;
  /** A VM (standalone or Flexible instance) by subscription, resource group and name; ARM's 404 when unknown. */
  vmDevice(match: string[]): SimulatedDevice;
  /** A Uniform scale-set instance by subscription, resource group, scale set and instance id. */
  vmssDevice(match: string[]): SimulatedDevice;
}

/**
 * A scenario device tag that stands for a ReadOnly resource lock on the device's resources (ARM answers a write with
 * 409 ScopeLocked): the snapshot-failure scenario of issue 20.
 */
export const SIM_LOCK_TAG = "patchpilot-sim:lock";

/** The emulator's disks and snapshots, and the VMs' OS disks and power states. */
export class DiskStore {
  readonly disks = new Map<string, StoredResource>();
  readonly snapshots = new Map<string, StoredResource>();
  private readonly osDisk = new Map<string, string>();
  private readonly deallocated = new Set<string>();

  private readonly lockedDevices = new Set<string>();

  constructor(private readonly clock: FleetClock) {}

  private rgPrefix(device: SimulatedDevice): string {
    const p = device.placement;
    return `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.Compute`;
  }

  /** The device's disks, created on first look: an OS disk and one data disk (LUN 0). */
  private ensureDisks(device: SimulatedDevice): void {
    if (this.osDisk.has(device.name)) return;
    if (device.tags[SIM_LOCK_TAG] === "ReadOnly") this.lockedDevices.add(device.name);
    const p = device.placement;
    const base = (name: string, osType?: "Windows" | "Linux"): StoredResource => ({
      id: `${this.rgPrefix(device)}/disks/${name}`,
      name,
      subscriptionId: p.subscriptionId,
      resourceGroup: p.resourceGroup,
      location: p.location,
      tags: {},
      createOption: osType === undefined ? "Empty" : "FromImage",
      device: device.name,
      timeCreated: "2025-06-01T00:00:00.0000000+00:00",
      ...(osType === undefined ? {} : { osType }),
      diskSizeGB: osType === undefined ? 256 : 128,
    });
    const os = base(`${device.name}_OsDisk_1`, device.os === "windows" ? "Windows" : "Linux");
    const data = base(`${device.name}_DataDisk_0`);
    this.disks.set(lower(os.id), os);
    this.disks.set(lower(data.id), data);
    this.osDisk.set(device.name, os.id);
  }

  /** The id of the VM's OS disk now. */
  osDiskOf(device: SimulatedDevice): string {
    this.ensureDisks(device);
    return this.osDisk.get(device.name)!;
  }

  dataDiskOf(device: SimulatedDevice): string {
    this.ensureDisks(device);
    return `${this.rgPrefix(device)}/disks/${device.name}_DataDisk_0`;
  }

  isDeallocated(device: SimulatedDevice): boolean {
    return this.deallocated.has(device.name);
  }

  storageProfile(device: SimulatedDevice): object {
    const os = this.disks.get(lower(this.osDiskOf(device)))!;
    const data = this.disks.get(lower(this.dataDiskOf(device)))!;
    return {
      osDisk: {
        osType: device.os === "windows" ? "Windows" : "Linux",
        name: os.name,
        createOption: "FromImage",
        caching: "ReadWrite",
        managedDisk: { storageAccountType: "Premium_LRS", id: os.id },
        diskSizeGB: os.diskSizeGB,
      },
      dataDisks: [
        {
          lun: 0,
          name: data.name,
          createOption: "Attach",
          caching: "None",
          managedDisk: { storageAccountType: "Premium_LRS", id: data.id },
          diskSizeGB: data.diskSizeGB,
        },
      ],
    };
  }

  vmJson(device: SimulatedDevice): object {
    const p = device.placement;
    return {
      id: vmId(device),
      name: p.vm?.vmName ?? device.name,
      type: "Microsoft.Compute/virtualMachines",
      location: p.location,
      tags: { ...device.tags },
      properties: {
        vmId: guid(`vm:${device.name}`),
        hardwareProfile: { vmSize: "Standard_D2s_v3" },
        storageProfile: this.storageProfile(device),
        osProfile: { computerName: device.armProperties.computerName, adminUsername: "patchadmin" },
        provisioningState: "Succeeded",
      },
    };
  }

  /** Every disk and snapshot the devices' disks would hold, found by id. */
  private findSource(id: string): StoredResource | undefined {
    return this.disks.get(lower(id)) ?? this.snapshots.get(lower(id));
  }

  put(
    kind: "disks" | "snapshots",
    sub: string,
    rg: string,
    name: string,
    body: unknown,
  ): { created: boolean; r: StoredResource } {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]?$/.test(name))
      invalid(`The resource name '${name}' is invalid.`);
    const parsed = PutSchema.safeParse(body);
    if (!parsed.success)
      throw new ServiceError(
        400,
        "InvalidRequestContent",
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      );
    const { location, tags, properties } = parsed.data;
    const { createOption, sourceResourceId } = properties.creationData;
    if (createOption !== "Copy" && createOption !== "Empty")
      invalid(`creationData.createOption '${createOption}' is not supported by the emulator (Copy, Empty).`);
    let source: StoredResource | undefined;
    if (createOption === "Copy") {
      if (sourceResourceId === undefined)
        invalid("creationData.sourceResourceId is required when createOption is Copy.");
      source = this.findSource(sourceResourceId);
      if (source === undefined) throw new ServiceError(404, "NotFound", `Resource ${sourceResourceId} is not found.`);
    }
    if (source?.device !== undefined && this.lockedDevices.has(source.device))
      throw new ServiceError(
        409,
        "ScopeLocked",
        `The scope '${source.id}' cannot perform write operation because following scope(s) are locked: '/subscriptions/${sub}/resourceGroups/${rg}'. Please remove the lock and try again.`,
      );
    const table = kind === "disks" ? this.disks : this.snapshots;
    const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/${kind}/${name}`;
    const existing = table.get(lower(id));
    const now = this.clock.now();
    // A snapshot of a disk holds the state of the device it belongs to as of now; a disk copied from a snapshot
    // holds the snapshot's time.
    const fromDisk = source !== undefined && this.disks.has(lower(source.id));
    const r: StoredResource = {
      id,
      name,
      subscriptionId: sub,
      resourceGroup: rg,
      location,
      tags: { ...(tags ?? {}) },
      createOption,
      ...(sourceResourceId === undefined ? {} : { sourceResourceId }),
      ...(source?.device === undefined ? {} : { device: source.device }),
      ...(source === undefined
        ? {}
        : fromDisk
          ? { capturedAt: existing?.capturedAt ?? now.getTime() }
          : source.capturedAt === undefined
            ? {}
            : { capturedAt: source.capturedAt }),
      timeCreated: existing?.timeCreated ?? now.toISOString(),
      ...(kind === "snapshots" ? { incremental: properties.incremental ?? false } : {}),
      ...(source?.osType === undefined ? {} : { osType: source.osType }),
      diskSizeGB: source?.diskSizeGB ?? 128,
    };
    table.set(lower(id), r);
    return { created: existing === undefined, r };
  }

  json(kind: "disks" | "snapshots", r: StoredResource): object {
    const attachedTo = kind === "disks" ? this.attachedTo(r.id) : undefined;
    return {
      id: r.id,
      name: r.name,
      type: `Microsoft.Compute/${kind}`,
      location: r.location,
      tags: r.tags,
      sku: { name: kind === "disks" ? "Premium_LRS" : "Standard_LRS", tier: kind === "disks" ? "Premium" : "Standard" },
      properties: {
        ...(r.osType === undefined ? {} : { osType: r.osType }),
        creationData: {
          createOption: r.createOption,
          ...(r.sourceResourceId === undefined ? {} : { sourceResourceId: r.sourceResourceId }),
        },
        diskSizeGB: r.diskSizeGB,
        timeCreated: r.timeCreated,
        provisioningState: "Succeeded",
        ...(kind === "snapshots" ? { incremental: r.incremental ?? false, diskState: "Unattached" } : {}),
        ...(kind === "disks" ? { diskState: attachedTo === undefined ? "Unattached" : "Attached" } : {}),
      },
      ...(attachedTo === undefined ? {} : { managedBy: attachedTo }),
    };
  }

  attachedTo(diskId: string): string | undefined {
    for (const [name, os] of this.osDisk) if (lower(os) === lower(diskId)) return name;
    return undefined;
  }

  /** VM PATCH with a new OS disk: only on a deallocated VM, only a disk that exists; restores what it holds. */
  swapOsDisk(device: SimulatedDevice, diskId: string): void {
    this.ensureDisks(device);
    const disk = this.disks.get(lower(diskId));
    if (disk === undefined) throw new ServiceError(404, "NotFound", `Disk ${diskId} is not found.`);
    if (lower(diskId) === lower(this.osDiskOf(device))) return;
    if (!this.deallocated.has(device.name))
      throw new ServiceError(
        409,
        "OperationNotAllowed",
        "The OS disk of a VM can be swapped only while the VM is deallocated (stop the VM first).",
      );
    this.osDisk.set(device.name, disk.id);
    const now = this.clock.now();
    if (disk.device === device.name && disk.capturedAt !== undefined)
      device.restoreInstalledState?.(new Date(disk.capturedAt), now, `arm:os-disk-swap:${disk.name}`);
  }

  deallocate(device: SimulatedDevice): void {
    this.ensureDisks(device);
    this.deallocated.add(device.name);
  }

  start(device: SimulatedDevice): void {
    if (!this.deallocated.delete(device.name)) return;
    device.powerCycle?.(this.clock.now(), "arm:start");
  }
}

/** The disk, snapshot and VM power routes (registered by local/fleet/armServer.ts). */
export function diskRoutes(
  store: DiskStore,
  deps: DiskRouteDeps,
  paged: (ctx: DiskRouteContext, items: readonly unknown[]) => DiskRouteReply,
): DiskRoute[] {
  const S = "/subscriptions/([^/]+)";
  const RG = "/resourceGroups/([^/]+)";
  const CP = "/providers/Microsoft\\.Compute";
  const route = (pattern: string): RegExp => new RegExp(`^${pattern}$`, "i");
  const resource = (kind: "disks" | "snapshots"): DiskRoute[] => {
    const table = () => (kind === "disks" ? store.disks : store.snapshots);
    const idOf = (m: string[]) =>
      lower(`/subscriptions/${m[1]}/resourceGroups/${m[2]}/providers/Microsoft.Compute/${kind}/${m[3]}`);
    const notFound = (m: string[]) =>
      new ServiceError(
        404,
        "ResourceNotFound",
        `The Resource 'Microsoft.Compute/${kind}/${m[3]}' under resource group '${m[2]}' was not found.`,
      );
    return [
      [
        "GET",
        route(`${S}${RG}${CP}/${kind}`),
        (ctx) =>
          paged(
            ctx,
            [...table().values()]
              .filter(
                (r) =>
                  lower(r.subscriptionId) === lower(ctx.match[1] ?? "") &&
                  lower(r.resourceGroup) === lower(ctx.match[2] ?? "") &&
                  // The devices' own disks exist once a VM was looked at; a listing shows only what was created.
                  (kind === "snapshots" || r.createOption !== "FromImage"),
              )
              .map((r) => store.json(kind, r)),
          ),
      ],
      [
        "GET",
        route(`${S}${RG}${CP}/${kind}/([^/]+)`),
        (ctx) => {
          const r = table().get(idOf(ctx.match));
          if (r === undefined) throw notFound(ctx.match);
          return { status: 200, body: store.json(kind, r) };
        },
      ],
      [
        "PUT",
        route(`${S}${RG}${CP}/${kind}/([^/]+)`),
        (ctx) => {
          const { r } = store.put(kind, ctx.match[1] ?? "", ctx.match[2] ?? "", ctx.match[3] ?? "", ctx.body);
          return { status: 200, body: store.json(kind, r) };
        },
      ],
      [
        "DELETE",
        route(`${S}${RG}${CP}/${kind}/([^/]+)`),
        (ctx) => {
          const id = idOf(ctx.match);
          const r = table().get(id);
          if (r === undefined) return { status: 204 };
          if (kind === "disks" && store.attachedTo(r.id) !== undefined)
            throw new ServiceError(409, "OperationNotAllowed", `Disk ${r.name} is attached to a VM.`);
          table().delete(id);
          return { status: 200 };
        },
      ],
    ];
  };
  const VM = `${S}${RG}${CP}/virtualMachines/([^/]+)`;
  return [
    ...resource("disks"),
    ...resource("snapshots"),
    ["GET", route(VM), (ctx) => ({ status: 200, body: store.vmJson(deps.vmDevice(ctx.match)) })],
    [
      "PATCH",
      route(VM),
      (ctx) => {
        const device = deps.vmDevice(ctx.match);
        const parsed = PatchVmSchema.safeParse(ctx.body);
        if (!parsed.success)
          throw new ServiceError(
            400,
            "InvalidRequestContent",
            parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
          );
        const diskId = parsed.data.properties?.storageProfile?.osDisk?.managedDisk?.id;
        if (diskId !== undefined) store.swapOsDisk(device, diskId);
        return { status: 200, body: store.vmJson(device) };
      },
    ],
    [
      "POST",
      route(`${VM}/deallocate`),
      (ctx) => {
        store.deallocate(deps.vmDevice(ctx.match));
        return { status: 200 };
      },
    ],
    [
      "POST",
      route(`${VM}/start`),
      (ctx) => {
        store.start(deps.vmDevice(ctx.match));
        return { status: 200 };
      },
    ],
    [
      "GET",
      route(`${S}${RG}${CP}/virtualMachineScaleSets/([^/]+)/virtualMachines/([^/]+)`),
      (ctx) => {
        const device = deps.vmssDevice(ctx.match);
        const json = scaleSetVmJson(device, deps.clock, false) as { properties: Record<string, unknown> };
        return {
          status: 200,
          body: {
            ...json,
            id: vmssVmId(device),
            properties: { ...json.properties, storageProfile: store.storageProfile(device) },
          },
        };
      },
    ],
  ];
}
