import { z } from "zod";
import { ExportIdSchema, ExportRequestSchema } from "../schemas/api/exports";
import { RunRowSchema } from "../schemas/tableRows";
import {
  ClientIdSchema,
  DeviceIdSchema,
  RunIdSchema,
  RunRefSchema,
  Sha256HexSchema,
  TenantIdSchema,
  TimestampSchema,
} from "../schemas/common";

/** Name and version of the package format written into export.json; bumped on any incompatible layout change. */
export const PACKAGE_FORMAT = "patchpilot-evidence-export";
export const PACKAGE_FORMAT_VERSION = 1;

/** The tool that wrote the package (kept equal to package.json's version; a unit test checks it). */
export const EXPORT_TOOL = { name: "patchpilot", version: "0.1.0" } as const;

/** Top-level files of a package, in the order they are written (SHA256SUMS is always last). */
export const PACKAGE_FILES = {
  readme: "README.md",
  manifest: "export.json",
  installs: "installs.jsonl",
  verification: "verification-report.json",
  matrixCsv: "compliance/matrix.csv",
  matrixHtml: "compliance/matrix.html",
  /** NIST OSCAL assessment results (JSON), one result per packaged run. */
  oscal: "oscal/assessment-results.json",
  /** The tenant log's verifier key (C2SP vkey) as the app publishes it. */
  logKey: "transparency/log-key.txt",
  /** The signed checkpoint the package was built against: every receipt of the log up to its size is in receipts.jsonl. */
  checkpoint: "transparency/checkpoint.txt",
  /** Every leaf of the tenant's log up to the checkpoint: one canonical receipt per line, in leaf order. */
  receipts: "transparency/receipts.jsonl",
  /** The latest checkpoint when the build finished and the RFC 6962 consistency proof to it from checkpoint.txt. */
  consistency: "transparency/consistency.json",
  sums: "SHA256SUMS",
} as const;

/** `transparency/consistency.json`. */
export const PackageConsistencySchema = z.object({
  schemaVersion: z.literal(1),
  algorithm: z.literal("rfc6962-sha256"),
  from: z.object({ size: z.number().int().min(0), root: z.string() }),
  /** The latest signed checkpoint (a C2SP signed note) when the package was finished. */
  latest: z.string(),
  /** Hex nodes, RFC 6962 §2.1.2 PROOF(from.size, D[latest size]). */
  proof: z.array(Sha256HexSchema),
});
export type PackageConsistency = z.infer<typeof PackageConsistencySchema>;

/** Files a run folder holds besides its artifacts (artifacts live in `NN-phase/` subfolders, so these never collide). */
export const RUN_FILES = { index: "index.json", proofs: "proofs.json" } as const;

/** Folder of a run inside the package. The tenant is the package's, so it is not repeated in every path. */
export function runFolder(run: { client: string; device: string; runId: string }): string {
  return `runs/${run.client}/${run.device}/${run.runId}/`;
}

/** One run listed in export.json: where it is in the package and what the Runs table said when it was exported. */
export const PackageRunSchema = z.object({
  client: ClientIdSchema,
  device: DeviceIdSchema,
  runId: RunIdSchema,
  folder: z.string(),
  status: RunRowSchema.shape.status,
  startedAt: TimestampSchema,
  /** The root the run reported when it was sealed (Runs table); compare it with the one your alerts or RMM recorded. */
  merkleRoot: Sha256HexSchema.optional(),
  eventsChainHead: Sha256HexSchema.optional(),
  exitCode: z.number().int().optional(),
  exitCodeName: z.string().optional(),
});
export type PackageRun = z.infer<typeof PackageRunSchema>;

/** `export.json`: what was asked for, when, by which tool, and every run in the package. */
export const PackageManifestSchema = z.object({
  schemaVersion: z.literal(1),
  format: z.literal(PACKAGE_FORMAT),
  exportId: ExportIdSchema,
  tenant: TenantIdSchema,
  scope: ExportRequestSchema,
  createdAt: TimestampSchema,
  tool: z.object({ name: z.string(), version: z.string() }),
  runs: z.array(PackageRunSchema),
  /** Runs in the time range that are not in the package, and why (e.g. not sealed yet). */
  skipped: z.array(PackageRunSchema.omit({ folder: true }).extend({ reason: z.string() })),
});
export type PackageManifest = z.infer<typeof PackageManifestSchema>;

/** One row of a run's `index.json`: the Artifacts table row, without the blob name (the package has its own paths). */
export const PackageIndexRowSchema = z.object({
  path: z.string().min(1),
  sha256: Sha256HexSchema,
  size: z.number().int().min(0),
  merkleLeaf: z.boolean(),
  versionId: z.string().optional(),
});
export type PackageIndexRow = z.infer<typeof PackageIndexRowSchema>;

/** `runs/…/index.json`: every indexed artifact of the run, sorted by path. */
export const PackageIndexSchema = z.object({
  schemaVersion: z.literal(1),
  run: RunRefSchema,
  rows: z.array(PackageIndexRowSchema),
});
export type PackageIndex = z.infer<typeof PackageIndexSchema>;

/** An RFC 6962 inclusion proof of one artifact (hex), leaf-to-root audit path. */
export const PackageProofSchema = z.object({
  path: z.string().min(1),
  sha256: Sha256HexSchema,
  leafIndex: z.number().int().min(0),
  /** SHA-256(0x00 ‖ canonical JSON {"path","sha256"}). */
  leafHash: Sha256HexSchema,
  auditPath: z.array(Sha256HexSchema),
});
export type PackageProof = z.infer<typeof PackageProofSchema>;

/** `runs/…/proofs.json`: a proof for every Merkle leaf of the run, against the root of its sealed manifest. */
export const PackageProofsSchema = z.object({
  schemaVersion: z.literal(1),
  run: RunRefSchema,
  algorithm: z.literal("rfc6962-sha256"),
  treeSize: z.number().int().min(0),
  root: Sha256HexSchema,
  proofs: z.array(PackageProofSchema),
});
export type PackageProofs = z.infer<typeof PackageProofsSchema>;
