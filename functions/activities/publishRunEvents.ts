import { ARTIFACTS, type ArtifactKey } from "../../lib/domain/artifacts";
import { buildRunEvents } from "../../lib/azure/events/buildEvents";
import type { RunEventData } from "../../lib/azure/events/eventData";
import type { EventPublisher } from "../../lib/azure/events/eventPublisher";
import { assembleRunEventData, unfinishedRunEventData } from "../../lib/azure/events/runEventData";
import { artifactBlobName, runPrefix } from "../../lib/evidence/keys";
import { readVerified, type EvidenceDeps } from "../../lib/evidence/runEvidence";
import type { InstallOutcome } from "../../lib/schemas/artifacts/catalog";
import type { Manifest } from "../../lib/schemas/artifacts/integrity";
import type { ExitCodeRecord, FinalReport } from "../../lib/schemas/artifacts/outcome";
import type { RunRecord } from "../../lib/schemas/artifacts/run";
import type { Regressions, ValidationReport } from "../../lib/schemas/artifacts/validation";
import { PublishRunEventsInputSchema, type PublishEventsResult } from "../../lib/schemas/activities";

/** The artifacts a run event cites with their sealed hashes, in the order an on-call engineer opens them. */
const CITED: readonly ArtifactKey[] = [
  "exitCode",
  "reportHtml",
  "finalReport",
  "regressions",
  "preValidation",
  "postValidation",
  "installSummary",
  "manifest",
];

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
    const facts = { trigger: input.trigger, dryRun: input.dryRun };
    const send = async (data: RunEventData): Promise<PublishEventsResult> => {
      const events = buildRunEvents(data);
      await publisher.send(events);
      return { published: events.map((e) => ({ id: e.id, type: e.type })) };
    };
    if (input.finishFailure !== undefined) {
      // Finishing gave up (storage down for its whole retry budget): say so now, from what the orchestration knows.
      return send(
        unfinishedRunEventData(
          run,
          facts,
          input.at,
          runPrefix(run),
          `the run could not be sealed and decided: ${input.finishFailure}`,
        ),
      );
    }
    const rows = await deps.evidence.index.readArtifacts(run.runId);
    // A row pointing outside this run's folder is never read nor cited (tenant isolation, as in readRunEvidence).
    const ownRow = (key: ArtifactKey) => {
      const row = rows.get(ARTIFACTS[key].path);
      return row !== undefined && row.blobName === artifactBlobName(run, row.path) ? row : undefined;
    };
    const read = async <T>(key: ArtifactKey): Promise<T | undefined> => {
      const row = ownRow(key);
      if (row === undefined) return undefined;
      const reading = await readVerified(deps.evidence, run, ARTIFACTS[key], row);
      return reading.read.status === "verified" ? (reading.value as T) : undefined;
    };
    const [exitCode, runRecord, finalReport, manifest, installs, regressions, postValidation] = await Promise.all([
      read<ExitCodeRecord>("exitCode"),
      read<RunRecord>("run"),
      read<FinalReport>("finalReport"),
      read<Manifest>("manifest"),
      read<InstallOutcome[]>("installSummary"),
      read<Regressions>("regressions"),
      read<ValidationReport>("postValidation"),
    ]);
    if (exitCode === undefined) {
      return send(
        unfinishedRunEventData(
          run,
          facts,
          input.at,
          runPrefix(run),
          `${ARTIFACTS.exitCode.path} is missing or does not verify against its index`,
        ),
      );
    }
    const cited = CITED.flatMap((key) => {
      const row = ownRow(key);
      return row === undefined ? [] : [{ path: row.path, sha256: row.sha256 }];
    });
    const data = assembleRunEventData({
      exitCode,
      facts,
      evidencePrefix: runPrefix(run),
      cited,
      ...(runRecord === undefined ? {} : { runRecord }),
      ...(finalReport === undefined ? {} : { finalReport }),
      ...(manifest === undefined ? {} : { manifest }),
      ...(installs === undefined ? {} : { installs }),
      ...(regressions === undefined ? {} : { regressions }),
      ...(postValidation === undefined ? {} : { postValidation }),
    });
    return send(data);
  };
}
