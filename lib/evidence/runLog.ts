import type { RunReceipt } from "../schemas/artifacts/receipt";

/** Where a sealed run's receipt went in its tenant's transparency log. */
export interface RunLogEntry {
  /** The receipt's leaf index. */
  index: number;
  /** Hex leaf hash: SHA-256(0x00 ‖ canonical receipt). */
  leafHash: string;
  /** The signed checkpoint of the tree that first included the receipt (a C2SP signed note). */
  checkpoint: string;
  /** Its tree size (index + 1 for the run's own append). */
  size: number;
}

/**
 * The per-tenant append-only log of run receipts (lib/transparency implements it). Declared here so the evidence
 * layer needs no import of its implementation; append is idempotent per run.
 */
export interface RunLog {
  append(receipt: RunReceipt): Promise<RunLogEntry>;
}
