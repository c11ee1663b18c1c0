/** Activity names of the evidence export; functions/exportDefinitions.ts registers handlers under exactly these names. */
export const EXPORT_ACTIVITIES = {
  buildEvidenceExport: "buildEvidenceExport",
  failEvidenceExport: "failEvidenceExport",
} as const;

/** Orchestrator that builds one export package (instance id: the export id). */
export const EXPORT_ORCHESTRATOR = "evidenceExport";
