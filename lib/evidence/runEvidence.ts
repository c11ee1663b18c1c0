import type { ArtifactSpec } from "../domain/artifacts";
import { ARTIFACTS, parseArtifact } from "../domain/artifacts";
import type { InstallOutcome } from "../schemas/artifacts/catalog";
import type { Manifest } from "../schemas/artifacts/integrity";
import type { ArtifactRead } from "../schemas/artifacts/outcome";
import type { RunRef } from "../schemas/common";
import type { ArtifactRow } from "../schemas/tableRows";
import type { EvidenceStore, StoredArtifact } from "./blobStore";
import { canonicalJsonBytes, canonicalJsonLinesBytes } from "./canonicalJson";
import { chainEvents, sealEvents, type RunEventInput } from "./hashChain";
import { buildArtifactIndex, buildManifest } from "./seal";
import { sha256Hex } from "./sha256";
import type { EvidenceIndex } from "./tableIndex";

/** What evidence code needs: the write-once store and the index. */
export interface EvidenceDeps {
  store: EvidenceStore;
  index: EvidenceIndex;
}

/** An artifact written with content that does not satisfy its own schema: a bug in the writer, never stored. */
export class ArtifactSchemaError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`refusing to store ${path}: ${problem}`);
    this.name = "ArtifactSchemaError";
  }
}

/** Stores a JSON (or JSONL, given an array) artifact as canonical JSON, after checking it against its schema. */
export async function putArtifact(
  deps: EvidenceDeps,
  run: RunRef,
  spec: ArtifactSpec,
  value: unknown,
): Promise<StoredArtifact> {
  let bytes: Buffer;
  if (spec.format === "jsonl") {
    if (!Array.isArray(value)) throw new ArtifactSchemaError(spec.path, "a JSONL artifact takes an array of lines");
    bytes = canonicalJsonLinesBytes(value);
  } else if (spec.format === "json") {
    bytes = canonicalJsonBytes(value);
  } else {
    bytes = Buffer.from(String(value), "utf8");
  }
  const parsed = parseArtifact(spec, bytes);
  if (!parsed.ok) throw new ArtifactSchemaError(spec.path, parsed.problem);
  return deps.store.put(run, spec.path, bytes, spec.contentType);
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
}

/**
 * Phase 10: stores the chained `events.jsonl`, `artifact-index.json` and `manifest.json`, then writes the index in
 * one transaction per partition (Artifacts, Installs) and marks the run sealed. Safe to retry: every write is
 * create-once with deterministic bytes.
 */
export async function sealRun(deps: EvidenceDeps, run: RunRef, input: SealInput): Promise<SealResult> {
  const events = chainEvents(run.runId, input.events);
  const eventsStored = await deps.store.put(
    run,
    ARTIFACTS.events.path,
    sealEvents(events),
    ARTIFACTS.events.contentType,
  );
  const leaves = [...input.artifacts, eventsStored];
  const artifactIndex = buildArtifactIndex(run.runId, leaves);
  const chainHead = events.at(-1)?.hash ?? "0".repeat(64);
  const manifest = buildManifest(run, input.sealedAt, artifactIndex, { count: events.length, chainHead });
  const indexStored = await putArtifact(deps, run, ARTIFACTS.artifactIndex, artifactIndex);
  const manifestStored = await putArtifact(deps, run, ARTIFACTS.manifest, manifest);

  await deps.index.indexArtifacts(run, [
    ...leaves.map((a) => ({ ...a, merkleLeaf: true })),
    { ...indexStored, merkleLeaf: false },
    { ...manifestStored, merkleLeaf: false },
  ]);

  const summary = input.artifacts.find((a) => a.path === ARTIFACTS.installSummary.path);
  if (summary !== undefined) await indexInstallSummary(deps, run, summary);

  await deps.index.upsertRun(run, {
    status: "sealed",
    startedAt: events[0]?.at ?? input.sealedAt,
    merkleRoot: manifest.merkle.root,
    eventsChainHead: chainHead,
  });
  return { manifest, manifestSha256: manifestStored.sha256, stored: [...leaves, indexStored, manifestStored] };
}

/** Adds the outcomes of `install-summary.jsonl` (read back and checked against its hash) to the audit index. */
async function indexInstallSummary(deps: EvidenceDeps, run: RunRef, summary: StoredArtifact): Promise<void> {
  const bytes = await deps.store.get(run, summary.path);
  // An unreadable or altered summary is not indexed; the exit code and verify report it as such.
  if (bytes === undefined || sha256Hex(bytes) !== summary.sha256) return;
  const parsed = parseArtifact(ARTIFACTS.installSummary, bytes);
  if (!parsed.ok) return;
  const outcomes = parsed.value as InstallOutcome[];
  if (outcomes.length === 0) return;
  await deps.index.indexInstalls(
    run,
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

/** An artifact read back and checked against the index; `value` only when verified. */
export interface VerifiedReading {
  read: ArtifactRead;
  value?: unknown;
}

/** Reads an artifact, checks its SHA-256 against its index row and its content against its schema. */
export async function readVerified(
  deps: EvidenceDeps,
  run: RunRef,
  spec: ArtifactSpec,
  row: ArtifactRow | undefined,
): Promise<VerifiedReading> {
  const path = spec.path;
  if (row === undefined) {
    const exists = (await deps.store.get(run, path)) !== undefined;
    return exists
      ? { read: { path, status: "not-indexed", problem: "stored but absent from the index" } }
      : { read: { path, status: "missing" } };
  }
  // Storage errors propagate: a transient failure must be retried, not frozen into write-once evidence as a 240.
  const bytes = await deps.store.readBlob(row.blobName);
  if (bytes === undefined) {
    return { read: { path, status: "missing", indexedSha256: row.sha256, problem: "indexed but the blob is gone" } };
  }
  const actual = sha256Hex(bytes);
  if (actual !== row.sha256) {
    return { read: { path, status: "hash-mismatch", indexedSha256: row.sha256, actualSha256: actual } };
  }
  const parsed = parseArtifact(spec, bytes);
  if (!parsed.ok) {
    return {
      read: { path, status: parsed.kind, indexedSha256: row.sha256, actualSha256: actual, problem: parsed.problem },
    };
  }
  return { read: { path, status: "verified", indexedSha256: row.sha256, actualSha256: actual }, value: parsed.value };
}
