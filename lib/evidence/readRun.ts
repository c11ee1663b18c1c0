import type { RunRef } from "../schemas/common";
import { openEvidenceSession, type EvidenceDeps, type ReadRunOptions, type RunReadback } from "./evidenceSession";

export type { ReadRunOptions, RunReadback } from "./evidenceSession";

/**
 * Reads back and verifies everything the index lists for a run, and looks for the well-known artifacts it lacks: an
 * {@link EvidenceSession}'s readAll, for callers that have no session open.
 */
export async function readRunEvidence(
  deps: EvidenceDeps,
  run: RunRef,
  options: ReadRunOptions = {},
): Promise<RunReadback> {
  return openEvidenceSession(deps, run).readAll(options);
}
