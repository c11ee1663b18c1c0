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
  /** The run's entry (leaf and the checkpoint that first included it), or undefined when it is not logged. */
  find(run: { tenant: string; client: string; device: string; runId: string }): Promise<RunLogEntry | undefined>;
  /** The latest signed checkpoint of a tenant's log (undefined before its first sealed run). */
  latest(tenant: string): Promise<{ size: number; note: string } | undefined>;
  /** The checkpoint signed at a tree size. */
  checkpoint(tenant: string, size: number): Promise<{ size: number; note: string } | undefined>;
  /** The first `size` receipts (canonical JSON, as hashed into the leaves), in leaf order. */
  leaves(tenant: string, size: number): Promise<{ index: number; receipt: string; leafHash: string }[]>;
  /** RFC 6962 consistency proof (hex) between two tree sizes. */
  consistency(tenant: string, from: number, to: number): Promise<string[]>;
  /** The published verifier key of the tenant's log (C2SP signed-note vkey). */
  verifierKey(tenant: string): Promise<string>;
}
