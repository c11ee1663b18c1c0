// The seam between the two halves of the fleet emulator:
//   - the ARM side (server, routes, run-command state machine, throttling, output blobs) calls these interfaces;
//   - the device side (scenario file, simulated device state, script answers) implements them.
// Neither side reads the other's internals.
import type { RunCommandParameter } from "../../lib/device/parameters";
import type { DeviceKind, OsFamily } from "../../lib/schemas/common";
import type { FleetNetwork } from "./arm/network";

/** The emulator's time source: the wall clock for `npm run fleet`, a virtual clock shared with the Durable host in tests. */
export interface FleetClock {
  now(): Date;
}

/** Azure Connected Machine agent status as ARM reports it (`properties.status`). */
export type AgentStatus = "Connected" | "Disconnected" | "Error" | "Expired";

/** Where a simulated device lives in ARM. */
export interface DevicePlacement {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  /** Arc: the machine name. VMSS (Uniform): the scale set name + instance id. VM: its name (+ Flexible scale set). */
  arc?: { machineName: string };
  vmss?: { scaleSetName: string; instanceId: string };
  vm?: { vmName: string; scaleSetName?: string };
}

/** A run command being started on a device. */
export interface ScriptRequest {
  runCommandName: string;
  /** `properties.source.script` exactly as PUT. */
  script: string;
  parameters: readonly RunCommandParameter[];
  /** When the command begins running on the device (after any wait for the agent to connect). */
  startedAt: Date;
  timeoutInSeconds: number;
}

/**
 * What the device did with a script. `durationMs` is simulated time: the ARM side reports Running until
 * `startedAt + durationMs`, then the terminal state (or TimedOut when that exceeds the timeout).
 */
export type ScriptResult =
  | {
      kind: "completed";
      durationMs: number;
      /** Process exit code of the script. */
      exitCode: number;
      stdout: string;
      stderr: string;
    }
  /** Never finishes on its own (a hung installer): ends as TimedOut, or Canceled by DELETE. */
  | { kind: "hang"; stdout: string; stderr: string }
  /** The agent could not run the script at all (unknown script header, extension failure): executionState Failed. */
  | { kind: "failed"; durationMs: number; message: string };

/** One simulated server, as the ARM side sees it. */
export interface SimulatedDevice {
  /** Host name; also the Arc machine name / VMSS instance computer name. */
  readonly name: string;
  readonly kind: DeviceKind;
  readonly os: OsFamily;
  readonly placement: DevicePlacement;
  /** Arc: the machine's tags. VMSS: the scale set's tags (PatchPilot targets VMSS instances by their scale set's tags). */
  readonly tags: Readonly<Record<string, string>>;
  /** Facts ARM reports about the machine (osName, osVersion, agentVersion, computerName...). */
  readonly armProperties: { osName: string; osVersion: string; agentVersion: string; computerName: string };
  /** Agent status at a given time (disconnect windows, reboots, reconnect delays all show here). */
  agentStatus(at: Date): AgentStatus;
  /**
   * The first instant at or after `from` when the agent is connected and can pick up a command, or undefined when it
   * stays disconnected for good. A command submitted while disconnected waits (Pending) until then, or times out.
   */
  nextConnectedAt(from: Date): Date | undefined;
  /** Runs a script: called once per run command when it starts; may change the device's state (installs, reboots). */
  execute(request: ScriptRequest): ScriptResult;
  /** A DELETE cancelled the command at `at` (a hung install stops; effects already applied stay). */
  cancel(runCommandName: string, at: Date): void;
  /**
   * Issue 20 (local/fleet/arm/disks.ts): the OS disk was swapped at `at` for one restored from a snapshot taken at
   * `capturedAt`: what was installed between the two is gone. Absent on devices that cannot model it.
   */
  restoreInstalledState?(capturedAt: Date, at: Date, owner: string): void;
  /** The VM was started at `at` after a deallocation: it boots (the agent is away until it is back). */
  powerCycle?(at: Date, owner: string): void;
}

/** A run command that already exists on a device when the emulator starts (a lock-contention scenario). */
export interface PreexistingRunCommand {
  device: string;
  runCommandName: string;
  script: string;
  startedAt: Date;
  /** How long it keeps running from `startedAt`. */
  durationMs: number;
}

/** Knobs of the ARM side that a scenario can set. */
export interface ArmBehaviour {
  /**
   * Token buckets per subscription, as ARM documents them (reads 250 refill 25/s, writes 200 refill 10/s, deletes 200
   * refill 10/s: local/fleet/tokenBucket.ts cites the page). Without `deletes`, DELETEs take from the writes bucket.
   */
  throttling: {
    writes: { capacity: number; refillPerSecond: number };
    reads: { capacity: number; refillPerSecond: number };
    deletes?: { capacity: number; refillPerSecond: number };
  };
  /**
   * The time the buckets refill on: "real" (default; the SDK's in-process Retry-After sleeps refill them) or "fleet"
   * (the emulator's clock, virtual in tests and benchmarks: a bucket refills only as simulated time passes, so a
   * window's simulated length shows ARM's ceiling).
   */
  throttlingClock?: "real" | "fleet";
  /** Added to every response, in real milliseconds (0 for benchmarks). */
  latencyMs: number;
  /** Probability (0-1) that a request gets a transient 500 instead of being handled. */
  transientErrorRate: number;
  /** Machines per page in list responses (small values exercise nextLink paging). */
  pageSize: number;
}

/** What the ARM side serves: the devices and the behaviour knobs, built from a scenario file by the device side. */
export interface Fleet {
  devices: readonly SimulatedDevice[];
  /** VMSS scale sets: name, placement, tags and the instance devices (by name) in it. */
  scaleSets: readonly {
    name: string;
    subscriptionId: string;
    resourceGroup: string;
    location: string;
    tags: Readonly<Record<string, string>>;
    os: OsFamily;
    /** Default Uniform. */
    orchestrationMode?: "Uniform" | "Flexible";
    instances: readonly string[];
  }[];
  preexistingRunCommands: readonly PreexistingRunCommand[];
  arm: ArmBehaviour;
  /** Microsoft.Network: VM NICs and load balancers (issue 20, drain); absent: the emulator has no network routes. */
  network?: FleetNetwork;
}
