import type { ContainerClient } from "@azure/storage-blob";
import type { ArmClients } from "../azure/armClients";
import type { RunCommands } from "../azure/runCommands";
import type { StageTable } from "../domain/run/steps";
import type { EvidenceDeps } from "../evidence/runEvidence";
import type { DeviceLocks } from "../locks/deviceLock";
import type { PolicyStore } from "../policy/policyStore";
import type { QuarantineStore } from "../quarantine/quarantineStore";
import type { StepTable } from "./steps";

/** What the device-run engine needs, injected so tests pass the real clients pointed at Azurite and the emulator. */
export interface DeviceRunDeps {
  evidence: EvidenceDeps;
  runCommands: RunCommands;
  arm: ArmClients;
  policies: PolicyStore;
  locks: DeviceLocks;
  /** Quarantined updates: read at run start and applied to the effective policy (remediation writes client entries). */
  quarantine: QuarantineStore;
  /** The Run Command staging container: a command PatchPilot cancelled is read from its blobs directly. */
  staging: ContainerClient;
  /** The step table (lib/deviceRun/steps.ts) unless a test extends it with a test-only step. */
  steps?: StepTable;
  /** The stage table (lib/domain/run/steps.ts) unless a test extends it. */
  stages?: StageTable;
  /**
   * False: a stage's steps go as one run command each, one after another, instead of one bundle (lib/device/bundle.ts).
   * Default true; tests turn it off to run a step several times in one stage.
   */
  bundleSteps?: boolean;
  /**
   * False: the reboot is never folded into the install's run command (issue 22, lib/deviceRun/rebootWithInstall.ts);
   * it goes as its own command after the install's decision, as before. Default true.
   */
  foldReboot?: boolean;
}
