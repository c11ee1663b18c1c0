import type { Readable } from "node:stream";
import type { ContainerClient } from "@azure/storage-blob";
import { EvidenceStore } from "../evidence/blobStore";
import { openEvidenceSession, type EvidenceDeps, type EvidenceSession } from "../evidence/evidenceSession";
import type { RunRef } from "../schemas/common";
import type { InstallRow } from "../schemas/tableRows";

/** Where an export reads evidence from: one run-bound evidence session per run, and the audit index. */
export interface ExportSource {
  /** The run's evidence session: its index rows (confinement checked), the blobs stored under its folder. */
  openSession(run: RunRef): EvidenceSession;
  /**
   * Streams one artifact of the session's run from the run's own folder (refused unless its row points inside it), or
   * undefined when the blob does not exist. The writer hashes it on the way into the zip and checks it against the row.
   */
  openArtifact(session: EvidenceSession, path: string, signal: AbortSignal): Promise<Readable | undefined>;
  /** A device's Installs (audit index) rows. */
  readInstalls(tenant: string, device: string): Promise<InstallRow[]>;
}

/**
 * The export source over the evidence index and store; given a container, the blobs are read from it (the export
 * only reads, so a store over the same container is the same evidence).
 */
export function evidenceExportSource(evidence: EvidenceDeps, container?: ContainerClient): ExportSource {
  const deps: EvidenceDeps = container === undefined ? evidence : { ...evidence, store: new EvidenceStore(container) };
  return {
    openSession: (run) => openEvidenceSession(deps, run),
    openArtifact: (session, path, signal) => session.openStream(path, signal),
    readInstalls: (tenant, device) => evidence.index.readInstalls(tenant, device),
  };
}
