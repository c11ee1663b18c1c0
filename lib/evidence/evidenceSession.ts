import type { Readable } from "node:stream";
import { ARTIFACTS, parseArtifact, specForPath, type ArtifactSpec } from "../domain/artifacts";
import type { ArtifactIndex, Manifest } from "../schemas/artifacts/integrity";
import type { ArtifactRead } from "../schemas/artifacts/outcome";
import type { RunReceipt } from "../schemas/artifacts/receipt";
import type { RunRef } from "../schemas/common";
import type { ArtifactRow } from "../schemas/tableRows";
import type { EvidenceStore, StoredArtifact } from "./blobStore";
import { canonicalJsonBytes, canonicalJsonLinesBytes } from "./canonicalJson";
import { checkSeal } from "./checkSeal";
import { artifactBlobName, runPrefix } from "./keys";
import { checkReceipt } from "./checkReceipt";
import { recentEvidence } from "./recentEvidence";
import type { RunLog } from "./runLog";
import { sha256Hex } from "./sha256";
import { artifactRowOf, type EvidenceIndex } from "./tableIndex";

/** What evidence code needs: the write-once store and the index. */
export interface EvidenceDeps {
  store: EvidenceStore;
  index: EvidenceIndex;
  /** The tenants' transparency logs a sealed run's receipt is appended to (absent: receipts are written, not logged). */
  log?: RunLog;
}

/** An artifact read back and checked against the index; `value` only when verified. */
export interface VerifiedReading {
  read: ArtifactRead;
  value?: unknown;
}

/** An artifact's exact bytes read back; `bytes` only when they match the index row (SHA-256 and size). */
export interface BytesReading {
  read: ArtifactRead;
  /** The index row the bytes were checked against (absent when there is none, or it points outside the run). */
  row?: ArtifactRow;
  bytes?: Buffer;
}

/**
 * An Artifacts row of the run, looked up by path: found (inside the run's own folder), absent, present but pointing
 * outside the run's folder (refused: never read), or present but not a valid row.
 */
export type RowLookup =
  | { status: "found"; row: ArtifactRow }
  | { status: "missing" }
  | { status: "outside"; row: ArtifactRow }
  | { status: "invalid"; problem: string };

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

/**
 * The problem recorded for a row that points outside its run's folder. The blob it names is never repeated: it may
 * belong to another tenant.
 */
export const OUTSIDE_RUN_PROBLEM = "indexed blob is outside this run's folder; refused";

/**
 * Tenant isolation: an index row must name exactly `artifactBlobName(run, row.path)`, whatever its partition (run
 * id) says. A row of run A naming a blob of tenant B's run is refused before anything is read.
 */
export function isInsideRun(run: RunRef, row: Pick<ArtifactRow, "path" | "blobName">): boolean {
  return row.blobName === artifactBlobName(run, row.path);
}

/** The reading of a row refused for pointing outside its run: a hash mismatch (240), without the foreign name. */
export function outsideRunReading(row: Pick<ArtifactRow, "path" | "sha256">): VerifiedReading {
  return { read: { path: row.path, status: "hash-mismatch", indexedSha256: row.sha256, problem: OUTSIDE_RUN_PROBLEM } };
}

/**
 * Checks the digest of bytes read from a row's blob (hashed in memory, or on the way through a stream) against the
 * row: SHA-256 and size. Undefined when both match.
 */
export function digestProblem(
  row: Pick<ArtifactRow, "path" | "sha256" | "size">,
  digest: { sha256: string; size: number },
): ArtifactRead | undefined {
  if (digest.sha256 !== row.sha256)
    return { path: row.path, status: "hash-mismatch", indexedSha256: row.sha256, actualSha256: digest.sha256 };
  if (digest.size !== row.size) {
    return {
      path: row.path,
      status: "hash-mismatch",
      indexedSha256: row.sha256,
      actualSha256: digest.sha256,
      problem: `indexed size ${row.size} bytes, stored ${digest.size}`,
    };
  }
  return undefined;
}

