import type { ContainerClient } from "@azure/storage-blob";
import type { ArmClients } from "../../../lib/azure/armClients";
import type { RunCommands } from "../../../lib/azure/runCommands";
import type { EvidenceDeps } from "../../../lib/evidence/runEvidence";
import type { DeviceLocks } from "../../../lib/locks/deviceLock";
import type { PolicyStore } from "../../../lib/policy/policyStore";

/** What the device-run activities need, injected so tests pass the real clients pointed at Azurite and the emulator. */
export interface DeviceRunDeps {
  evidence: EvidenceDeps;
  runCommands: RunCommands;
  arm: ArmClients;
  policies: PolicyStore;
  locks: DeviceLocks;
  /** The Run Command staging container: a command PatchPilot cancelled is read from its blobs directly. */
  staging: ContainerClient;
}
