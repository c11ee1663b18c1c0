import { z } from "zod";

// Wire shapes as ARM sends them (Microsoft.HybridCompute 2025-01-13 and the SDK's 2021-05-20 listing): real
// listings carry null for most optional fields, so everything PatchPilot does not require is nullish.

/** ARM resource tags; `null` on untagged resources. */
export const ArmTagsSchema = z.record(z.string(), z.string()).nullish();

/** One Azure Arc machine (`Microsoft.HybridCompute/machines`), as listed or fetched. */
export const HybridMachineSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  location: z.string().min(1),
  type: z.string().nullish(),
  kind: z.string().nullish(),
  tags: ArmTagsSchema,
  properties: z
    .object({
      provisioningState: z.string().nullish(),
      /** Connected | Disconnected | Error | Expired (null before the agent first reports). */
      status: z.string().nullish(),
      lastStatusChange: z.string().nullish(),
      agentVersion: z.string().nullish(),
      displayName: z.string().nullish(),
      machineFqdn: z.string().nullish(),
      osName: z.string().nullish(),
      osType: z.string().nullish(),
      osVersion: z.string().nullish(),
      osSku: z.string().nullish(),
      vmId: z.string().nullish(),
      osProfile: z.object({ computerName: z.string().nullish() }).nullish(),
    })
    .nullish(),
});
export type HybridMachine = z.infer<typeof HybridMachineSchema>;

/** A page of `machines` (list by subscription or resource group). */
export const HybridMachineListSchema = z.object({
  value: z.array(HybridMachineSchema),
  nextLink: z.string().nullish(),
});
export type HybridMachineList = z.infer<typeof HybridMachineListSchema>;
