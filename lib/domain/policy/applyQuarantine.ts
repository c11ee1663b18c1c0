import type { QuarantineEntry } from "../../schemas/quarantine";
import type { PolicyOverlayResult } from "./overlay";

/** Provenance of a quarantine exclusion: the entry, so run.json says which quarantine kept the update out. */
export function quarantineProvenance(entry: QuarantineEntry): string {
  return `quarantine:${entry.id}`;
}

const sortedUnion = (list: readonly string[], item: string): string[] =>
  list.includes(item) ? [...list] : [...list, item].sort();

/**
 * The effective policy with the quarantined updates excluded (after the overlay: a quarantine is not a layer an
 * author edits, and no layer's includeKbs can let a quarantined KB back in, because excludeKbs wins). Only entries
 * not lifted count. Where a layer already excluded the update, the layer stays its provenance.
 */
export function applyQuarantine(
  resolved: PolicyOverlayResult,
  entries: readonly QuarantineEntry[],
): PolicyOverlayResult {
  let update = resolved.policy.update;
  const provenance = { ...resolved.provenance };
  for (const entry of entries) {
    if (entry.lifted !== undefined) continue;
    if (entry.update.kind === "kb") {
      const key = `update.excludeKbs[${entry.update.kb}]`;
      if (!update.excludeKbs.includes(entry.update.kb)) provenance[key] = quarantineProvenance(entry);
      update = { ...update, excludeKbs: sortedUnion(update.excludeKbs, entry.update.kb) };
    } else {
      const key = `update.excludePackages[${entry.update.name}]`;
      if (!update.excludePackages.includes(entry.update.name)) provenance[key] = quarantineProvenance(entry);
      update = { ...update, excludePackages: sortedUnion(update.excludePackages, entry.update.name) };
    }
  }
  // Provenance keys stay sorted, as the overlay writes them (docs/policy-overlay.md).
  const sorted = Object.fromEntries(Object.entries(provenance).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { policy: { ...resolved.policy, update }, provenance: sorted };
}
