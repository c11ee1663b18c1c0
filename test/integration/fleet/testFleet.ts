import type {
  AgentStatus,
  ArmBehaviour,
  Fleet,
  FleetClock,
  ScriptRequest,
  ScriptResult,
  SimulatedDevice,
} from "../../../local/fleet/contract";
import { startFleetEmulator, type FleetEmulator, type FleetEmulatorOptions } from "../../../local/fleet/armServer";
import { createArmClients, type ArmClients } from "../../../lib/azure/armClients";
import { parseBundle, runBundle } from "../../../local/fleet/device/runBundle";

/** A clock the test moves by hand; the emulator's run-command states follow it. */
export class ManualClock implements FleetClock {
  constructor(private current = new Date("2025-06-01T02:00:00Z")) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** A minimal device for driving the ARM side: answers every script with `answer`, records what it was asked. */
export class TestDevice implements SimulatedDevice {
  readonly executed: ScriptRequest[] = [];
  readonly canceled: { runCommandName: string; at: Date }[] = [];
  readonly armProperties: SimulatedDevice["armProperties"];

  constructor(
    readonly name: string,
    readonly kind: "arc" | "vmss" | "vm" | "vmssFlex",
    readonly os: "windows" | "linux",
    readonly placement: SimulatedDevice["placement"],
    readonly tags: Readonly<Record<string, string>>,
    private readonly answer: (request: ScriptRequest) => ScriptResult = () => ({
      kind: "completed",
      durationMs: 30_000,
      exitCode: 0,
      stdout: "ok",
      stderr: "",
    }),
    /** Disconnected from this instant on, for good. */
    private readonly disconnectedFrom?: Date,
  ) {
    this.armProperties = {
      osName: os === "windows" ? "Windows Server 2022 Datacenter" : "Ubuntu 22.04.4 LTS",
      osVersion: os === "windows" ? "10.0.20348" : "22.04",
      agentVersion: "1.45.02",
      computerName: name,
    };
  }

  agentStatus(at: Date): AgentStatus {
    return this.disconnectedFrom !== undefined && at >= this.disconnectedFrom ? "Disconnected" : "Connected";
  }
  nextConnectedAt(from: Date): Date | undefined {
    return this.agentStatus(from) === "Connected" ? from : undefined;
  }
  execute(request: ScriptRequest): ScriptResult {
    // A bundle runs its sections' scripts one after another, each answered as if sent alone (as a device runs it).
    const bundle = parseBundle(request.script);
    if (bundle !== undefined) return runBundle(request, bundle, (section) => this.execute(section));
    this.executed.push(request);
    return this.answer(request);
  }
  cancel(runCommandName: string, at: Date): void {
    this.canceled.push({ runCommandName, at });
  }
}

export const SUB_A = "00000000-0000-0000-0000-0000000000a1";
export const SUB_B = "00000000-0000-0000-0000-0000000000b2";

/** An Arc machine in SUB_A / rg-contoso. */
export function arcDevice(
  name: string,
  tags: Record<string, string>,
  options: {
    os?: "windows" | "linux";
    answer?: (r: ScriptRequest) => ScriptResult;
    disconnectedFrom?: Date;
    subscriptionId?: string;
    resourceGroup?: string;
  } = {},
): TestDevice {
  return new TestDevice(
    name,
    "arc",
    options.os ?? "windows",
    {
      subscriptionId: options.subscriptionId ?? SUB_A,
      resourceGroup: options.resourceGroup ?? "rg-contoso",
      location: "westeurope",
      arc: { machineName: name },
    },
    tags,
    options.answer,
    options.disconnectedFrom,
  );
}

/** A VMSS instance. */
export function vmssDevice(
  name: string,
  scaleSetName: string,
  instanceId: string,
  options: { os?: "windows" | "linux"; answer?: (r: ScriptRequest) => ScriptResult } = {},
): TestDevice {
  return new TestDevice(
    name,
    "vmss",
    options.os ?? "linux",
    {
      subscriptionId: SUB_A,
      resourceGroup: "rg-fabrikam",
      location: "northeurope",
      vmss: { scaleSetName, instanceId },
    },
    {},
    options.answer,
  );
}

/** An Azure VM in SUB_A / rg-azure: standalone, or a Flexible scale set's instance when `scaleSetName` is given. */
export function vmDevice(
  name: string,
  tags: Record<string, string>,
  options: { os?: "windows" | "linux"; scaleSetName?: string; answer?: (r: ScriptRequest) => ScriptResult } = {},
): TestDevice {
  return new TestDevice(
    name,
    options.scaleSetName === undefined ? "vm" : "vmssFlex",
    options.os ?? "windows",
    {
      subscriptionId: SUB_A,
      resourceGroup: "rg-azure",
      location: "swedencentral",
      vm: { vmName: name, ...(options.scaleSetName === undefined ? {} : { scaleSetName: options.scaleSetName }) },
    },
    tags,
    options.answer,
  );
}

export const NO_THROTTLING: ArmBehaviour["throttling"] = {
  writes: { capacity: 100_000, refillPerSecond: 100_000 },
  reads: { capacity: 100_000, refillPerSecond: 100_000 },
};

/** A fleet of the given devices with quiet ARM knobs (no latency, no errors, no throttling). */
export function fleetOf(
  devices: TestDevice[],
  scaleSets: Fleet["scaleSets"] = [],
  arm: Partial<ArmBehaviour> = {},
): Fleet {
  return {
    devices,
    scaleSets,
    preexistingRunCommands: [],
    arm: { throttling: NO_THROTTLING, latencyMs: 0, transientErrorRate: 0, pageSize: 100, ...arm },
  };
}

/** The emulator plus the real SDK clients pointed at it (trusting its CA through the pipeline only). */
export interface EmulatorUnderTest {
  emulator: FleetEmulator;
  arm: ArmClients;
}

export async function startEmulator(options: FleetEmulatorOptions, maxRetries = 3): Promise<EmulatorUnderTest> {
  const emulator = await startFleetEmulator(options);
  const arm = createArmClients({
    endpoint: emulator.endpoint,
    credential: emulator.credential,
    ca: emulator.ca,
    maxRetries,
  });
  return { emulator, arm };
}