/** {@link digestProblem} of bytes in memory. */
export function integrityProblem(
  row: Pick<ArtifactRow, "path" | "sha256" | "size">,
  bytes: Uint8Array,
): ArtifactRead | undefined {
  return digestProblem(row, { sha256: sha256Hex(bytes), size: bytes.byteLength });
}

/** The schema check of bytes that passed {@link integrityProblem}. */
function parsedReading(spec: ArtifactSpec, row: ArtifactRow, bytes: Uint8Array): VerifiedReading {
  const path = spec.path;
  const parsed = parseArtifact(spec, bytes);
  if (!parsed.ok) {
    return {
      read: { path, status: parsed.kind, indexedSha256: row.sha256, actualSha256: row.sha256, problem: parsed.problem },
    };
  }
  return {
    read: { path, status: "verified", indexedSha256: row.sha256, actualSha256: row.sha256 },
    value: parsed.value,
  };
}

/** A run's evidence read back: every indexed artifact verified, plus the well-known ones that are not indexed. */
export interface RunReadback {
  rows: Map<string, ArtifactRow>;
  readings: Map<string, VerifiedReading>;
  /** Problems of the seal (Merkle root, artifact index, event chain); empty when it holds or there is no manifest. */
  sealProblems: string[];
  manifest?: Manifest;
}

/** Options of {@link EvidenceSession.readAll}. */
export interface ReadRunOptions {
  /** Paths not to read (e.g. the exit code's own outputs, so a retried decision reads what the first one read). */
  skip?: (path: string) => boolean;
}

/**
 * A run-bound evidence session: the one way code reads or writes a run's evidence.
 *
 * - Bound to one {@link RunRef}: every blob it reads or writes is under `{tenant}/{client}/{device}/{runId}/`.
 * - Every read is verified against the run's Artifacts row (SHA-256 and size, then the artifact's schema) and
 *   confined: a row whose blobName is not `artifactBlobName(run, path)` is refused and its blob never read (so one
 *   tenant's row cannot cite another tenant's blob).
 * - Every write is create-once (`If-None-Match: *`): the same bytes again (a retry) succeed, different bytes are an
 *   EvidenceConflictError (a write-once conflict, which no retry can fix).
 * - Readings are memoised: within one activity the exit code, the report, report.html and the events share one
 *   verified read per artifact and one query of the index. A write drops what it may change; an index write that
 *   succeeded records its rows in the session (create-once: the table now holds exactly them), so they are not
 *   read back. {@link deferIndexing} gathers index rows into one transaction written by {@link flushIndex}.
 *
 * Storage errors propagate: a transient failure must be retried, never frozen into evidence as "missing".
 */
export class EvidenceSession {
  readonly prefix: string;
  private rowsMemo: Promise<Map<string, ArtifactRow>> | undefined;
  private readonly lookups = new Map<string, Promise<RowLookup>>();
  private readonly loads = new Map<string, Promise<BytesReading>>();
  private readonly readings = new Map<string, Promise<VerifiedReading>>();
  /** Rows to index in one transaction at {@link flushIndex}, while indexing is deferred. */
  private pending: (StoredArtifact & { merkleLeaf: boolean })[] | undefined;

  constructor(
    readonly deps: EvidenceDeps,
    readonly run: RunRef,
  ) {
    this.prefix = runPrefix(run);
  }

  /** The run's Artifacts rows by path, as stored (outside rows included: use {@link lookup} to classify). */
  rows(): Promise<Map<string, ArtifactRow>> {
    if (this.rowsMemo === undefined) {
      // Rows gathered for a deferred flush are the run's rows too (the flush writes exactly them).
      const rows = this.deps.index.readArtifacts(this.run.runId).then((m) => {
        for (const a of this.pending ?? []) m.set(a.path, artifactRowOf(this.run, a));
        return m;
      });
      this.rowsMemo = remember(rows, () => {
        if (this.rowsMemo === rows) this.rowsMemo = undefined;
      });
    }
    return this.rowsMemo;
  }

