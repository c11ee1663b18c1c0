import { ARTIFACTS, type ArtifactSpec } from "../domain/artifacts";
import type { InstallOutcome } from "../schemas/artifacts/catalog";
import type { Manifest } from "../schemas/artifacts/integrity";
import type { RunRef } from "../schemas/common";
import type { ArtifactRow } from "../schemas/tableRows";
import type { StoredArtifact } from "./blobStore";
import { openEvidenceSession, type EvidenceDeps, type EvidenceSession, type VerifiedReading } from "./evidenceSession";
import { chainEvents, sealEvents, type RunEventInput } from "./hashChain";
import { ARTIFACT_INDEX_LIST_PATH, artifactIndexListBytes, buildArtifactIndex, buildManifest } from "./seal";

export type { EvidenceDeps, VerifiedReading } from "./evidenceSession";
export { ArtifactSchemaError } from "./evidenceSession";

/** Stores a JSON (or JSONL, given an array) artifact as canonical JSON, after checking it against its schema. */
export async function putArtifact(
  deps: EvidenceDeps,
  run: RunRef,
  spec: ArtifactSpec,
  value: unknown,
): Promise<StoredArtifact> {
  return openEvidenceSession(deps, run).put(spec, value);
}

/** Input of {@link sealRun}: phase 10. */
export interface SealInput {
  sealedAt: string;
  /** Everything stored by phases 01-09 (as returned by the writes). */
  artifacts: readonly StoredArtifact[];
  /** What happened, in order; chained and stored as `events.jsonl`. */
  events: readonly RunEventInput[];
}

/** Result of {@link sealRun}. */
export interface SealResult {
  manifest: Manifest;
  manifestSha256: string;
  stored: StoredArtifact[];
  /** The Runs row's seal fields (written by sealRun unless the caller writes them with its own update). */
  statusFields: { startedAt: string; merkleRoot: string; eventsChainHead: string };
}

/** Options of {@link sealRun}. */
export interface SealOptions {
  /** The caller's session, so what the seal indexes and reads is known to what follows (no read-back). */
  session?: EvidenceSession;
  /** False: leave the Runs row to the caller, which writes the seal's fields in its one update (finishRun). */
  statusRow?: boolean;
}

/**
 * Phase 10: stores the chained `events.jsonl`, `artifact-index.json` and `manifest.json`, then writes the index in
 * one transaction per partition (Artifacts, Installs) and marks the run sealed. Safe to retry: every write is
 * create-once with deterministic bytes.
 */
export async function sealRun(
  deps: EvidenceDeps,
  run: RunRef,
  input: SealInput,
  options: SealOptions = {},
): Promise<SealResult> {
  const session = options.session ?? openEvidenceSession(deps, run);
  const events = chainEvents(run.runId, input.events);
  const eventsStored = await session.putBytes(ARTIFACTS.events.path, sealEvents(events), ARTIFACTS.events.contentType);
  const leaves = [...input.artifacts, eventsStored];
  const artifactIndex = buildArtifactIndex(run.runId, leaves);
  const chainHead = events.at(-1)?.hash ?? "0".repeat(64);
  const manifest = buildManifest(run, input.sealedAt, artifactIndex, { count: events.length, chainHead });
  const indexStored = await session.put(ARTIFACTS.artifactIndex, artifactIndex);
  const manifestStored = await session.put(ARTIFACTS.manifest, manifest);
  // The seed-shaped list of the index (its SHA-256 is in the manifest).
  const listStored = await session.putBytes(
    ARTIFACT_INDEX_LIST_PATH,
    artifactIndexListBytes(artifactIndex),
    "application/json",
  );

  await session.index([
    ...leaves.map((a) => ({ ...a, merkleLeaf: true })),
    { ...indexStored, merkleLeaf: false },
    { ...manifestStored, merkleLeaf: false },
    { ...listStored, merkleLeaf: false },
  ]);

  const summary = input.artifacts.find((a) => a.path === ARTIFACTS.installSummary.path);
  if (summary !== undefined) await indexInstallSummary(session, summary);

  const statusFields = {
    startedAt: events[0]?.at ?? input.sealedAt,
    merkleRoot: manifest.merkle.root,
    eventsChainHead: chainHead,
  };
  if (options.statusRow ?? true) await deps.index.upsertRun(run, { status: "sealed", ...statusFields });
  return {
    manifest,
    manifestSha256: manifestStored.sha256,
    stored: [...leaves, indexStored, manifestStored, listStored],
    statusFields,
  };
}

/** Adds the outcomes of `install-summary.jsonl` (read back verified against its index row) to the audit index. */
async function indexInstallSummary(session: EvidenceSession, summary: StoredArtifact): Promise<void> {
  // An unreadable or altered summary is not indexed; the exit code and verify report it as such.
  const outcomes = await session.value<InstallOutcome[]>(ARTIFACTS.installSummary);
  if (outcomes === undefined || outcomes.length === 0) return;
  await session.deps.index.indexInstalls(
    session.run,
    summary,
    outcomes.map((o, i) => ({
      updateId: o.updateId,
      ...(o.kb !== undefined ? { kb: o.kb } : {}),
      title: o.title,
      installed: o.installed,
      result: o.result,
      finishedAt: o.finishedAt,
      line: i + 1,
    })),
  );
}

/**
 * Reads an artifact, checks it against the given index row (confined to the run's folder, SHA-256, size) and its
 * content against its schema. Kept for callers that hold a row; new code opens an {@link EvidenceSession}.
 */
export async function readVerified(
  deps: EvidenceDeps,
  run: RunRef,
  spec: ArtifactSpec,
  row: ArtifactRow | undefined,
): Promise<VerifiedReading> {
  return openEvidenceSession(deps, run).readAgainst(spec, row);
}
