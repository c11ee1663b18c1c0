import type { RowLookup } from "../../evidence/evidenceSession";
import type { ProofCheck } from "../../schemas/api/installs";

/** A SHA-256 some record claims for an artifact, or why that record could not say. */
export interface ClaimedHash {
  /** Who claims it, for the detail: "Installs row", "Artifacts row", "manifest.json". */
  source: string;
  sha256?: string;
  problem?: string;
}

/** The claim an Artifacts row makes. */
export function rowClaim(lookup: RowLookup | undefined): ClaimedHash {
  const source = "Artifacts row";
  if (lookup === undefined || lookup.status === "missing") return { source, problem: "absent" };
  if (lookup.status === "invalid") return { source, problem: `not a valid row (${lookup.problem})` };
  // Its hash is not a claim about this run's bytes: the row names a blob elsewhere (never repeated: it may be another
  // tenant's).
  if (lookup.status === "outside") return { source, problem: "names a blob outside this run's folder" };
  return { source, sha256: lookup.row.sha256 };
}

/** Passes when the artifact exists and every claim names the SHA-256 its bytes have now. */
export function hashCheck(
  name: string,
  subject: string,
  actual: string | undefined,
  claims: readonly ClaimedHash[],
): ProofCheck {
  if (actual === undefined) return { name, ok: false, detail: `${subject} is missing` };
  const problems: string[] = [];
  for (const claim of claims) {
    if (claim.problem !== undefined) problems.push(`${claim.source}: ${claim.problem}`);
    else if (claim.sha256 !== actual)
      problems.push(`${claim.source} says ${claim.sha256 ?? "nothing"}, ${subject} hashes to ${actual}`);
  }
  return problems.length === 0 ? { name, ok: true } : { name, ok: false, detail: problems.join("; ") };
}
