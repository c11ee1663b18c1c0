import type { OrchestrationHandler } from "durable-functions";
import { checkDeterminism, NON_DETERMINISTIC } from "./checkDeterminism";
import { UnknownFunctionError } from "./engineErrors";
import { failureOf } from "./episodeRecords";
import { isScheduledEvent, type StoredEvent } from "./historyEvent";
import { replayEpisode, type EpisodeOutcome } from "./replayEpisode";
import type { InstanceRecord } from "./taskHubStore";

/** What {@link decideEpisode} needs: the instance, its recorded history and the episode's new events. */
export interface EpisodeInput {
  record: InstanceRecord;
  /** The orchestrator's handler; undefined when no definition provides the instance's name. */
  handler: OrchestrationHandler | undefined;
  past: StoredEvent[];
  /** OrchestratorStarted followed by the messages of this episode. */
  fresh: StoredEvent[];
  /** The ExecutionTerminated message among them, if any: the instance ends without replaying. */
  terminate: StoredEvent | undefined;
  now: Date;
  log: (message: string) => void;
}

/**
 * What one episode decides: terminated, failed for want of a handler, or the orchestrator replayed through the SDK
 * (replayEpisode.ts) and checked — a decision that contradicts history fails as non-deterministic, and an action the
 * host does not run (entities, callHttp) fails as not supported.
 */
export async function decideEpisode(input: EpisodeInput): Promise<EpisodeOutcome> {
  const { record, handler, past, fresh, terminate, now } = input;
  if (terminate) {
    return {
      status: "failed",
      failure: { ErrorType: "Terminated", ErrorMessage: terminate.Input ?? "" },
      actions: [],
      customStatus: undefined,
    };
  }
  if (!handler) {
    return {
      status: "failed",
      failure: failureOf(new UnknownFunctionError("orchestrator", record.name)),
      actions: [],
      customStatus: undefined,
    };
  }
  const outcome = await replayEpisode({
    handler,
    instanceId: record.instanceId,
    parentInstanceId: record.parent?.instanceId,
    input: record.input === undefined ? undefined : JSON.parse(record.input),
    past,
    fresh,
    scheduledIds: new Set(past.filter(isScheduledEvent).map((e) => e.EventId)),
    now,
    log: (level, ...args) => input.log(`[${record.name}] ${level}: ${args.map(String).join(" ")}`),
  });
  const nonDeterminism = checkDeterminism(outcome.actions, past);
  if (nonDeterminism !== undefined) {
    return {
      status: "failed",
      failure: { ErrorType: NON_DETERMINISTIC, ErrorMessage: nonDeterminism },
      actions: [],
      customStatus: outcome.customStatus,
    };
  }
  if (outcome.actions.some((a) => a.kind === "unsupported")) {
    return {
      status: "failed",
      failure: {
        ErrorType: "NotSupportedError",
        ErrorMessage: "the local Durable host runs no entities and no callHttp",
      },
      actions: [],
      customStatus: outcome.customStatus,
    };
  }
  return outcome;
}
