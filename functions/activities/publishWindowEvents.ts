import { buildWindowEvents } from "../../lib/azure/events/buildEvents";
import type { EventPublisher } from "../../lib/azure/events/eventPublisher";
import { assembleWindowEventData } from "../../lib/azure/events/windowEventData";
import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import { sha256Hex } from "../../lib/evidence/sha256";
import { PublishWindowEventsInputSchema, type PublishEventsResult } from "../../lib/schemas/activities";
import { WindowReportSchema } from "../../lib/schemas/window";
import { NO_TOPIC } from "./publishRunEvents";

/**
 * Builds the activity that publishes a window occurrence's CloudEvents (window.completed, and window.halted when a
 * safety stop left targets unpatched), from its window-report.json read back and checked against the hash it was
 * written with.
 */
export function makePublishWindowEvents(deps: { evidence: EvidenceDeps; publisher: EventPublisher | undefined }) {
  return async function publishWindowEvents(rawInput: unknown): Promise<PublishEventsResult> {
    const stored = PublishWindowEventsInputSchema.parse(rawInput);
    if (deps.publisher === undefined) return { published: [], skipped: NO_TOPIC };
    const bytes = await deps.evidence.store.readBlob(stored.path);
    if (bytes === undefined) throw new Error(`window report ${stored.path} is gone; no event is published`);
    const actual = sha256Hex(bytes);
    if (actual !== stored.sha256)
      throw new Error(
        `window report ${stored.path} hashes to ${actual}, written as ${stored.sha256}; no event is published`,
      );
    const report = WindowReportSchema.parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
    const events = buildWindowEvents(assembleWindowEventData(report, stored));
    await deps.publisher.send(events);
    return { published: events.map((e) => ({ id: e.id, type: e.type })) };
  };
}
