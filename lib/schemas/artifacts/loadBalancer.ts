import { z } from "zod";
import { DeviceKindSchema, TimestampSchema } from "../common";

// Evidence of a load-balancer drain and restore (issue 20): the membership before (sealed before anything is
// removed), the drain and its verification (05-install), the restore and its verification (07-post-snapshot).

const IpConfigMembershipSchema = z
  .object({
    nicId: z.string().min(1),
    ipConfiguration: z.string().min(1),
    ipConfigurationId: z.string().min(1),
    pools: z.array(z.string().min(1)),
  })
  .strict();

const MembershipCheckSchema = z
  .object({
    poolId: z.string().min(1),
    ipConfigurationId: z.string().min(1),
    member: z.boolean(),
    ok: z.boolean(),
  })
  .strict();

/** `05-install/lb-pools-before.json`: every NIC ip-configuration of the device and its backend pools, as ARM said. */
export const LoadBalancerPoolsBeforeSchema = z
  .object({
    schemaVersion: z.literal(1),
    recordedAt: TimestampSchema,
    device: z.string().min(1),
    kind: DeviceKindSchema,
    memberships: z.array(IpConfigMembershipSchema),
  })
  .strict();
export type LoadBalancerPoolsBefore = z.infer<typeof LoadBalancerPoolsBeforeSchema>;

/**
 * `05-install/lb-drain.json` and `07-post-snapshot/lb-restore.json`. Outcomes: `drained` / `restored` (every change
 * verified through the pools' own member lists), `nothing-to-do` (the device was in none of the pools), `not-possible`
 * (a device kind ARM cannot drain: Arc, Uniform scale-set instances; the reason says what to use instead), `failed`
 * (ARM refused, or the verification did not hold; the reason names it).
 */
export const LoadBalancerActionSchema = z
  .object({
    schemaVersion: z.literal(1),
    action: z.enum(["drain", "restore"]),
    recordedAt: TimestampSchema,
    device: z.string().min(1),
    outcome: z.enum(["drained", "restored", "nothing-to-do", "not-possible", "failed"]),
    reason: z.string().max(2000).optional(),
    /** The connection-drain wait before the install (drain only). */
    drainSeconds: z.number().int().min(0).optional(),
    /** Drain: the pools each ip-configuration left; restore: the pools each got back (the same list). */
    changes: z.array(IpConfigMembershipSchema),
    verification: z.array(MembershipCheckSchema),
    /** The policy layer that set the hook (provenance `hooks.preInstall`). */
    setBy: z.string().optional(),
  })
  .strict();
export type LoadBalancerAction = z.infer<typeof LoadBalancerActionSchema>;
