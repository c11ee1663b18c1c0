import { ARTIFACTS, parseArtifact, type ArtifactSpec } from "../../domain/artifacts";
import { verifyEventChain } from "../../evidence/hashChain";
import { merkleRootHex } from "../../evidence/seal";
import { sha256Hex } from "../../evidence/sha256";
import type { ProofCheck } from "../../schemas/api/installs";
import type { ArtifactIndex, Manifest } from "../../schemas/artifacts/integrity";
import { hashCheck, rowClaim } from "./hashCheck";
import type { ProofInputs } from "./readProofInputs";

/** A run's seal, re-verified: the checks every record of the run shares, and the documents that passed their schema. */
export interface RunSeal {
  checks: ProofCheck[];
  index?: ArtifactIndex;
  manifest?: Manifest;
  manifestSha256?: string;
}

/** A stored seal document: parsed when present and schema-valid, otherwise why not. */
type Parsed<T> = { value: T } | { problem: string };

function parseDocument<T>(inputs: ProofInputs, spec: ArtifactSpec): Parsed<T> {
  const bytes = inputs.blobs.get(spec.path);
  if (bytes === undefined) return { problem: `${spec.path} is missing` };
  const parsed = parseArtifact(spec, bytes);
  return parsed.ok ? { value: parsed.value as T } : { problem: `${spec.path}: ${parsed.problem}` };
}

/** A check that passes when nothing went wrong, with the problems as its detail. */
function fromProblems(name: string, problems: readonly string[]): ProofCheck {
  return problems.length === 0 ? { name, ok: true } : { name, ok: false, detail: problems.join("; ") };
}

function shaOf(inputs: ProofInputs, path: string): string | undefined {
  const bytes = inputs.blobs.get(path);
  return bytes === undefined ? undefined : sha256Hex(bytes);
}

/**
 * Recomputes a run's seal from its stored bytes: artifact-index.json against the manifest and its index row, the Merkle
 * root from the index, manifest.json against its index row and its run, and the event chain against the manifest's
 * head. Never throws: tampered or missing evidence is a failed check.
 */
export function checkRunSeal(inputs: ProofInputs): RunSeal {
  const { run } = inputs;
  const index = parseDocument<ArtifactIndex>(inputs, ARTIFACTS.artifactIndex);
  const manifest = parseDocument<Manifest>(inputs, ARTIFACTS.manifest);
  const m = "value" in manifest ? manifest.value : undefined;
  const ix = "value" in index ? index.value : undefined;
  const manifestProblem = "problem" in manifest ? manifest.problem : undefined;
  const checks: ProofCheck[] = [];

  checks.push(
    hashCheck("artifactIndex.sha256", ARTIFACTS.artifactIndex.path, shaOf(inputs, ARTIFACTS.artifactIndex.path), [
      {
        source: "manifest.json",
        ...(m !== undefined ? { sha256: m.artifactIndexSha256 } : { problem: manifestProblem }),
      },
      rowClaim(inputs.rows.get(ARTIFACTS.artifactIndex.path)),
    ]),
  );

  const rootProblems: string[] = [];
  if ("problem" in index) rootProblems.push(index.problem);
  if (manifestProblem !== undefined) rootProblems.push(manifestProblem);
  if (ix !== undefined && m !== undefined) {
    const recomputed = merkleRootHex(ix.entries);
    if (recomputed !== m.merkle.root)
      rootProblems.push(
        `root recomputed from ${ARTIFACTS.artifactIndex.path} is ${recomputed}, the manifest seals ${m.merkle.root}`,
      );
    if (ix.entries.length !== m.merkle.leafCount)
      rootProblems.push(`${ix.entries.length} leaves, the manifest seals ${m.merkle.leafCount}`);
  }
  checks.push(fromProblems("merkle.root", rootProblems));

  const manifestSha256 = shaOf(inputs, ARTIFACTS.manifest.path);
  checks.push(
    hashCheck("manifest.sha256", ARTIFACTS.manifest.path, manifestSha256, [
      rowClaim(inputs.rows.get(ARTIFACTS.manifest.path)),
    ]),
  );

  // Binds the seal to this tenant, client, device and run: a sealed run copied under another prefix does not pass.
  const runProblems: string[] = [];
  if (manifestProblem !== undefined) runProblems.push(manifestProblem);
  if (m !== undefined) {
    // Names the fields that differ, never their values: a misfiled manifest may name another tenant.
    const differ = (["tenant", "client", "device", "runId"] as const).filter((k) => m.run[k] !== run[k]);
    if (differ.length > 0) runProblems.push(`the manifest seals a different ${differ.join(", ")}`);
  }
  if (ix !== undefined && ix.runId !== run.runId)
    runProblems.push(`${ARTIFACTS.artifactIndex.path} lists a different run`);
  checks.push(fromProblems("manifest.run", runProblems));

  checks.push(checkEvents(inputs, ix, m, manifestProblem));

  return {
    checks,
    ...(ix !== undefined ? { index: ix } : {}),
    ...(m !== undefined ? { manifest: m } : {}),
    ...(manifestSha256 !== undefined ? { manifestSha256 } : {}),
  };
}

/** events.jsonl: a leaf of the index with the hash it has now, every link intact, ending at the manifest's head. */
function checkEvents(
  inputs: ProofInputs,
  index: ArtifactIndex | undefined,
  manifest: Manifest | undefined,
  manifestProblem: string | undefined,
): ProofCheck {
  const name = "events.chain";
  const path = ARTIFACTS.events.path;
  const bytes = inputs.blobs.get(path);
  if (bytes === undefined) return { name, ok: false, detail: `${path} is missing` };
  const problems: string[] = [];
  if (index !== undefined) {
    const entry = index.entries.find((e) => e.path === path);
    const actual = sha256Hex(bytes);
    if (entry === undefined) problems.push(`${path} is not a leaf of ${ARTIFACTS.artifactIndex.path}`);
    else if (entry.sha256 !== actual)
      problems.push(`${ARTIFACTS.artifactIndex.path} says ${entry.sha256}, ${path} hashes to ${actual}`);
  }
  const chain = verifyEventChain(bytes, inputs.run.runId);
  problems.push(...chain.problems);
  if (manifest === undefined) problems.push(manifestProblem ?? "no manifest");
  else {
    if (chain.head !== manifest.events.chainHead)
      problems.push(`chain ends at ${chain.head}, the manifest seals ${manifest.events.chainHead}`);
    if (chain.count !== manifest.events.count)
      problems.push(`${chain.count} events, the manifest seals ${manifest.events.count}`);
  }
  return fromProblems(name, problems);
}
