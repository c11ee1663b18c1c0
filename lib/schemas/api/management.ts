import { z } from "zod";
import { ClientIdSchema, DeviceIdSchema, Sha256HexSchema, TenantIdSchema, TimestampSchema } from "../common";
import { RingSchema } from "../policies";
import { EffectivePolicySchema, PolicyProvenanceSchema, PolicyScopeSchema } from "../policyLayer";

// Contract of the management API (policy layers, windows, rings): bodies are the stored documents' own schemas
// (PolicyLayerSchema, MaintenanceWindowSchema); these are the envelopes around them.

/** Path of a client's routes. */
export const ClientParamsSchema = z.object({ tenant: TenantIdSchema, client: ClientIdSchema });
/** Path of a device's routes. */
export const DeviceParamsSchema = z.object({ tenant: TenantIdSchema, client: ClientIdSchema, device: DeviceIdSchema });
/** Path of a window's routes. */
export const WindowParamsSchema = z.object({
  tenant: TenantIdSchema,
  windowId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a lowercase slug"),
});

/** `…/versions/{version}`: a version number. */
export const VersionParamSchema = z.object({
  version: z
    .string()
    .regex(/^[1-9][0-9]{0,8}$/, "must be a version number (1, 2, …)")
    .transform(Number),
});

/** Who saved a version. */
export const VersionAuthorResponseSchema = z.object({
  kind: z.enum(["apiKey", "principal", "import"]),
  id: z.string(),
  name: z.string(),
});

/** A stored document as read: its version (0 = uploaded before versioning), hash and the document; ETag in the header. */
export const StoredDocumentResponseSchema = z.object({
  name: z.string().describe("Where the runtime reads it (blob name in the policy container)"),
  version: z.number().int().min(0),
  sha256: Sha256HexSchema,
  etag: z.string().describe("Same as the ETag header: send it back as If-Match to update"),
  document: z.unknown(),
});
export type StoredDocumentResponse = z.infer<typeof StoredDocumentResponseSchema>;

/** What a save answers (201 created, 200 updated). */
export const SaveResponseSchema = z.object({
  name: z.string(),
  version: z.number().int().min(1),
  sha256: Sha256HexSchema,
  previousSha256: Sha256HexSchema.optional(),
  etag: z.string(),
});
export type SaveResponse = z.infer<typeof SaveResponseSchema>;

/** One version in a history listing (newest first); the document itself via `…/versions/{version}`. */
export const VersionSummarySchema = z.object({
  version: z.number().int().min(1),
  savedAt: TimestampSchema,
  author: VersionAuthorResponseSchema,
  sha256: Sha256HexSchema,
  previousSha256: Sha256HexSchema.optional(),
});
export const VersionListResponseSchema = z.object({ name: z.string(), versions: z.array(VersionSummarySchema) });

/** One version with its document exactly as saved. */
export const VersionResponseSchema = VersionSummarySchema.extend({ name: z.string(), document: z.unknown() });

/** The stored layers of one tenant. */
export const LayerListResponseSchema = z.object({
  layers: z.array(
    z.object({ scope: PolicyScopeSchema, name: z.string(), version: z.number().int().min(0), sha256: Sha256HexSchema }),
  ),
});

/** Dry run: the policy the device's next run would use, where each value came from, and the layers read. */
export const EffectivePolicyPreviewSchema = z.object({
  tenant: TenantIdSchema,
  client: ClientIdSchema,
  device: DeviceIdSchema,
  policy: EffectivePolicySchema,
  provenance: PolicyProvenanceSchema,
  layers: z.array(
    z.object({
      name: z.string(),
      /** `default` for the built-in global layer when none is stored. */
      source: z.enum(["stored", "default"]),
      version: z.number().int().min(0),
      sha256: Sha256HexSchema,
    }),
  ),
});
export type EffectivePolicyPreview = z.infer<typeof EffectivePolicyPreviewSchema>;

/** The stored windows of one tenant. */
export const WindowListResponseSchema = z.object({
  windows: z.array(z.object({ id: z.string(), version: z.number().int().min(0), sha256: Sha256HexSchema })),
});

/** `PUT …/windows/{windowId}/rings`: the window's ring order, replaced whole. */
export const RingsBodySchema = z.object({ rings: z.array(RingSchema).min(1) }).strict();
export const RingsResponseSchema = z.object({
  windowId: z.string(),
  version: z.number().int().min(0),
  etag: z.string(),
  rings: z.array(RingSchema),
});