  /** The run's rows that point inside its own folder, by path (what may be cited or listed). */
  async ownRows(): Promise<Map<string, ArtifactRow>> {
    return new Map([...(await this.rows())].filter(([, row]) => isInsideRun(this.run, row)));
  }

  /**
   * The row of one artifact, classified. From the run's rows when they were read already; otherwise one point read
   * (the cheapest lookup Table storage serves), so a caller that needs three rows does not query the partition.
   */
  lookup(path: string): Promise<RowLookup> {
    return memoised(this.lookups, path, () => this.lookupNow(path));
  }

  private async lookupNow(path: string): Promise<RowLookup> {
    if (this.rowsMemo !== undefined) {
      const row = (await this.rows()).get(path);
      return row === undefined ? { status: "missing" } : this.classify(row);
    }
    const point = await this.deps.index.getArtifact(this.run.runId, path);
    return point.status === "found" ? this.classify(point.row) : point;
  }

  private classify(row: ArtifactRow): RowLookup {
    return isInsideRun(this.run, row) ? { status: "found", row } : { status: "outside", row };
  }

  /**
   * An artifact's exact bytes, verified against its row (SHA-256 and size) and confined to the run's folder; no
   * schema check (a download serves the stored bytes as they are). `bytes` only when they match.
   */
  readBytes(path: string): Promise<BytesReading> {
    return memoised(this.loads, path, async () => this.load(path, await this.lookup(path)));
  }

  private async load(path: string, lookup: RowLookup): Promise<BytesReading> {
    if (lookup.status === "outside") return { read: outsideRunReading(lookup.row).read };
    if (lookup.status === "invalid")
      return { read: { path, status: "unreadable", problem: `the index row is invalid: ${lookup.problem}` } };
    if (lookup.status === "missing") {
      const exists = (await this.deps.store.get(this.run, path)) !== undefined;
      return exists
        ? { read: { path, status: "not-indexed", problem: "stored but absent from the index" } }
        : { read: { path, status: "missing" } };
    }
    const { row } = lookup;
    const bytes = await this.deps.store.readBlob(artifactBlobName(this.run, path));
    if (bytes === undefined) {
      return {
        read: { path, status: "missing", indexedSha256: row.sha256, problem: "indexed but the blob is gone" },
        row,
      };
    }
    const problem = integrityProblem(row, bytes);
    if (problem !== undefined) return { read: problem, row };
    return { read: { path, status: "verified", indexedSha256: row.sha256, actualSha256: row.sha256 }, row, bytes };
  }

  /**
   * Streams an indexed artifact of the run from its own folder, for copying large evidence without holding it (the
   * export). Refuses (throws) unless the run's row for `path` points inside the run's folder. The caller hashes the
   * bytes on the way and checks them with {@link digestProblem}; undefined when the blob is gone.
   */
  async openStream(path: string, signal: AbortSignal): Promise<Readable | undefined> {
    const lookup = await this.lookup(path);
    if (lookup.status !== "found")
      throw new Error(`refusing to stream ${path} of run ${this.run.runId}: its index row is ${lookup.status}`);
    return this.deps.store.openStream(artifactBlobName(this.run, path), signal);
  }

  /**
   * The bytes stored at the run's own `artifactBlobName(run, path)`, whatever the index says, or undefined when there
   * are none. Only for verifiers that check and report every claim about them themselves (the install proof, which
   * compares them with the Installs row, the Artifacts row and the manifest); never serve these bytes as evidence.
   */
  async readOwnBlobForReport(path: string): Promise<Buffer | undefined> {
    return this.deps.store.get(this.run, path);
  }

  /** An artifact read back, verified (confined, SHA-256, size) and checked against its schema. */
  read(spec: ArtifactSpec | string): Promise<VerifiedReading> {
    const resolved = typeof spec === "string" ? specForPath(spec) : spec;
    return memoised(this.readings, resolved.path, async () => {
      const loaded = await this.readBytes(resolved.path);
      return loaded.bytes === undefined || loaded.row === undefined
        ? { read: loaded.read }
        : parsedReading(resolved, loaded.row, loaded.bytes);
    });
  }

