import type { Diagnostics } from "../../schemas/artifacts/catalog";
import type { ScriptSource } from "../../schemas/artifacts/source";
import type { DiagnosticsOutput } from "../../schemas/device/diagnostics";
import { describeMissing, provenance } from "./conversion";

const SECTIONS = ["eventLogErrors", "updateAgentErrors", "disks"] as const;

/**
 * `diagnostics` output → `diagnostics.json`. Status `failed` when a section is null or the script reported any
 * error: a required diagnostics phase (230) must not pass on a partial look.
 */
export function toDiagnostics(output: DiagnosticsOutput, source: ScriptSource): Diagnostics {
  const d = output.data;
  const nullSections: string[] = SECTIONS.filter((section) => d[section] === null);
  // Errors on sections that still reported (or on `parameters`) are named too, in the order the script gave them.
  const otherSections = [...new Set(output.errors.map((e) => e.section))].filter((s) => !nullSections.includes(s));
  const failed = [...nullSections, ...otherSections];
  return {
    ...provenance(source, output.errors),
    schemaVersion: 1,
    collectedAt: d.collectedAt,
    status: failed.length === 0 ? "ok" : "failed",
    ...(failed.length === 0
      ? {}
      : { failureReason: `diagnostics incomplete: ${describeMissing(failed, output.errors)}` }),
    eventLogErrors: d.eventLogErrors ?? [],
    updateAgentErrors: d.updateAgentErrors ?? [],
    disks: d.disks ?? [],
  };
}
