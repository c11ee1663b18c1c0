import { RunEventSchema, type RunEvent } from "../schemas/artifacts/integrity";
import { canonicalJson, canonicalJsonLinesBytes } from "./canonicalJson";
import { sha256Hex } from "./sha256";

/** `prevHash` of the first event of a run. */
export const GENESIS_HASH = "0".repeat(64);

/** What the caller says happened; sequence, chaining and hashing are added here. */
export interface RunEventInput {
  at: string;
  type: string;
  phase?: string;
  data?: Record<string, unknown>;
}

/** SHA-256 over the canonical JSON of an event without its `hash` field. */
export function eventHash(event: Omit<RunEvent, "hash">): string {
  return sha256Hex(canonicalJson(event));
}

/** Chains events: each carries the hash of the one before it, so removing or editing one breaks every later hash. */
export function chainEvents(runId: string, inputs: readonly RunEventInput[]): RunEvent[] {
  const events: RunEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (const [seq, input] of inputs.entries()) {
    const body: Omit<RunEvent, "hash"> = {
      schemaVersion: 1,
      seq,
      runId,
      at: input.at,
      type: input.type,
      ...(input.phase !== undefined ? { phase: input.phase } : {}),
      data: input.data ?? {},
      prevHash,
    };
    const hash = eventHash(body);
    events.push({ ...body, hash });
    prevHash = hash;
  }
  return events;
}

/** `events.jsonl` bytes: one canonical event per line. */
export function sealEvents(events: readonly RunEvent[]): Buffer {
  return canonicalJsonLinesBytes(events);
}

/** Result of checking an event chain. */
export interface ChainVerification {
  ok: boolean;
  count: number;
  /** Hash of the last event (GENESIS_HASH for an empty chain). */
  head: string;
  problems: string[];
}

/** Re-derives every hash and link of an `events.jsonl`; never throws. */
export function verifyEventChain(bytes: Uint8Array, runId: string): ChainVerification {
  const lines = Buffer.from(bytes)
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "");
  const parsed: unknown[] = [];
  for (const [i, line] of lines.entries()) {
    try {
      parsed.push(JSON.parse(line));
    } catch {
      return { ok: false, count: lines.length, head: GENESIS_HASH, problems: [`line ${i + 1}: not JSON`] };
    }
  }
  return verifyEvents(parsed, runId);
}

/** Re-derives every hash and link of parsed events; never throws. */
export function verifyEvents(events: readonly unknown[], runId: string): ChainVerification {
  const problems: string[] = [];
  let prevHash = GENESIS_HASH;
  for (const [i, parsed] of events.entries()) {
    const result = RunEventSchema.safeParse(parsed);
    if (!result.success) {
      problems.push(`line ${i + 1}: not a run event (${result.error.issues[0]?.message ?? "invalid"})`);
      return { ok: false, count: events.length, head: prevHash, problems };
    }
    const { hash, ...body } = result.data;
    if (body.seq !== i) problems.push(`line ${i + 1}: seq ${body.seq}, expected ${i}`);
    if (body.runId !== runId) problems.push(`line ${i + 1}: belongs to run ${body.runId}`);
    if (body.prevHash !== prevHash) problems.push(`line ${i + 1}: prevHash does not match the previous event`);
    const recomputed = eventHash(body);
    if (recomputed !== hash) problems.push(`line ${i + 1}: hash ${hash} does not match content (${recomputed})`);
    prevHash = hash;
  }
  return { ok: problems.length === 0, count: events.length, head: prevHash, problems };
}
