import type { ActivityName } from "../lib/schemas/activities";

/** Activity names of the evidence export (contracts in lib/schemas/activities.ts, like every activity's). */
export const EXPORT_ACTIVITIES = {
  buildEvidenceExport: "buildEvidenceExport",
  failEvidenceExport: "failEvidenceExport",
} as const satisfies { readonly [N in ActivityName]?: N };

/** Orchestrator that builds one export package (instance id: the export id). */
export const EXPORT_ORCHESTRATOR = "evidenceExport";
