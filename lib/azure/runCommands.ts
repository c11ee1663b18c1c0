import type { RunCommandParameter } from "../device/parameters";
import type { ArmClients } from "./armClients";
import {
  isStatus,
  rethrowThrottled,
  RunCommandConflictError,
  RunCommandNotFinishedError,
  RunCommandNotFoundError,
} from "./armErrors";
import type { RunCommandHandle } from "../schemas/target";
import type { DeviceRef } from "./deviceRef";
import { outputBlobSasUrl, sasWindowFor } from "./outputBlobSas";
import { runCommandName } from "./runCommandName";
import type { RunCommandSpec } from "./runCommandSpec";
import { TERMINAL_EXECUTION_STATES, type ExecutionState, type RunCommandResource } from "./schemas/runCommand";
import type { StorageClients } from "./storageClients";
import { VmRunCommandClient } from "./vmRunCommandClient";
import { VmssRunCommandClient } from "./vmssRunCommandClient";

/** One execution to start on a device. */
export interface RunCommandRequest {
  script: string;
  parameters: readonly RunCommandParameter[];
  /**
   * Staging-blob prefix for this execution, unique per run / phase / attempt and stable across retries of the same
   * step (e.g. `tenant/client/device/runId/05-install/1`). Names the run command and its output / error blobs.
   */
  outputBlob: string;
  timeoutInSeconds: number;
  /**
   * A name stable per device and step (e.g. `patchpilot/baseline`): the run command is then a slot, created or
   * updated in place by each execution instead of a new resource deleted afterwards. Reads of a slot that holds
   * another execution (other output blob) answer as if the command did not exist, so stale output is never read as
   * fresh. Absent: `outputBlob` names the command, unique per execution.
   */
  slot?: string;
}

/** What submit returns and poll / collect / delete take: JSON-serialisable, so it can cross activity boundaries. */
export { RunCommandHandleSchema, type RunCommandHandle } from "../schemas/target";

/** The instance view, reduced to what a caller decides on. */
export interface RunCommandStatus {
  executionState: ExecutionState;
  terminal: boolean;
  exitCode: number | null;
  executionMessage: string;
  startTime: string | null;
  endTime: string | null;
}

/** A finished execution with its complete output, read from the append blobs. */
export interface RunCommandResult extends RunCommandStatus {
  stdout: string;
  stderr: string;
  /** What the instance view itself held (at most the last 4 KB of each stream). */
  outputTail: string;
  errorTail: string;
}

/** One interface over Arc, VMSS (Uniform) and VM (standalone, Flexible VMSS) run commands. Each method is one step; callers poll with their own timers. */
export interface RunCommands {
  /** Throws RunCommandConflictError when the agent answers 409 (another command in flight on the machine). */
  submit(device: DeviceRef, request: RunCommandRequest): Promise<RunCommandHandle>;
  poll(handle: RunCommandHandle): Promise<RunCommandStatus>;
  /** Reads the terminal instance view and the full output / error blobs; call delete afterwards. */
  collect(handle: RunCommandHandle): Promise<RunCommandResult>;
  /** Deletes the run command; a running one is terminated. Deleting a missing one is not an error. */
  delete(handle: RunCommandHandle): Promise<void>;
}

/** The clients {@link createRunCommands} works with. */
export interface RunCommandDeps {
  arm: ArmClients;
  storage: Pick<StorageClients, "blobService" | "staging">;
}

function statusOf(resource: RunCommandResource): RunCommandStatus {
  const view = resource.properties.instanceView;
  const executionState = view?.executionState ?? "Unknown";
  return {
    executionState,
    terminal: TERMINAL_EXECUTION_STATES.has(executionState),
    exitCode: view?.exitCode ?? null,
    executionMessage: view?.executionMessage ?? "",
    startTime: view?.startTime ?? null,
    endTime: view?.endTime ?? null,
  };
}

/** True unless the resource names an output blob other than `blobName` (ARM returns the URI without its SAS). */
function writesTo(resource: RunCommandResource, blobName: string): boolean {
  const uri = resource.properties.outputBlobUri;
  if (uri === undefined || uri === null || uri === "") return true;
  let path: string;
  try {
    path = decodeURIComponent(new URL(uri).pathname);
  } catch {
    return true; // not a URL we can read: nothing to compare against
  }
  return path.endsWith(`/${blobName}`);
}

/** The run-command API of one device kind (see DeviceKindSchema for which kind uses which). */
interface RunCommandApi {
  get(name: string): Promise<RunCommandResource>;
  create(name: string, spec: RunCommandSpec): Promise<unknown>;
  delete(name: string): Promise<unknown>;
}