  /**
   * The artifact's parsed value when it verifies; undefined when it is absent or does not verify. Without a row
   * inside the run there can be no value, so nothing is read to tell "missing" from "stored but not indexed".
   */
  async value<T>(spec: ArtifactSpec): Promise<T | undefined> {
    if ((await this.lookup(spec.path)).status !== "found") return undefined;
    const reading = await this.read(spec);
    return reading.read.status === "verified" ? (reading.value as T) : undefined;
  }

  /**
   * An artifact's bytes checked against a row the caller holds (confined, SHA-256 and size); not memoised, like
   * {@link readAgainst}.
   */
  readBytesAgainst(path: string, row: ArtifactRow | undefined): Promise<BytesReading> {
    if (row !== undefined && row.path !== path)
      throw new Error(`readBytesAgainst: the row is for ${row.path}, not ${path}`);
    return this.load(path, row === undefined ? { status: "missing" } : this.classify(row));
  }

  /**
   * Reads an artifact against a row the caller holds (a run's own references before the index exists). The row is
   * confined like any other; nothing is memoised, because the row did not come from the index.
   */
  async readAgainst(spec: ArtifactSpec, row: ArtifactRow | undefined): Promise<VerifiedReading> {
    if (row !== undefined && row.path !== spec.path)
      throw new Error(`readAgainst: the row is for ${row.path}, not ${spec.path}`);
    const loaded = await this.load(spec.path, row === undefined ? { status: "missing" } : this.classify(row));
    return loaded.bytes === undefined || loaded.row === undefined
      ? { read: loaded.read }
      : parsedReading(spec, loaded.row, loaded.bytes);
  }

  /**
   * Reads back and verifies everything the index lists for the run, looks for the well-known artifacts it lacks, and
   * checks the seal (Merkle root, artifact index, event chain) when manifest.json verifies.
   */
  async readAll(options: ReadRunOptions = {}): Promise<RunReadback> {
    const skip = options.skip ?? (() => false);
    const rows = await this.rows();
    const readings = new Map<string, VerifiedReading>();
    for (const row of rows.values()) {
      if (skip(row.path)) continue;
      readings.set(row.path, await this.read(specForPath(row.path)));
    }
    // The well-known artifacts the index lacks: absent, or stored but never indexed. One listing of the run's folder
    // tells them apart for all of them (instead of one GET each); storage errors propagate ("could not look").
    const unindexed = Object.values(ARTIFACTS).filter(
      (spec) => !readings.has(spec.path) && !rows.has(spec.path) && !skip(spec.path),
    );
    const stored = unindexed.length === 0 ? new Set<string>() : new Set(await this.storedPaths());
    for (const spec of unindexed) {
      readings.set(
        spec.path,
        stored.has(spec.path)
          ? { read: { path: spec.path, status: "not-indexed", problem: "stored but absent from the index" } }
          : { read: { path: spec.path, status: "missing" } },
      );
    }
    const verified = (path: string): unknown => {
      const reading = readings.get(path);
      return reading?.read.status === "verified" ? reading.value : undefined;
    };
    const manifest = verified(ARTIFACTS.manifest.path) as Manifest | undefined;
    const sealProblems =
      manifest === undefined
        ? []
        : checkSeal(
            this.run.runId,
            manifest,
            rows,
            verified(ARTIFACTS.artifactIndex.path) as ArtifactIndex | undefined,
            verified(ARTIFACTS.events.path) as unknown[] | undefined,
          );
    // The receipt (runs sealed before receipts have none) commits the decision and the report to the sealed root.
    const receipt = verified(ARTIFACTS.receipt.path) as RunReceipt | undefined;
    if (manifest !== undefined && receipt !== undefined)
      sealProblems.push(...checkReceipt(receipt, this.run, manifest.merkle.root, (p) => rows.get(p)?.sha256));
    return { rows, readings, sealProblems, ...(manifest ? { manifest } : {}) };
  }

  /** Paths (relative to the run's folder) of every blob stored under it, indexed or not. */
  async storedPaths(): Promise<string[]> {
    return (await this.deps.store.listBlobNames(this.prefix))
      .filter((name) => name.startsWith(this.prefix))
      .map((name) => name.slice(this.prefix.length));
  }

