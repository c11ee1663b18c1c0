import { PHASES } from "../../domain/artifacts";
import type { StoredArtifact } from "../../evidence/blobStore";
import { canonicalJsonBytes } from "../../evidence/canonicalJson";
import { ArtifactSchemaError, type BytesReading, type EvidenceSession } from "../../evidence/evidenceSession";
import { artifactBlobName, toTableKey } from "../../evidence/keys";
import type { StoredEventData } from "../../schemas/deviceRun";
import { RunEventDataSchema, type RunEventData } from "./eventData";

/**
 * `11-report/event-data.json`: the `data` of the run's events (without its transparency-log entry, appended after it is
 * written), built by the finishing step from the same verified reads as the exit code and the report, stored
 * create-once and indexed with them. The publish step reads this one artifact (verified against its index row)
 * instead of the nine the data is built from. Not sealed in the Merkle tree: like the report, it follows the seal.
 */
export const RUN_EVENT_DATA_PATH = `${PHASES.report}/event-data.json`;

/** Stores the event data (schema-checked, canonical JSON, create-once) and indexes it through the session. */
export async function writeRunEventData(session: EvidenceSession, data: RunEventData): Promise<StoredArtifact> {
  const parsed = RunEventDataSchema.safeParse(data);
  if (!parsed.success) throw new ArtifactSchemaError(RUN_EVENT_DATA_PATH, parsed.error.message);
  const stored = await session.putBytes(RUN_EVENT_DATA_PATH, canonicalJsonBytes(parsed.data), "application/json");
  await session.index([{ ...stored, merkleLeaf: false }]);
  return stored;
}

/**
 * The stored event data, verified (confined to the run, SHA-256 and size against its index row, then its schema);
 * undefined when the run has none indexed (runs finished before it existed) or it does not verify, and the caller
 * builds the data from the evidence itself. Storage errors propagate: "could not look" is never "none".
 */
export async function readSealedRunEventData(
  session: EvidenceSession,
  written?: StoredEventData,
): Promise<RunEventData | undefined> {
  let loaded: BytesReading;
  if (written !== undefined) {
    // The finish's own reference (its result, through the orchestration): the blob is checked against the SHA-256
    // and size it wrote create-once and indexed with that same row, so the row need not be looked up first.
    const { run } = session;
    loaded = await session.readBytesAgainst(RUN_EVENT_DATA_PATH, {
      partitionKey: run.runId,
      rowKey: toTableKey(RUN_EVENT_DATA_PATH),
      path: RUN_EVENT_DATA_PATH,
      blobName: artifactBlobName(run, RUN_EVENT_DATA_PATH),
      merkleLeaf: false,
      ...written,
    });
  } else {
    // Without an index row there is nothing to verify against: nothing is read (not even to tell why).
    if ((await session.lookup(RUN_EVENT_DATA_PATH)).status !== "found") return undefined;
    loaded = await session.readBytes(RUN_EVENT_DATA_PATH);
  }
  if (loaded.bytes === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(loaded.bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  const parsed = RunEventDataSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
