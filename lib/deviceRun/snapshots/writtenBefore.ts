import { parseArtifact, type ArtifactSpec } from "../../domain/artifacts";
import type { RecordStepContext } from "../recordStep";

/**
 * The record an ARM-side action of this run already wrote, if any. An action's record is not a pure function of its
 * input (ARM's state moves: a retried snapshot finds its snapshots taken and the old ones already deleted), so a retried
 * call must not write it again: it reads back what the first attempt stored, also when the first attempt failed after
 * the write and before its state (the stored list) was saved, and records that reference (the same canonical bytes).
 */
export async function writtenBefore<T>(ctx: RecordStepContext, spec: ArtifactSpec): Promise<T | undefined> {
  const known = await ctx.facts.read<T>(spec);
  if (known !== undefined) return known;
  const bytes = await ctx.evidence.store.get(ctx.run, spec.path);
  if (bytes === undefined) return undefined;
  const parsed = parseArtifact(spec, bytes);
  if (!parsed.ok) throw new Error(`${spec.path} of run ${ctx.run.runId} does not parse: ${parsed.problem}`);
  // The document as stored (canonical JSON: put again, it gives the same bytes and so the same reference).
  const value = JSON.parse(bytes.toString("utf8")) as T;
  await ctx.stored.put(ctx.evidence, ctx.run, spec, value);
  return value;
}
