import type { RunReceipt } from "../schemas/artifacts/receipt";
import { checkReceipt } from "../evidence/checkReceipt";
import { ARTIFACTS, parseArtifact, type ArtifactSpec } from "../domain/artifacts";
import { checkSeal } from "../evidence/checkSeal";
import { digestProblem, type VerifiedReading } from "../evidence/evidenceSession";
import { reportedArtifacts, type VerificationReport } from "../evidence/verifyRun";
import type { ArtifactIndex, Manifest } from "../schemas/artifacts/integrity";
import type { RunRef } from "../schemas/common";
import type { ArtifactRow } from "../schemas/tableRows";
import type { TapResult } from "./hashingTap";

// Parsed values kept until the run is checked: only what the seal check and the expectations need.
const KEEP_VALUE: ReadonlySet<string> = new Set([
  ARTIFACTS.manifest.path,
  ARTIFACTS.artifactIndex.path,
  ARTIFACTS.events.path,
]);

/** Checks an artifact's bytes, as streamed into the package, against its index row and its schema. */
export function readingOfStreamed(spec: ArtifactSpec, row: ArtifactRow, tap: TapResult): VerifiedReading {
  const path = spec.path;
  // The session's rule for bytes hashed on the way: SHA-256 and size as the index row records them.
  const problem = digestProblem(row, tap);
  if (problem !== undefined) return { read: problem };
  // Larger than the capture limit: the hash is checked, the schema is not (no evidence artifact comes near it).
  if (tap.bytes === undefined)
    return { read: { path, status: "verified", indexedSha256: row.sha256, actualSha256: tap.sha256 } };
  const parsed = parseArtifact(spec, tap.bytes);
  if (!parsed.ok) {
    return {
      read: { path, status: parsed.kind, indexedSha256: row.sha256, actualSha256: tap.sha256, problem: parsed.problem },
    };
  }
  return {
    read: { path, status: "verified", indexedSha256: row.sha256, actualSha256: tap.sha256 },
    ...(KEEP_VALUE.has(path) ? { value: parsed.value } : {}),
  };
}

/**
 * Verification of one run made while its artifacts stream into the package, with verifyRun's rules (every indexed
 * artifact's SHA-256 and schema, the expected artifacts, the seal: Merkle root, artifact index, event chain; blobs
 * stored but not indexed) but over the very bytes packaged, so each blob is read once, not twice.
 */
export class RunCheck {
  private readonly readings = new Map<string, VerifiedReading>();
  private readonly tracked: Promise<unknown>[] = [];

  constructor(
    readonly run: RunRef,
    private readonly rows: ReadonlyMap<string, ArtifactRow>,
    /** Paths (relative to the run folder) of every blob stored under the run's prefix. */
    private readonly stored: ReadonlySet<string>,
  ) {}

  /** Records what was found for an artifact. */
  record(reading: VerifiedReading): void {
    this.readings.set(reading.read.path, reading);
  }

  /** Waits for this work (a streamed artifact) before {@link report}. */
  track(work: Promise<unknown>): void {
    this.tracked.push(work);
  }

  /** The run's verification report, once every tracked artifact has been streamed. */
  async report(): Promise<VerificationReport> {
    await Promise.all(this.tracked);
    for (const spec of Object.values(ARTIFACTS)) {
      if (this.readings.has(spec.path) || this.rows.has(spec.path)) continue;
      const path = spec.path;
      this.record(
        this.stored.has(path)
          ? { read: { path, status: "not-indexed", problem: "stored but absent from the index" } }
          : { read: { path, status: "missing" } },
      );
    }
    // verifyRun's expectations: every indexed artifact, and the always-expected ones even when absent.
    const artifacts = reportedArtifacts(this.readings);
    const verified = (path: string): unknown => {
      const reading = this.readings.get(path);
      return reading?.read.status === "verified" ? reading.value : undefined;
    };
    const manifest = verified(ARTIFACTS.manifest.path) as Manifest | undefined;
    const sealProblems =
      manifest === undefined
        ? ["no verified manifest.json"]
        : checkSeal(
            this.run.runId,
            manifest,
            this.rows,
            verified(ARTIFACTS.artifactIndex.path) as ArtifactIndex | undefined,
            verified(ARTIFACTS.events.path) as unknown[] | undefined,
          );
    const receipt = verified(ARTIFACTS.receipt.path) as RunReceipt | undefined;
    if (manifest !== undefined && receipt !== undefined)
      sealProblems.push(...checkReceipt(receipt, this.run, manifest.merkle.root, (p) => this.rows.get(p)?.sha256));
    const sealOk = manifest !== undefined && sealProblems.length === 0;
    return {
      run: this.run,
      ok: sealOk && artifacts.every((a) => a.status === "verified"),
      ...(manifest ? { merkleRoot: manifest.merkle.root, eventsChainHead: manifest.events.chainHead } : {}),
      artifacts,
      seal: { ok: sealOk, problems: sealProblems },
      unindexed: [...this.stored].filter((path) => !this.rows.has(path)).sort(),
    };
  }
}