  /**
   * Stores bytes under the run's folder, create-once: identical bytes already there are a success (`created:
   * false`), different bytes an EvidenceConflictError and nothing changes.
   */
  async putBytes(path: string, bytes: Uint8Array, contentType: string): Promise<StoredArtifact> {
    try {
      const stored = await this.deps.store.put(this.run, path, bytes, contentType);
      // Create-once: the blob now holds exactly these bytes (see recentEvidence for who may use them).
      recentEvidence.remember(stored.blobName, stored.sha256, bytes);
      return stored;
    } finally {
      this.forget(path);
    }
  }

  /** Stores a JSON (or JSONL, given an array) artifact as canonical JSON after checking it against its schema. */
  async put(spec: ArtifactSpec, value: unknown): Promise<StoredArtifact> {
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
    return this.putBytes(spec.path, bytes, spec.contentType);
  }

  /**
   * Indexes stored artifacts of the run (create-once rows). On success the session knows the rows without reading
   * them back: a create-once write that succeeded means the table holds exactly these rows (a retry that found them
   * compared every field, and a differing row is an IndexConflictError). On failure its view of the index is
   * dropped and read again. While indexing is deferred the rows wait for {@link flushIndex}.
   */
  async index(artifacts: readonly (StoredArtifact & { merkleLeaf: boolean })[]): Promise<void> {
    if (this.pending !== undefined) {
      this.pending.push(...artifacts);
      this.know(artifacts);
      return;
    }
    try {
      await this.deps.index.indexArtifacts(this.run, artifacts);
    } catch (error) {
      this.rowsMemo = undefined;
      for (const a of artifacts) this.forget(a.path);
      throw error;
    }
    this.know(artifacts);
  }

  /**
   * From now on {@link index} gathers rows instead of writing them; {@link flushIndex} writes them all in one
   * transaction per 100 rows (the finishing step indexes the exit code, the report and the receipt at once). Reads
   * in between are verified against the gathered rows, which are exactly what the flush writes.
   */
  deferIndexing(): void {
    this.pending ??= [];
  }

  /** Writes the rows gathered since {@link deferIndexing} and stops deferring. */
  async flushIndex(): Promise<void> {
    const pending = this.pending ?? [];
    this.pending = undefined;
    if (pending.length > 0) await this.index(pending);
  }

  /** Records rows the index holds (or will hold at the flush): lookups and the rows memo answer from them. */
  private know(artifacts: readonly (StoredArtifact & { merkleLeaf: boolean })[]): void {
    const rows = artifacts.map((a) => artifactRowOf(this.run, a));
    const known = this.rowsMemo;
    if (known !== undefined) {
      const updated = known.then((m) => new Map([...m, ...rows.map((r) => [r.path, r] as const)]));
      this.rowsMemo = remember(updated, () => {
        if (this.rowsMemo === updated) this.rowsMemo = undefined;
      });
    }
    for (const row of rows) {
      this.forget(row.path);
      this.lookups.set(row.path, Promise.resolve(this.classify(row)));
    }
  }

  private forget(path: string): void {
    this.lookups.delete(path);
    this.loads.delete(path);
    this.readings.delete(path);
  }
}

/** A memoised promise that removes itself from its memo when it fails, so a transient error is not remembered. */
function remember<T>(promise: Promise<T>, drop: () => void): Promise<T> {
  promise.catch(drop);
  return promise;
}

/** The memo's promise for `key`, made on first use; a failed one is dropped so the next call tries again. */
function memoised<T>(memo: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  const known = memo.get(key);
  if (known !== undefined) return known;
  const made = make();
  memo.set(key, made);
  return remember(made, () => {
    if (memo.get(key) === made) memo.delete(key);
  });
}

/** Opens a run-bound evidence session over the store and the index. */
export function openEvidenceSession(deps: EvidenceDeps, run: RunRef): EvidenceSession {
  return new EvidenceSession(deps, run);
}
