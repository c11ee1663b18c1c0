import { z } from "zod";

/** An Azure Load Balancer backend pool, by its full ARM resource id. */
export const BackendPoolIdSchema = z
  .string()
  .regex(
    /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/loadBalancers\/[^/]+\/backendAddressPools\/[^/]+$/i,
    "must be a backend pool's resource id (/subscriptions/…/providers/Microsoft.Network/loadBalancers/{lb}/backendAddressPools/{pool})",
  );

/**
 * Drain the device from Azure Load Balancer backend pools before the install (issue 20), an ARM-side action of the
 * app (not a device command): at `preInstall` the device's NIC ip-configurations leave the pools (all they belong to,
 * or only `pools`), the run waits `drainSeconds` (connection drain, in durable time) and installs; at `always` the
 * exact membership recorded before the drain is put back and verified. Azure VMs and Flexible scale-set VMs only (their
 * NICs are their own resources); Uniform scale-set instances and Arc machines are recorded as not possible (use a
 * `script` hook with the MSP's tooling). Valid at `preInstall` only: its restore belongs to `always` by itself.
 */
export const LoadBalancerDrainHookSchema = z
  .object({
    type: z.literal("loadBalancerDrain"),
    drainSeconds: z.number().int().min(0).max(3600).default(30),
    pools: z.array(BackendPoolIdSchema).min(1).max(20).optional(),
  })
  .strict();
export type LoadBalancerDrainHook = z.infer<typeof LoadBalancerDrainHookSchema>;
