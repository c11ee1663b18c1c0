import type { InvocationContext } from "@azure/functions";
import { PatchCloudEventSchema } from "../../lib/azure/events/eventData";
import type { IngestionLedger } from "../../lib/azure/logs/ingestionLedger";
import type { LogsIngester } from "../../lib/azure/logs/logsIngester";
import { toLogRows } from "../../lib/azure/logs/toLogRows";

/** The name infra/modules/eventSubscription.bicep subscribes to the topic. */
export const INGEST_FUNCTION_NAME = "ingestPatchEvents";

/** An event that is not a CloudEvent PatchPilot could have sent; retrying cannot help, so it dead-letters. */
export class MalformedEventError extends Error {
  constructor(readonly problem: string) {
    super(`not a PatchPilot CloudEvent: ${problem}`);
    this.name = "MalformedEventError";
  }
}

/**
 * Builds the Event Grid-triggered function that turns PatchPilot's CloudEvents into Log Analytics rows
 * (PatchPilotRuns_CL, PatchPilotUpdates_CL, PatchPilotWindows_CL) through the Logs Ingestion API. A redelivered
 * event is acknowledged without a second upload (see IngestionLedger). Failures throw: the Functions host answers
 * non-2xx and Event Grid retries, then dead-letters into the subscription's dead-letter container
 * (infra/modules/eventSubscription.bicep), so a row is never silently dropped. Malformed events are thrown too:
 * they cannot succeed, and the dead-letter container keeps them whole for inspection.
 */
export function makeIngestPatchEvents(deps: { ledger: IngestionLedger; ingester: LogsIngester | undefined }) {
  return async function ingestPatchEvents(raw: unknown, context: InvocationContext): Promise<void> {
    const parsed = PatchCloudEventSchema.safeParse(raw);
    if (!parsed.success) throw new MalformedEventError(parsed.error.message);
    const event = parsed.data;
    const rows = toLogRows(event);
    const count = rows.runs.length + rows.updates.length + rows.windows.length;
    if (count === 0) return; // alert-only types (regression.detected, ...): run.completed carries their rows
    if (deps.ingester === undefined) {
      throw new Error(
        "Logs Ingestion is not configured (PATCHPILOT_LOGS_INGESTION_ENDPOINT and PATCHPILOT_LOGS_DCR_IMMUTABLE_ID)",
      );
    }
    const claim = await deps.ledger.claim(event.source, event.id);
    if (claim.kind === "already-ingested") {
      context.log(`event ${event.id} was ingested already; redelivery acknowledged without rows`);
      return;
    }
    try {
      await deps.ingester.upload(rows);
    } catch (error) {
      await deps.ledger.release(event.source, event.id, claim.etag);
      throw error;
    }
    await deps.ledger.markIngested(event.source, event.id, count);
    context.log(
      `event ${event.id}: ${rows.runs.length} run, ${rows.updates.length} update, ${rows.windows.length} window rows ingested`,
    );
  };
}
