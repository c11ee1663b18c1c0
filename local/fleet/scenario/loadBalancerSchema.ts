import { z } from "zod";

const NameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/);

/**
 * A load balancer in a scenario (issue 20, drain/restore): its backend pools and the devices (by name, kind `vm` or
 * `vmssFlex`, whose NICs are their own resources) whose NIC's ip-configuration is a member of each.
 */
export const LoadBalancerSpecSchema = z
  .object({
    name: NameSchema,
    /** Defaults: the scenario's first subscription and its first resource group. */
    subscription: z.string().optional(),
    resourceGroup: z.string().optional(),
    pools: z.array(z.object({ name: NameSchema, members: z.array(z.string().min(1)).default([]) }).strict()).min(1),
  })
  .strict();
export type LoadBalancerSpecInput = z.infer<typeof LoadBalancerSpecSchema>;
