import { z } from "zod";
import { ClientIdSchema, DeviceIdSchema, KbSchema, SchemaVersion1, TenantIdSchema } from "./common";
import {
  AppSpecSchema,
  AppValidationPolicySchema,
  DiagnosticsPolicySchema,
  DiagnosticsRulesSchema,
  RegressionSourcesSchema,
  UpdatePolicySchema,
} from "./policies";
import { GatesPolicySchema } from "./gatesPolicy";
import { HooksPolicySchema } from "./hooksPolicy";
import { RemediationPolicyLayerSchema, RemediationPolicySchema } from "./remediationPolicy";
import { SnapshotsPolicyLayerSchema, SnapshotsPolicySchema } from "./snapshotsPolicy";

/** Which layer of the overlay a policy document is. */
export const PolicyScopeSchema = z.discriminatedUnion("level", [
  z.object({ level: z.literal("global") }),
  z.object({ level: z.literal("tenant"), tenant: TenantIdSchema }),
  z.object({ level: z.literal("client"), tenant: TenantIdSchema, client: ClientIdSchema }),
  z.object({ level: z.literal("device"), tenant: TenantIdSchema, client: ClientIdSchema, device: DeviceIdSchema }),
]);
export type PolicyScope = z.infer<typeof PolicyScopeSchema>;

/**
 * Explicit removal of items a less specific layer added to a union list (docs/policy-overlay.md, "Removal"). Applied
 * at this layer's place in the overlay; a more specific layer may add the item again. Exclusions (`excludeKbs`,
 * `excludePackages`) cannot be removed: a tenant's block of a known-bad update must survive every client.
 */
export const PolicyRemovalSchema = z
  .object({
    /** Whole apps (by name) an earlier layer defined. */
    apps: z.array(z.string().min(1).max(100)).optional(),
    /** Single checks (by name) of an app an earlier layer defined; the rest of the app stays. */
    checks: z
      .array(z.object({ app: z.string().min(1).max(100), check: z.string().min(1).max(100) }).strict())
      .optional(),
    /** Force-included KBs an earlier layer listed. */
    includeKbs: z.array(KbSchema).optional(),
  })
  .strict();
export type PolicyRemoval = z.infer<typeof PolicyRemovalSchema>;

/**
 * One layer of policy (Global → Tenant → Client → Device). Every field is optional: a layer states only what it
 * changes. Unknown fields are refused so a typo is not silently ignored.
 */
export const PolicyLayerSchema = z
  .object({
    schemaVersion: SchemaVersion1,
    scope: PolicyScopeSchema,
    update: UpdatePolicySchema.omit({ schemaVersion: true }).partial().strict().optional(),
    appValidation: z
      .object({ apps: z.array(AppSpecSchema).optional(), regressionSources: RegressionSourcesSchema.optional() })
      .strict()
      .optional(),
    diagnostics: DiagnosticsPolicySchema.omit({ schemaVersion: true, rules: true })
      .partial()
      .extend({ rules: DiagnosticsRulesSchema.optional() })
      .strict()
      .optional(),
    /** What a run does after a regression (lib/schemas/remediationPolicy.ts); unset everywhere: `none`. */
    remediation: RemediationPolicyLayerSchema.optional(),
    remove: PolicyRemovalSchema.optional(),
    /** Pre-patch gates (lib/schemas/gatesPolicy.ts; merge rules in lib/domain/gates/mergeGates.ts). */
    gates: GatesPolicySchema.optional(),
    /** Hooks that act (lib/schemas/hooksPolicy.ts; merge rules in lib/domain/hooks/mergeHooks.ts). */
    hooks: HooksPolicySchema.optional(),
    /** Managed-disk snapshots before install (lib/schemas/snapshotsPolicy.ts; lib/domain/snapshots/mergeSnapshots.ts). */
    snapshots: SnapshotsPolicyLayerSchema.optional(),
  })
  .strict();
export type PolicyLayer = z.infer<typeof PolicyLayerSchema>;

/** The policy a device run uses, after the overlay. */
export const EffectivePolicySchema = z.object({
  schemaVersion: SchemaVersion1,
  update: UpdatePolicySchema,
  appValidation: AppValidationPolicySchema,
  diagnostics: DiagnosticsPolicySchema,
  /** Absent when no layer sets gates: the run has none (and runs no gates step). */
  gates: GatesPolicySchema.optional(),
  /** Absent when no layer sets hooks. */
  hooks: HooksPolicySchema.optional(),
  /** Present when a layer sets it; absent means `none` (run records from before remediation existed stay valid). */
  remediation: RemediationPolicySchema.optional(),
  /** Present when a layer sets it; absent means no snapshots (run records from before snapshots existed stay valid). */
  snapshots: SnapshotsPolicySchema.optional(),
});
export type EffectivePolicy = z.infer<typeof EffectivePolicySchema>;

/**
 * For each effective value, the layer it came from, keyed by field path. List items are keyed by item
 * (`update.excludeKbs[KB5012345]`, `appValidation.apps[WebApp]`); a layer name is `global`, `tenant:t`,
 * `client:t/c` or `device:t/c/d`. An item an explicit removal took out is keyed `removed.` + its path
 * (`removed.appValidation.apps[WebApp]`, `removed.appValidation.apps[WebApp].checks[db-port]`) and names the
 * layer that removed it.
 */
export const PolicyProvenanceSchema = z.record(z.string(), z.string());
export type PolicyProvenance = z.infer<typeof PolicyProvenanceSchema>;
