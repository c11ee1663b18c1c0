import { z } from "zod";
import { RunCommandParameterSchema } from "../../device/parameters";
import { ArmTagsSchema } from "./hybridMachine";

/** Run Command execution states, shared by Arc (HybridCompute) and Compute (VM / VMSS VM) run commands. */
export const ExecutionStateSchema = z.enum([
  "Unknown",
  "Pending",
  "Running",
  "Failed",
  "Succeeded",
  "TimedOut",
  "Canceled",
]);
export type ExecutionState = z.infer<typeof ExecutionStateSchema>;

/** The states after which nothing changes any more. */
export const TERMINAL_EXECUTION_STATES: ReadonlySet<ExecutionState> = new Set([
  "Failed",
  "Succeeded",
  "TimedOut",
  "Canceled",
]);

/** `properties.instanceView` of a run command: present only when asked for (`$expand=instanceView`). */
export const RunCommandInstanceViewSchema = z.object({
  executionState: ExecutionStateSchema,
  executionMessage: z.string().nullish(),
  exitCode: z.number().int().nullish(),
  /** The last 4 KB of stdout only; the full stream is in the output blob. */
  output: z.string().nullish(),
  error: z.string().nullish(),
  startTime: z.string().nullish(),
  endTime: z.string().nullish(),
  statuses: z.array(z.object({ code: z.string().nullish(), message: z.string().nullish() })).nullish(),
});
export type RunCommandInstanceView = z.infer<typeof RunCommandInstanceViewSchema>;

/**
 * A run command resource: `Microsoft.HybridCompute/machines/runCommands` (2025-01-13) and
 * `Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands` have the same wire shape.
 */
export const RunCommandResourceSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  type: z.string().nullish(),
  location: z.string().min(1),
  tags: ArmTagsSchema,
  properties: z.object({
    source: z
      .object({ script: z.string().nullish(), scriptUri: z.string().nullish(), commandId: z.string().nullish() })
      .nullish(),
    parameters: z.array(RunCommandParameterSchema).nullish(),
    protectedParameters: z.array(RunCommandParameterSchema).nullish(),
    asyncExecution: z.boolean().nullish(),
    runAsUser: z.string().nullish(),
    timeoutInSeconds: z.number().int().nullish(),
    outputBlobUri: z.string().nullish(),
    errorBlobUri: z.string().nullish(),
    provisioningState: z.string().nullish(),
    instanceView: RunCommandInstanceViewSchema.nullish(),
  }),
});
export type RunCommandResource = z.infer<typeof RunCommandResourceSchema>;

/** A page of run commands on one machine / instance. */
export const RunCommandListSchema = z.object({
  value: z.array(RunCommandResourceSchema),
  nextLink: z.string().nullish(),
});
export type RunCommandList = z.infer<typeof RunCommandListSchema>;
