import type { CatalogEntry } from "../../schemas/artifacts/catalog";
import type { ReleaseAllowance } from "../../schemas/release";

type Allowed = ReleaseAllowance["updates"][number];

/** The same bits: the WUA update id (any case) and revision, or the package name and exact candidate version. */
function sameBits(entry: Pick<CatalogEntry, "updateId" | "revision" | "version">, allowed: Allowed): boolean {
  if (entry.updateId.toLowerCase() !== allowed.updateId.toLowerCase()) return false;
  if (allowed.revision !== undefined && entry.revision !== undefined && allowed.revision !== entry.revision)
    return false;
  return allowed.version === undefined || allowed.version === entry.version;
}

/**
 * A policy-approved catalog entry under a promoted release: approved only when the release has the same bits (then
 * the entry names the release and the proof of the run that installed them in the earlier ring); anything else is
 * held for the next cycle, saying which release left it out. Excluded entries stay excluded: a release never widens
 * the device's own policy.
 */
export function applyRelease(entry: CatalogEntry, release: ReleaseAllowance): CatalogEntry {
  if (entry.decision !== "approved") return entry;
  const allowed = release.updates.find((a) => sameBits(entry, a));
  if (allowed === undefined) {
    const other = release.updates.find((a) => a.updateId.toLowerCase() === entry.updateId.toLowerCase());
    const why =
      other === undefined
        ? `held: not in release ${release.id}`
        : `held: release ${release.id} has ${other.version ?? `revision ${other.revision ?? "?"}`}, the device offers ${entry.version ?? `revision ${entry.revision ?? "?"}`}`;
    return { ...entry, decision: "excluded", reason: `${why} (policy said: ${entry.reason})` };
  }
  return {
    ...entry,
    reason: `approved by release ${release.id} (installed in run ${allowed.proof.runId}); policy: ${entry.reason}`,
    release: {
      id: release.id,
      sha256: release.sha256,
      proof: allowed.proof,
    },
  };
}
