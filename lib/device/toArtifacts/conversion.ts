import type { ScriptSource } from "../../schemas/artifacts/source";
import type { ScriptError } from "../../schemas/device/envelope";

/** A conversion that can refuse: the artifact, or why the output cannot stand as one (recorded as a phase failure). */
export type Conversion<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The provenance fields every device-derived artifact carries: which script ran, and what it could not collect. */
export function provenance(
  source: ScriptSource,
  errors: readonly ScriptError[],
): { source: ScriptSource; collectionErrors: ScriptError[] } {
  // Copies, so a later edit of the parsed output document cannot change an artifact already built from it.
  return { source: { ...source }, collectionErrors: errors.map((e) => ({ ...e })) };
}

/** "services (systemctl not found); apps (no reason given)": the sections of a document that are null, and why. */
export function describeMissing(sections: readonly string[], errors: readonly ScriptError[]): string {
  return sections
    .map((section) => {
      const said = errors
        .filter((e) => e.section === section)
        .map((e) => (e.code === undefined ? e.message : `${e.message} [${e.code}]`));
      return `${section} (${said.length > 0 ? said.join("; ") : "no reason given"})`;
    })
    .join("; ");
}
