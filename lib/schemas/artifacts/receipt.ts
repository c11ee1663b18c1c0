import { z } from "zod";
import {
  ClientIdSchema,
  DeviceIdSchema,
  RunIdSchema,
  SchemaVersion1,
  Sha256HexSchema,
  TenantIdSchema,
  TimestampSchema,
} from "../common";
import { ExitCodeNameSchema, ExitCodeSchema } from "./outcome";

/** A file of the report phase the receipt commits to (path in the run folder, its SHA-256 and size). */
export const ReceiptFileSchema = z.object({
  path: z.string().min(1),
  sha256: Sha256HexSchema,
  size: z.number().int().min(0),
});
export type ReceiptFile = z.infer<typeof ReceiptFileSchema>;

/**
 * `11-report/receipt.json`: the run's commitment. It binds the sealed Merkle root (phases 01-10) to the decision
 * (`exit-code.json`, its code and name) and the report (`final-report.json`, `report.html`), and it is the leaf the run
 * appends to its tenant's transparency log: changing the exit code or the report changes the receipt, and a changed
 * receipt is not the leaf the signed checkpoint covers.
 */
export const RunReceiptSchema = z.object({
  schemaVersion: SchemaVersion1,
  kind: z.literal("patchpilot-run-receipt"),
  tenant: TenantIdSchema,
  client: ClientIdSchema,
  device: DeviceIdSchema,
  runId: RunIdSchema,
  /** When the run started (the scope an export is asked for) and was sealed; both from the orchestrator. */
  startedAt: TimestampSchema,
  sealedAt: TimestampSchema,
  merkleRoot: Sha256HexSchema,
  /** SHA-256 of `10-index/manifest.json` (root, artifact index, event chain head and count). */
  manifestSha256: Sha256HexSchema,
  exitCode: z.object({ code: ExitCodeSchema, name: ExitCodeNameSchema, sha256: Sha256HexSchema }),
  /** `11-report/exit-code.json`, `final-report.json` and `report.html`, sorted by path. */
  files: z.array(ReceiptFileSchema).min(1),
});
export type RunReceipt = z.infer<typeof RunReceiptSchema>;