/** Builds the run-command interface over the real ARM and storage clients. */
export function createRunCommands(deps: RunCommandDeps): RunCommands {
  function apiFor(device: DeviceRef): RunCommandApi {
    switch (device.kind) {
      case "arc": {
        const address = {
          subscriptionId: device.subscriptionId,
          resourceGroup: device.resourceGroup,
          machineName: device.machineName,
        };
        return {
          get: (name) => deps.arm.arcRunCommands.get(address, name),
          create: (name, spec) => deps.arm.arcRunCommands.createOrUpdate(address, name, spec),
          delete: (name) => deps.arm.arcRunCommands.delete(address, name),
        };
      }
      case "vmss": {
        const client = new VmssRunCommandClient(deps.arm.compute(device.subscriptionId));
        return {
          get: (name) => client.get(device, name, device.resourceId),
          create: (name, spec) => client.createOrUpdate(device, name, spec),
          delete: (name) => client.delete(device, name),
        };
      }
      case "vm":
      case "vmssFlex": {
        const client = new VmRunCommandClient(deps.arm.compute(device.subscriptionId));
        return {
          get: (name) => client.get(device, name, device.resourceId),
          create: (name, spec) => client.createOrUpdate(device, name, spec),
          delete: (name) => client.delete(device, name),
        };
      }
    }
  }

  async function get(handle: RunCommandHandle): Promise<RunCommandResource> {
    const { device } = handle;
    let resource: RunCommandResource;
    try {
      resource = await apiFor(device).get(handle.runCommandName);
    } catch (error) {
      return rethrowThrottled(error, `get run command ${handle.runCommandName}`);
    }
    // A slot name holds one execution at a time: another execution's resource is not this handle's command.
    if (!writesTo(resource, handle.outputBlobName))
      throw new RunCommandNotFoundError(device.resourceId, handle.runCommandName);
    return resource;
  }

  async function readBlob(name: string): Promise<string> {
    try {
      return (await deps.storage.staging.getBlobClient(name).downloadToBuffer()).toString("utf8");
    } catch (error) {
      // The agent creates the blob when it first writes; a command that never started leaves none.
      if (isStatus(error, 404)) return "";
      throw error;
    }
  }

  return {
    async submit(device, request) {
      const handle: RunCommandHandle = {
        device,
        runCommandName: runCommandName(device.resourceId, request.slot ?? request.outputBlob),
        outputBlobName: `${request.outputBlob}/stdout.txt`,
        errorBlobName: `${request.outputBlob}/stderr.txt`,
      };
      try {
        await get(handle);
        return handle; // A retried submit: the command already exists; re-creating it would not re-run it anyway.
      } catch (error) {
        if (!(error instanceof RunCommandNotFoundError)) throw error;
      }
      const window = sasWindowFor(request.timeoutInSeconds);
      const spec: RunCommandSpec = {
        location: device.location,
        script: request.script,
        parameters: request.parameters,
        timeoutInSeconds: request.timeoutInSeconds,
        outputBlobUri: await outputBlobSasUrl(
          deps.storage.blobService,
          deps.storage.staging,
          handle.outputBlobName,
          window,
        ),
        errorBlobUri: await outputBlobSasUrl(
          deps.storage.blobService,
          deps.storage.staging,
          handle.errorBlobName,
          window,
        ),
      };
      try {
        await apiFor(device).create(handle.runCommandName, spec);
      } catch (error) {
        if (isStatus(error, 409)) {
          const code = error.code ?? "Conflict";
          throw new RunCommandConflictError(handle.runCommandName, code, error.message, { cause: error });
        }
        rethrowThrottled(error, `create run command ${handle.runCommandName}`);
      }
      return handle;
    },

    async poll(handle) {
      return statusOf(await get(handle));
    },

    async collect(handle) {
      const resource = await get(handle);
      const status = statusOf(resource);
      if (!status.terminal) throw new RunCommandNotFinishedError(handle.runCommandName, status.executionState);
      const [stdout, stderr] = await Promise.all([readBlob(handle.outputBlobName), readBlob(handle.errorBlobName)]);
      const view = resource.properties.instanceView;
      return { ...status, stdout, stderr, outputTail: view?.output ?? "", errorTail: view?.error ?? "" };
    },

    async delete(handle) {
      try {
        await apiFor(handle.device).delete(handle.runCommandName);
      } catch (error) {
        if (isStatus(error, 404)) return;
        rethrowThrottled(error, `delete run command ${handle.runCommandName}`);
      }
    },
  };
}
