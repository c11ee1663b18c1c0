import { z } from "zod";

/** Lowercase hex SHA-256 digest. */
export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256");
export type Sha256Hex = z.infer<typeof Sha256HexSchema>;

/** ISO 8601 timestamp with an explicit offset (UTC `Z` in everything PatchPilot writes). */
export const TimestampSchema = z.iso.datetime({ offset: true });

/** Tenant (MSP) and client (its customer) ids: slugs, safe in blob paths and table keys. */
export const TenantIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a lowercase slug");
export const ClientIdSchema = TenantIdSchema;

/** Device name as the MSP knows it (host name): safe in blob paths and table keys. */
export const DeviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be a host name (letters, digits, . _ -)");

/** Run id: unique per device run, safe in blob paths and table keys. */
export const RunIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{7,79}$/, "must be 8-80 letters, digits or hyphens");

/** A Windows knowledge-base article id, e.g. KB5012345. */
export const KbSchema = z.string().regex(/^KB\d{6,8}$/, "must look like KB5012345");

/** Identifies one device run and scopes every path and key to its tenant and client. */
export const RunRefSchema = z.object({
  tenant: TenantIdSchema,
  client: ClientIdSchema,
  device: DeviceIdSchema,
  runId: RunIdSchema,
});
export type RunRef = z.infer<typeof RunRefSchema>;

export const OsFamilySchema = z.enum(["windows", "linux"]);
export type OsFamily = z.infer<typeof OsFamilySchema>;

/**
 * How PatchPilot reaches a device, and so which run-command API it used: `arc` Microsoft.HybridCompute/machines/
 * runCommands; `vmss` (Uniform scale-set instance) Microsoft.Compute/virtualMachineScaleSets/virtualMachines/
 * runCommands; `vm` (standalone Azure VM) and `vmssFlex` (Flexible scale-set instance, itself a VM)
 * Microsoft.Compute/virtualMachines/runCommands.
 */
export const DeviceKindSchema = z.enum(["arc", "vmss", "vm", "vmssFlex"]);
export type DeviceKind = z.infer<typeof DeviceKindSchema>;

/** Artifact schema version: bumped on any incompatible change to an artifact's shape. */
export const SchemaVersion1 = z.literal(1);
