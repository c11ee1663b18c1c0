import { evaluateDiagnosticsRules } from "../../domain/diagnostics/evaluateDiagnosticsRules";
import type { Diagnostics } from "../../schemas/artifacts/catalog";
import type { ScriptSource } from "../../schemas/artifacts/source";
import type { DiagnosticsOutput } from "../../schemas/device/diagnostics";
import type { DiagnosticsRule } from "../../schemas/policies";
import { describeMissing, provenance } from "./conversion";

const SECTIONS = ["eventLogErrors", "updateAgentErrors", "serviceRestarts", "disks"] as const;

/** The policy's rules and what they judge against; rules are evaluated over the collected sections. */
export interface DiagnosticsJudgement {
  rules: readonly DiagnosticsRule[];
  os: "windows" | "linux";
  runStartedAt: string;
}

/**
 * `diagnostics` output → `diagnostics.json`. Status `failed` when a section is null or the script reported any
 * error: a required diagnostics phase (230) must not pass on a partial look. With a judgement, each policy rule's
 * verdict, inputs and detail are recorded in `rules` (a failing rule is a 230 when diagnostics are required).
 */
export function toDiagnostics(
  output: DiagnosticsOutput,
  source: ScriptSource,
  judgement?: DiagnosticsJudgement,
): Diagnostics {
  const d = output.data;
  // serviceRestarts is absent (not null) in documents written before the section existed.
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
    ...(d.serviceRestarts === undefined || d.serviceRestarts === null ? {} : { serviceRestarts: d.serviceRestarts }),
    ...(judgement === undefined
      ? {}
      : {
          rules: evaluateDiagnosticsRules(judgement.rules, {
            data: d,
            os: judgement.os,
            runStartedAt: judgement.runStartedAt,
          }),
        }),
  };
}
