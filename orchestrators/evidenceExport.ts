import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import {
  EvidenceExportInputSchema,
  type BuildEvidenceExportInput,
  type FailEvidenceExportInput,
} from "../lib/schemas/api/exports";
import { callActivity } from "./callActivity";

/**
 * Builds one evidence export package: a single activity streams the zip into the exports container (retried on
 * transient faults; a retry rebuilds the whole package, which is derived data). `now` comes from the orchestration,
 * so a retried build stamps the package with the same time. If every attempt fails, the export is marked failed
 * with the message, then the orchestration fails with it.
 */
export const evidenceExport: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = EvidenceExportInputSchema.parse(context.df.getInput());
  try {
    const build: BuildEvidenceExportInput = { ...input, now: context.df.currentUtcDateTime.toISOString() };
    return yield* callActivity(context, "buildEvidenceExport", build);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failed: FailEvidenceExportInput = { ...input, message, now: context.df.currentUtcDateTime.toISOString() };
    yield* callActivity(context, "failEvidenceExport", failed);
    throw error;
  }
};
