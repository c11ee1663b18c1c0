import { ARTIFACTS, specForPath } from "../domain/artifacts";
import type { ArtifactIndex, Manifest } from "../schemas/artifacts/integrity";
import type { RunRef } from "../schemas/common";
import type { ArtifactRow } from "../schemas/tableRows";
import { checkSeal } from "./checkSeal";
import { artifactBlobName } from "./keys";
import { readVerified, type EvidenceDeps, type VerifiedReading } from "./runEvidence";

/** A run's evidence read back: every indexed artifact verified, plus the well-known ones that are not indexed. */
export interface RunReadback {
  rows: Map<string, ArtifactRow>;
  readings: Map<string, VerifiedReading>;
  /** Problems of the seal (Merkle root, artifact index, event chain); empty when it holds or there is no manifest. */
  sealProblems: string[];
  manifest?: Manifest;
}

/** Options of {@link readRunEvidence}. */
export interface ReadRunOptions {
  /** Paths not to read (e.g. the exit code's own outputs, so a retried decision reads what the first one read). */
  skip?: (path: string) => boolean;
}

/** Reads back and verifies everything the index lists for a run, and looks for the well-known artifacts it lacks. */
export async function readRunEvidence(
  deps: EvidenceDeps,
  run: RunRef,
  options: ReadRunOptions = {},
): Promise<RunReadback> {
  const skip = options.skip ?? (() => false);
  const rows = await deps.index.readArtifacts(run.runId);
  const readings = new Map<string, VerifiedReading>();
  for (const row of rows.values()) {
    if (skip(row.path)) continue;
    // Tenant isolation: a row must point inside this run's own folder, whatever its run id says.
    if (row.blobName !== artifactBlobName(run, row.path)) {
      readings.set(row.path, {
        read: {
          path: row.path,
          status: "hash-mismatch",
          indexedSha256: row.sha256,
          problem: `indexed blob ${row.blobName} is outside this run`,
        },
      });
      continue;
    }
    readings.set(row.path, await readVerified(deps, run, specForPath(row.path), row));
  }
  for (const spec of Object.values(ARTIFACTS)) {
    if (readings.has(spec.path) || rows.has(spec.path) || skip(spec.path)) continue;
    readings.set(spec.path, await readVerified(deps, run, spec, undefined));
  }

  const manifestReading = readings.get(ARTIFACTS.manifest.path);
  let sealProblems: string[] = [];
  let manifest: Manifest | undefined;
  if (manifestReading?.read.status === "verified") {
    manifest = manifestReading.value as Manifest;
    const indexReading = readings.get(ARTIFACTS.artifactIndex.path);
    const eventsReading = readings.get(ARTIFACTS.events.path);
    sealProblems = checkSeal(
      run.runId,
      manifest,
      rows,
      indexReading?.read.status === "verified" ? (indexReading.value as ArtifactIndex) : undefined,
      eventsReading?.read.status === "verified" ? (eventsReading.value as unknown[]) : undefined,
    );
  }
  return { rows, readings, sealProblems, ...(manifest ? { manifest } : {}) };
}
