import { buildDeploymentEvents } from "../../lib/azure/events/deploymentEvents";
import type { EventPublisher } from "../../lib/azure/events/eventPublisher";
import type { EvidenceDeps } from "../../lib/evidence/runEvidence";
import { sha256Hex } from "../../lib/evidence/sha256";
import { StoredWindowReportSchema, type PublishEventsResult } from "../../lib/schemas/activities";
import { DeploymentReportSchema } from "../../lib/schemas/deployment";
import { NO_TOPIC } from "./publishRunEvents";

/**
 * Builds the activity that publishes an emergency deployment's CloudEvents from its deployment-report.json, read back
 * and checked against the hash it was written with (as window events are).
 */
export function makePublishDeploymentEvents(deps: { evidence: EvidenceDeps; publisher: EventPublisher | undefined }) {
  return async function publishDeploymentEvents(rawInput: unknown): Promise<PublishEventsResult> {
    const stored = StoredWindowReportSchema.parse(rawInput);
    if (deps.publisher === undefined) return { published: [], skipped: NO_TOPIC };
    const bytes = await deps.evidence.store.readBlob(stored.path);
    if (bytes === undefined) throw new Error(`deployment report ${stored.path} is gone; no event is published`);
    const actual = sha256Hex(bytes);
    if (actual !== stored.sha256)
      throw new Error(
        `deployment report ${stored.path} hashes to ${actual}, written as ${stored.sha256}; no event is published`,
      );
    const report = DeploymentReportSchema.parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
    const events = buildDeploymentEvents(report, stored);
    await deps.publisher.send(events);
    return { published: events.map((e) => ({ id: e.id, type: e.type })) };
  };
}
