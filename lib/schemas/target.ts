import { z } from "zod";
import { OsFamilySchema } from "./common";

/** Agent status as PatchPilot sees it: Arc's `properties.status`, or a Compute VM agent's readiness. */
export const AgentStatusSchema = z.enum(["Connected", "Disconnected", "Error", "Expired", "Unknown"]);
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

const common = {
  /** Full ARM resource id of the machine / VMSS instance. */
  resourceId: z.string().min(1),
  /** Host name (Arc machine name, VMSS instance computer name). */
  name: z.string().min(1),
  os: OsFamilySchema,
  /** Arc, VM, Flexible instance: the machine's tags. Uniform VMSS instance: the scale set's tags. */
  tags: z.record(z.string(), z.string()),
  status: AgentStatusSchema,
  subscriptionId: z.string().min(1),
  resourceGroup: z.string().min(1),
  /** Azure region; run commands must be created in it. */
  location: z.string().min(1),
};

/** One device PatchPilot can reach through Run Command (JSON-serialisable: it travels through activities). */
export const DeviceRefSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("arc"), machineName: z.string().min(1), ...common }),
  z.object({ kind: z.literal("vmss"), scaleSetName: z.string().min(1), instanceId: z.string().min(1), ...common }),
  z.object({ kind: z.literal("vm"), vmName: z.string().min(1), ...common }),
  z.object({ kind: z.literal("vmssFlex"), vmName: z.string().min(1), scaleSetName: z.string().min(1), ...common }),
]);
export type DeviceRef = z.infer<typeof DeviceRefSchema>;

/** A submitted run command, as PatchPilot refers to it across activities (see lib/azure/runCommands.ts). */
export const RunCommandHandleSchema = z.object({
  device: DeviceRefSchema,
  runCommandName: z.string().min(1).max(36),
  outputBlobName: z.string().min(1),
  errorBlobName: z.string().min(1),
});
export type RunCommandHandle = z.infer<typeof RunCommandHandleSchema>;
