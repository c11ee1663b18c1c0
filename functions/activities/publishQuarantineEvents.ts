import { buildQuarantineEvents } from "../../lib/azure/events/buildEvents";
import type { EventPublisher } from "../../lib/azure/events/eventPublisher";
import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import { readQuarantineDecision } from "../../lib/release/releaseStore";
import type { PublishEventsResult } from "../../lib/schemas/activities";
import { PublishQuarantineEventsInputSchema } from "../../lib/schemas/release";
import { NO_TOPIC } from "./publishRunEvents";

/**
 * Builds the activity that publishes `io.patchpilot.quarantine.created` for each sealed quarantine decision, read
 * back and checked against the hash it was sealed with (the event says what the evidence says).
 */
export function makePublishQuarantineEvents(deps: { evidence: EvidenceDeps; publisher: EventPublisher | undefined }) {
  return async function publishQuarantineEvents(rawInput: unknown): Promise<PublishEventsResult> {
    const input = PublishQuarantineEventsInputSchema.parse(rawInput);
    if (deps.publisher === undefined) return { published: [], skipped: NO_TOPIC };
    const events = [];
    for (const stored of input.decisions) {
      const d = await readQuarantineDecision(deps.evidence, stored);
      events.push(
        ...buildQuarantineEvents({
          tenant: d.tenant,
          scope: d.scope,
          key: d.key,
          entryId: d.entryId,
          reason: d.reason,
          quarantinedAt: d.quarantinedAt,
          clients: d.clients,
          runs: d.runs,
          threshold: d.threshold,
          window: d.window,
          recut: d.recut,
          decision: stored,
        }),
      );
    }
    await deps.publisher.send(events);
    return { published: events.map((e) => ({ id: e.id, type: e.type })) };
  };
}
