import { createHash } from "node:crypto";
import type { Fleet, FleetClock, SimulatedDevice } from "./contract";
import type { RunCommandEngine, RunCommandRecord } from "./runCommandEngine";

// JSON bodies in the shapes of the Azure REST API specs (HybridCompute 2025-01-13, Compute), nulls included.

type ScaleSet = Fleet["scaleSets"][number];

const guid = (seed: string): string => {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

const tagsOrNull = (tags: Readonly<Record<string, string>>): Record<string, string> | null =>
  Object.keys(tags).length === 0 ? null : { ...tags };

/** ARM id of an Arc machine. */
export function arcMachineId(device: SimulatedDevice): string {
  const p = device.placement;
  return `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.HybridCompute/machines/${p.arc?.machineName ?? device.name}`;
}

/** ARM id of a VMSS instance. */
export function vmssVmId(device: SimulatedDevice): string {
  const p = device.placement;
  return `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${p.vmss?.scaleSetName ?? ""}/virtualMachines/${p.vmss?.instanceId ?? ""}`;
}

/** ARM id of an Azure VM (standalone or Flexible VMSS instance). */
export function vmId(device: SimulatedDevice): string {
  const p = device.placement;
  return `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${p.vm?.vmName ?? device.name}`;
}

/**
 * A Compute VM's instance view (`virtualMachines/{vm}/instanceView`, `virtualMachineScaleSets/{s}/virtualMachines/
 * {id}/instanceView`): the VM agent is Ready while the simulated agent is connected.
 */
export function vmInstanceViewJson(device: SimulatedDevice, clock: FleetClock): object {
  const now = clock.now();
  const ready = device.agentStatus(now) === "Connected";
  return {
    computerName: device.armProperties.computerName,
    osName: device.armProperties.osName,
    osVersion: device.armProperties.osVersion,
    vmAgent: {
      vmAgentVersion: device.armProperties.agentVersion,
      statuses: [
        {
          code: "ProvisioningState/succeeded",
          level: "Info",
          displayStatus: ready ? "Ready" : "Not Ready",
          message: ready ? "Guest Agent is running" : "VM status blob is found but not yet populated.",
          time: now.toISOString(),
        },
      ],
    },
    statuses: [
      { code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Provisioning succeeded" },
      ready
        ? { code: "PowerState/running", level: "Info", displayStatus: "VM running" }
        : { code: "PowerState/stopped", level: "Info", displayStatus: "VM stopped" },
    ],
  };
}

/** `Microsoft.HybridCompute/machines` resource. */
export function arcMachineJson(device: SimulatedDevice, clock: FleetClock): object {
  const os = device.os === "windows" ? "windows" : "linux";
  return {
    id: arcMachineId(device),
    name: device.placement.arc?.machineName ?? device.name,
    location: device.placement.location,
    tags: tagsOrNull(device.tags),
    identity: { type: "SystemAssigned", principalId: guid(`principal:${device.name}`), tenantId: guid("tenant") },
    type: "Microsoft.HybridCompute/machines",
    kind: null,
    properties: {
      provisioningState: "Succeeded",
      agentVersion: device.armProperties.agentVersion,
      status: device.agentStatus(clock.now()),
      lastStatusChange: null,
      errorDetails: null,
      displayName: device.name,
      machineFqdn: null,
      vmUuid: null,
      osSku: device.armProperties.osName,
      osEdition: null,
      domainName: null,
      adFqdn: null,
      dnsFqdn: null,
      osName: device.armProperties.osName,
      osVersion: device.armProperties.osVersion,
      osType: os,
      osProfile: {
        computerName: device.armProperties.computerName,
        windowsConfiguration: os === "windows" ? { patchSettings: { assessmentMode: null, patchMode: null } } : null,
        linuxConfiguration: os === "linux" ? { patchSettings: { assessmentMode: null, patchMode: null } } : null,
      },
      vmId: guid(`vm:${device.name}`),
      locationData: null,
      clientPublicKey: null,
      parentClusterResourceId: null,
      mssqlDiscovered: "false",
      detectedProperties: { cloudprovider: "N/A", manufacturer: "Microsoft Corporation", model: "Virtual Machine" },
      privateLinkScopeResourceId: null,
    },
  };
}

/** `Microsoft.Compute/virtualMachineScaleSets` resource. */
export function scaleSetJson(scaleSet: ScaleSet): object {
  return {
    id: `/subscriptions/${scaleSet.subscriptionId}/resourceGroups/${scaleSet.resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${scaleSet.name}`,
    name: scaleSet.name,
    type: "Microsoft.Compute/virtualMachineScaleSets",
    location: scaleSet.location,
    tags: tagsOrNull(scaleSet.tags),
    sku: { name: "Standard_D2s_v3", tier: "Standard", capacity: scaleSet.instances.length },
    properties: {
      provisioningState: "Succeeded",
      orchestrationMode: scaleSet.orchestrationMode ?? "Uniform",
      uniqueId: guid(`vmss:${scaleSet.name}`),
      upgradePolicy: { mode: "Manual" },
      virtualMachineProfile: {
        osProfile: {
          computerNamePrefix: scaleSet.name,
          adminUsername: "patchadmin",
          windowsConfiguration: null,
          linuxConfiguration: null,
        },
        storageProfile: {
          osDisk: {
            osType: scaleSet.os === "windows" ? "Windows" : "Linux",
            createOption: "FromImage",
            caching: "ReadWrite",
          },
        },
      },
    },
  };
}

/** One VMSS instance; with `$expand=instanceView` the VM agent's readiness mirrors the device's agent status. */
export function scaleSetVmJson(device: SimulatedDevice, clock: FleetClock, instanceView: boolean): object {
  const vmss = device.placement.vmss;
  return {
    id: vmssVmId(device),
    name: `${vmss?.scaleSetName ?? ""}_${vmss?.instanceId ?? ""}`,
    instanceId: vmss?.instanceId ?? "",
    type: "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
    location: device.placement.location,
    tags: null,
    properties: {
      latestModelApplied: true,
      vmId: guid(`vm:${device.name}`),
      provisioningState: "Succeeded",
      hardwareProfile: null,
      osProfile: { computerName: device.armProperties.computerName, adminUsername: "patchadmin" },
      storageProfile: {
        osDisk: {
          osType: device.os === "windows" ? "Windows" : "Linux",
          name: `${device.name}-osdisk`,
          createOption: "FromImage",
        },
      },
      ...(instanceView ? { instanceView: vmInstanceViewJson(device, clock) } : {}),
    },
  };
}

// The SAS token is a credential: ARM does not echo it back, and neither does the emulator.
const withoutQuery = (uri: string | undefined): string | null =>
  uri === undefined ? null : (uri.split("?")[0] ?? null);

/** A run command resource (Arc or VMSS VM: same shape), optionally with its instance view. */
export function runCommandJson(
  engine: RunCommandEngine,
  record: RunCommandRecord,
  parentId: string,
  type: string,
  instanceView: boolean,
): object {
  const view = engine.view(record);
  return {
    id: `${parentId}/runCommands/${record.name}`,
    name: record.name,
    type,
    location: record.input.location,
    tags: null,
    properties: {
      source: { script: record.input.script },
      parameters: record.input.parameters.map(({ name, value }) => ({ name, value })),
      protectedParameters: [],
      asyncExecution: record.input.asyncExecution,
      runAsUser: null,
      timeoutInSeconds: record.input.timeoutInSeconds,
      outputBlobUri: withoutQuery(record.input.outputBlobUri),
      errorBlobUri: withoutQuery(record.input.errorBlobUri),
      provisioningState: view.provisioningState,
      ...(instanceView
        ? {
            instanceView: {
              executionState: view.executionState,
              executionMessage: view.executionMessage,
              exitCode: view.exitCode,
              output: view.output,
              error: view.error,
              startTime: view.startTime?.toISOString() ?? null,
              endTime: view.endTime?.toISOString() ?? null,
              statuses: null,
            },
          }
        : {}),
    },
  };
}
