import { buildRunEvents } from "../../lib/azure/events/buildEvents";
import type { EventPublisher } from "../../lib/azure/events/eventPublisher";
import { readRunEventData } from "../../lib/azure/events/readRunEventData";
import { openEvidenceSession, type EvidenceDeps } from "../../lib/evidence/evidenceSession";
import { PublishRunEventsInputSchema, type PublishEventsResult } from "../../lib/schemas/activities";

/** Text of the skip reason when no topic is configured. */
export const NO_TOPIC = "no Event Grid topic is configured (PATCHPILOT_EVENTGRID_TOPIC_ENDPOINT)";

/**
 * Builds the activity that publishes a finished run's CloudEvents (run.completed, and regression.detected /
 * install.failed / reboot.required / evidence.integrity_failed by exit code). It runs after the exit code and the
 * report exist and reads them back verified, so an event never says more than the evidence does. Ids are derived
 * from the run and the type: a retry re-sends identical events, which subscribers drop.
 */
export function makePublishRunEvents(deps: { evidence: EvidenceDeps; publisher: EventPublisher | undefined }) {
  return async function publishRunEvents(rawInput: unknown): Promise<PublishEventsResult> {
    const input = PublishRunEventsInputSchema.parse(rawInput);
    const { run } = input;
    const publisher = deps.publisher;
    if (publisher === undefined) return { published: [], skipped: NO_TOPIC };
    // Through the run's evidence session: every artifact verified and confined to the run's folder (a row naming
    // another run's blob is neither read nor cited).
    const data = await readRunEventData(openEvidenceSession(deps.evidence, run), {
      facts: { trigger: input.trigger, dryRun: input.dryRun },
      at: input.at,
      ...(input.finishFailure === undefined ? {} : { finishFailure: input.finishFailure }),
      ...(input.eventData === undefined ? {} : { eventData: input.eventData }),
    });
    const events = buildRunEvents(data);
    await publisher.send(events);
    return { published: events.map((e) => ({ id: e.id, type: e.type })) };
  };
}
