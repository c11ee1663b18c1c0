import { z } from "zod";
import { KbSchema } from "./common";

/**
 * What a run does after a confirmed regression (220), per layer through the overlay (docs/policy-overlay.md):
 * `none` leaves the update in place (the default: a regression is reported, nothing else changes); `uninstall`
 * removes the updates this run installed (Windows: wusa, or DISM for packages wusa cannot remove; Linux: the package
 * manager's downgrade to the version the baseline recorded) and runs the POST validation again; `restoreSnapshot`
 * swaps the OS disk back to the pre-install snapshot (Azure VMs).
 */
export const RemediationModeSchema = z.enum(["none", "uninstall", "restoreSnapshot"]);
export type RemediationMode = z.infer<typeof RemediationModeSchema>;

/** The effective remediation policy of a run. */
export const RemediationPolicySchema = z
  .object({
    mode: RemediationModeSchema,
    /** Updates never uninstalled by a remediation, whatever the mode (union over layers, like excludeKbs). */
    keepKbs: z.array(KbSchema).default([]),
  })
  .strict();
export type RemediationPolicy = z.infer<typeof RemediationPolicySchema>;

/** One layer's remediation settings: every field optional, a layer states only what it changes. */
export const RemediationPolicyLayerSchema = z
  .object({ mode: RemediationModeSchema.optional(), keepKbs: z.array(KbSchema).optional() })
  .strict();
export type RemediationPolicyLayer = z.infer<typeof RemediationPolicyLayerSchema>;

/** When no layer sets a remediation: nothing is undone. */
export const DEFAULT_REMEDIATION: RemediationPolicy = { mode: "none", keepKbs: [] };
