import { z } from "zod";
import { RunRefSchema, SchemaVersion1, Sha256HexSchema, TimestampSchema } from "../common";

/** One line of `10-index/events.jsonl`: an event bound to the one before it by `prevHash`. */
export const RunEventSchema = z.object({
  schemaVersion: SchemaVersion1,
  seq: z.number().int().min(0),
  runId: z.string(),
  at: TimestampSchema,
  type: z.string().min(1),
  phase: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
  /** Hash of the previous event; 64 zeros for the first. */
  prevHash: Sha256HexSchema,
  /** SHA-256 of the canonical JSON (RFC 8785) of this event without `hash`. */
  hash: Sha256HexSchema,
});
export type RunEvent = z.infer<typeof RunEventSchema>;

/** One indexed artifact. */
export const IndexEntrySchema = z.object({
  path: z.string().min(1),
  sha256: Sha256HexSchema,
  size: z.number().int().min(0),
});
export type IndexEntry = z.infer<typeof IndexEntrySchema>;

/** `10-index/artifact-index.json`: every sealed artifact, sorted by path (the Merkle leaves, in order). */
export const ArtifactIndexSchema = z.object({
  schemaVersion: SchemaVersion1,
  runId: z.string(),
  entries: z.array(IndexEntrySchema),
});
export type ArtifactIndex = z.infer<typeof ArtifactIndexSchema>;

/** `10-index/manifest.json`: the seal. Merkle root over the artifact index, head of the event chain. */
export const ManifestSchema = z
  .object({
    schemaVersion: SchemaVersion1,
    run: RunRefSchema,
    sealedAt: TimestampSchema,
    /** RFC 6962 tree; leaf = canonical JSON {"path","sha256"} of each entry of artifact-index.json, in order. */
    merkle: z.object({
      algorithm: z.literal("rfc6962-sha256"),
      leafCount: z.number().int().min(0),
      root: Sha256HexSchema,
    }),
    artifactIndexSha256: Sha256HexSchema,
    events: z.object({ count: z.number().int().min(0), chainHead: Sha256HexSchema }),
    // The seed engine's names, so RMM scripts and auditors following its documentation get answers
    // (`$manifest.merkleRoot`, `$manifest.eventsChainHead`, `.timestamp`). Sealed with the manifest and, when present,
    // required to equal the canonical fields: an alias edited alone makes the manifest invalid. Absent in older runs.
    merkleRoot: Sha256HexSchema.optional(),
    eventsChainHead: Sha256HexSchema.optional(),
    timestamp: TimestampSchema.optional(),
    /** SHA-256 of `10-index/artifact-index.list.json`: the index's entries as a bare list (the seed's shape). */
    artifactIndexListSha256: Sha256HexSchema.optional(),
  })
  .superRefine((m, ctx) => {
    const aliases: [string, unknown, unknown][] = [
      ["merkleRoot", m.merkleRoot, m.merkle.root],
      ["eventsChainHead", m.eventsChainHead, m.events.chainHead],
      ["timestamp", m.timestamp, m.sealedAt],
    ];
    for (const [name, alias, canonical] of aliases)
      if (alias !== undefined && alias !== canonical)
        ctx.addIssue({ code: "custom", path: [name], message: `${name} must equal the canonical field it aliases` });
  });
export type Manifest = z.infer<typeof ManifestSchema>;
