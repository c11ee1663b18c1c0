import { z } from "zod";
import { LoadBalancerSpecSchema } from "./loadBalancerSchema";
import { TenantIdSchema } from "../../../lib/schemas/common";
import { ClientProfileSchema, MaintenanceWindowSchema } from "../../../lib/schemas/policies";
import { PolicyLayerSchema } from "../../../lib/schemas/policyLayer";
import { checkScenarioReferences } from "./checkScenarioReferences";
import { DeviceSpecSchema, ResourceNameSchema, ScaleSetSpecSchema } from "./deviceSchema";
import { LinuxUpdateSpecSchema, WindowsUpdateSpecSchema } from "./updateSchema";

// The policy documents keep their own schemas; only `schemaVersion` gets a default so a scenario stays short. The
// lib schema still has the last word (its refinements run on the defaulted value).
const versioned = { schemaVersion: z.literal(1).default(1) };

function conformsTo(schema: z.ZodType) {
  return (value: unknown, ctx: z.RefinementCtx): void => {
    const result = schema.safeParse(value);
    if (!result.success)
      for (const issue of result.error.issues)
        ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
  };
}

const ScenarioClientSchema = z
  .object({ ...ClientProfileSchema.shape, ...versioned })
  .superRefine(conformsTo(ClientProfileSchema));
const ScenarioWindowSchema = z
  .object({ ...MaintenanceWindowSchema.shape, ...versioned })
  .superRefine(conformsTo(MaintenanceWindowSchema));
const ScenarioPolicySchema = z
  .object({ ...PolicyLayerSchema.shape, ...versioned })
  .strict()
  .superRefine(conformsTo(PolicyLayerSchema));

const SubscriptionIdSchema = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    "must be a subscription id (GUID)",
  );

export const SubscriptionSpecSchema = z
  .object({
    id: SubscriptionIdSchema,
    resourceGroups: z
      .array(
        z
          .object({
            name: ResourceNameSchema,
            location: z.string().regex(/^[a-z0-9]+$/, "must be an Azure location like westeurope"),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export const DEFAULT_SUBSCRIPTION = {
  id: "00000000-0000-4000-8000-000000000001",
  resourceGroups: [{ name: "rg-patchpilot", location: "westeurope" }],
};

export const TenantSpecSchema = z.object({ id: TenantIdSchema, displayName: z.string().min(1).max(200) }).strict();

/** Updates shared by many devices of one OS, referenced by name from `devices[].updateSets`. */
export const UpdateSetSchema = z.discriminatedUnion("os", [
  z.object({ os: z.literal("windows"), updates: z.array(WindowsUpdateSpecSchema) }).strict(),
  z.object({ os: z.literal("linux"), updates: z.array(LinuxUpdateSpecSchema) }).strict(),
]);
export type UpdateSet = z.infer<typeof UpdateSetSchema>;

const BucketSchema = (capacity: number, refillPerSecond: number) =>
  z
    .object({
      capacity: z.number().int().min(1).default(capacity),
      refillPerSecond: z.number().positive().default(refillPerSecond),
    })
    .strict()
    .prefault({});

/** ARM-side knobs (see local/fleet/contract.ts ArmBehaviour). */
export const ArmSpecSchema = z
  .object({
    /** Per subscription, as ARM documents them. */
    throttling: z
      .object({ writes: BucketSchema(200, 10), reads: BucketSchema(250, 25), deletes: BucketSchema(200, 10) })
      .strict()
      .prefault({}),
    latencyMs: z.number().int().min(0).max(60_000).default(0),
    transientErrorRate: z.number().min(0).max(1).default(0),
    pageSize: z.number().int().min(1).max(1000).default(50),
  })
  .strict();

const ScenarioObjectSchema = z
  .object({
    /** Editors validate the file against docs/scenarios/scenario.schema.json when it names it here. */
    $schema: z.string().optional(),
    schemaVersion: z.literal(1).default(1),
    name: z.string().max(200).optional(),
    description: z.string().max(4000).optional(),
    /** Seeds the generator and anything else that varies; same seed, same fleet. */
    seed: z.number().int().min(0).default(1),
    subscriptions: z.array(SubscriptionSpecSchema).min(1).default([DEFAULT_SUBSCRIPTION]),
    tenants: z.array(TenantSpecSchema).min(1),
    clients: z.array(ScenarioClientSchema),
    windows: z.array(ScenarioWindowSchema).default([]),
    /** Policy layers (global, tenant, client, device), overlaid by PatchPilot as in docs/policy-overlay.md. */
    policies: z.array(ScenarioPolicySchema).default([]),
    updateSets: z.record(z.string().min(1).max(100), UpdateSetSchema).default({}),
    scaleSets: z.array(ScaleSetSpecSchema).default([]),
    devices: z.array(DeviceSpecSchema),
    /** Load balancers whose backend pools hold devices' NICs (issue 20: drain/restore). */
    loadBalancers: z.array(LoadBalancerSpecSchema).default([]),
    arm: ArmSpecSchema.prefault({}),
  })
  .strict();

/** A fleet emulator scenario: the MSP's tenants, clients, policies and windows, and the simulated servers. */
export const ScenarioSchema = ScenarioObjectSchema.superRefine(checkScenarioReferences);
/** A parsed scenario (defaults applied). */
export type Scenario = z.infer<typeof ScenarioObjectSchema>;
/** A scenario as written in a file (defaulted fields optional). */
export type ScenarioInput = z.input<typeof ScenarioObjectSchema>;
