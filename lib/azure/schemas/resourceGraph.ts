import { z } from "zod";
import { ArmTagsSchema } from "./hybridMachine";

/** Body of a Resource Graph `POST /providers/Microsoft.ResourceGraph/resources` answer (2024-04-01, objectArray). */
export const QueryResponseSchema = z.object({
  totalRecords: z.number().int(),
  count: z.number().int(),
  resultTruncated: z.enum(["true", "false"]),
  $skipToken: z.string().nullish(),
  data: z.array(z.unknown()),
});
export type QueryResponse = z.infer<typeof QueryResponseSchema>;

/** One row of PatchPilot's inventory query (see lib/azure/inventoryQuery.ts for the columns' sources). */
export const InventoryRowSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  type: z.string().min(1),
  location: z.string().min(1),
  subscriptionId: z.string().min(1),
  resourceGroup: z.string().min(1),
  /** The machine's tags; a Uniform VMSS instance's are its scale set's. */
  tags: ArmTagsSchema,
  osType: z.string().nullish(),
  computerName: z.string().nullish(),
  /** Arc only: `properties.status` (Connected | Disconnected | Error | Expired). */
  agentStatus: z.string().nullish(),
  /** Compute only: `PowerState/running`, `PowerState/deallocated`, ... */
  powerState: z.string().nullish(),
  /** Flexible instances: the scale set's id; Uniform instances: their scale set's id (lower case); else empty. */
  scaleSetId: z.string().nullish(),
});
export type InventoryRow = z.infer<typeof InventoryRowSchema>;
