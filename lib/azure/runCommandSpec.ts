import type { VirtualMachineRunCommand } from "@azure/arm-compute";
import type { RunCommandParameter } from "../device/parameters";

/** What one run command execution asks the agent to do. */
export interface RunCommandSpec {
  /** Region of the machine; ARM requires it on the run-command resource. */
  location: string;
  script: string;
  parameters: readonly RunCommandParameter[];
  timeoutInSeconds: number;
  /** SAS URIs of the append blobs the agent writes stdout / stderr to. */
  outputBlobUri: string;
  errorBlobUri: string;
}

/** The PUT body of a run command, identical for Arc (2025-01-13) and Compute run commands. */
export function runCommandBody(spec: RunCommandSpec): object {
  return {
    location: spec.location,
    properties: {
      source: { script: spec.script },
      parameters: spec.parameters.map(({ name, value }) => ({ name, value })),
      // PatchPilot polls the instance view with durable timers; the PUT's own long-running operation is not awaited.
      asyncExecution: false,
      timeoutInSeconds: spec.timeoutInSeconds,
      outputBlobUri: spec.outputBlobUri,
      errorBlobUri: spec.errorBlobUri,
    },
  };
}

/** The same body as arm-compute's flattened model, for the Compute clients (VM and scale-set VM run commands). */
export function computeRunCommandModel(spec: RunCommandSpec): VirtualMachineRunCommand {
  return {
    location: spec.location,
    source: { script: spec.script },
    parameters: spec.parameters.map(({ name, value }) => ({ name, value })),
    asyncExecution: false,
    timeoutInSeconds: spec.timeoutInSeconds,
    outputBlobUri: spec.outputBlobUri,
    errorBlobUri: spec.errorBlobUri,
  };
}
