import type { ActivityHandler } from "durable-functions";
import { evidenceExport } from "../orchestrators/evidenceExport";
import { EXPORT_ACTIVITIES, EXPORT_ORCHESTRATOR } from "../orchestrators/exportNames";
import { makeBuildEvidenceExport } from "./activities/buildEvidenceExport";
import { makeFailEvidenceExport } from "./activities/failEvidenceExport";
import type { AppDeps, FunctionDefinition } from "./definitions";

/** The evidence export's orchestrator and activities, bound to dependencies resolved on first use. */
export function exportDefinitions(getDeps: () => AppDeps): FunctionDefinition[] {
  const activity = (name: string, handler: ActivityHandler): FunctionDefinition => ({
    kind: "activity",
    name,
    handler,
  });
  return [
    activity(EXPORT_ACTIVITIES.buildEvidenceExport, (input: unknown) => makeBuildEvidenceExport(getDeps())(input)),
    activity(EXPORT_ACTIVITIES.failEvidenceExport, (input: unknown) => makeFailEvidenceExport(getDeps())(input)),
    { kind: "orchestrator", name: EXPORT_ORCHESTRATOR, handler: evidenceExport },
  ];
}
