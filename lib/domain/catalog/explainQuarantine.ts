import type { CatalogEntry } from "../../schemas/artifacts/catalog";
import type { QuarantineEntry } from "../../schemas/quarantine";

function matches(entry: CatalogEntry, q: QuarantineEntry): boolean {
  if (q.update.kind === "kb") return entry.kb === q.update.kb;
  return entry.kb === undefined && entry.updateId === q.update.name;
}

/** Who quarantined it and where, in words an engineer reading catalog.json can act on. */
function describe(q: QuarantineEntry): string {
  const where = q.scope === "tenant" ? "for every client of the tenant" : `for client ${q.client ?? ""}`;
  const runs = q.source.runs.length > 0 ? ` after run ${q.source.runs.join(", ")}` : "";
  return `quarantined ${where} since ${q.quarantinedAt}${runs} (entry ${q.id}: ${q.reason}); an operator lifts it through the API`;
}

/**
 * Catalog entries excluded because of a quarantine say so (the generic "is in excludeKbs" would hide why a
 * security update was held back, and who can let it back in).
 */
export function explainQuarantine(
  entries: readonly CatalogEntry[],
  quarantine: readonly QuarantineEntry[],
): CatalogEntry[] {
  return entries.map((entry) => {
    if (entry.decision !== "excluded") return entry;
    const q = quarantine.find((x) => x.lifted === undefined && matches(entry, x));
    return q === undefined ? entry : { ...entry, reason: describe(q) };
  });
}
