import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import {
  EvidenceExportInputSchema,
  type BuildEvidenceExportInput,
  type ExportSummary,
  type FailEvidenceExportInput,
} from "../lib/schemas/api/exports";
import { EXPORT_ACTIVITIES } from "./exportNames";
import { activityRetry } from "./retryPolicy";

/**
 * Builds one evidence export package: a single activity streams the zip into the exports container (retried on
 * transient faults; a retry rebuilds the whole package, which is derived data). `now` comes from the orchestration,
 * so a retried build stamps the package with the same time. If every attempt fails, the export is marked failed
 * with the message, then the orchestration fails with it.
 */
export const evidenceExport: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = EvidenceExportInputSchema.parse(context.df.getInput());
  const retry = activityRetry();
  try {
    const build: BuildEvidenceExportInput = { ...input, now: context.df.currentUtcDateTime.toISOString() };
    const summary = (yield context.df.callActivityWithRetry(
      EXPORT_ACTIVITIES.buildEvidenceExport,
      retry,
      build,
    )) as ExportSummary;
    return summary;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failed: FailEvidenceExportInput = { ...input, message, now: context.df.currentUtcDateTime.toISOString() };
    yield context.df.callActivityWithRetry(EXPORT_ACTIVITIES.failEvidenceExport, retry, failed);
    throw error;
  }
};
