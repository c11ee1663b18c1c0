// Drives an orchestrator episode by episode through durable-functions' replay code (local/durable/replayEpisode),
// building its history by hand: each task the orchestrator asks for is answered by the test's responder, one
// completion per episode (earliest first), exactly as the recorded history would look in Azure.
import type { OrchestrationHandler } from "durable-functions";
import { checkDeterminism } from "../../../local/durable/checkDeterminism";
import { EventType, type StoredEvent } from "../../../local/durable/historyEvent";
import { replayEpisode, type EpisodeOutcome, type NewTask } from "../../../local/durable/replayEpisode";

/** What the responder decides for a task: a result, or an error (the activity / child threw). */
export type Answer = { ok: unknown } | { error: string };

/** A call the orchestrator made, in order. */
export interface Call {
  kind: "activity" | "subOrchestration" | "timer";
  name: string;
  input: unknown;
  at: string;
  instanceId?: string;
}

/** The end of a drive: the orchestrator's output or failure, every call, and the history length. */
export interface Drive {
  outcome: EpisodeOutcome;
  calls: Call[];
  history: StoredEvent[];
  customStatus: unknown[];
}

/** Answers one task; `at` is the orchestration time when it was scheduled (async: a test may run real activities). */
export type Responder = (call: Call) => Answer | Promise<Answer>;

/**
 * An external event the test raises: once the orchestrator has made `afterCalls` calls, `delayMs` after that call was
 * scheduled (0: delivered before the call's own completion, as an event that arrived while it ran).
 */
export interface Raise {
  afterCalls: number;
  delayMs?: number;
  name: string;
  data: unknown;
}

export async function driveOrchestration(
  handler: OrchestrationHandler,
  input: unknown,
  respond: Responder,
  start: string,
  maxEpisodes = 500,
  raises: readonly Raise[] = [],
): Promise<Drive> {
  const past: StoredEvent[] = [];
  let fresh: StoredEvent[] = [
    { EventType: EventType.OrchestratorStarted, EventId: -1, Timestamp: start },
    { EventType: EventType.ExecutionStarted, EventId: -1, Timestamp: start, Name: "o", Input: JSON.stringify(input) },
  ];
  const pending: { due: number; event: StoredEvent }[] = [];
  const calls: Call[] = [];
  const customStatus: unknown[] = [];
  let now = Date.parse(start);
  for (let episode = 0; episode < maxEpisodes; episode += 1) {
    const scheduledIds = new Set(
      past
        .filter(
          (e) =>
            e.EventType === EventType.TaskScheduled ||
            e.EventType === EventType.TimerCreated ||
            e.EventType === EventType.SubOrchestrationInstanceCreated,
        )
        .map((e) => e.EventId),
    );
    const outcome = await replayEpisode({
      handler,
      instanceId: "test-instance",
      input,
      past,
      fresh,
      scheduledIds,
      now: new Date(now),
    });
    customStatus.push(outcome.customStatus);
    // Every episode replays the whole history: what it asks for must match what earlier episodes recorded.
    const nonDeterminism = checkDeterminism(outcome.actions, past);
    if (nonDeterminism !== undefined) throw new Error(nonDeterminism);
    past.push(...fresh, {
      EventType: EventType.OrchestratorCompleted,
      EventId: -1,
      Timestamp: new Date(now).toISOString(),
    });
    if (outcome.status !== "running") return { outcome, calls, history: past, customStatus };
    for (const task of outcome.newTasks) await schedule(task);
    pending.sort((a, b) => a.due - b.due);
    const next = pending.shift();
    if (next === undefined) throw new Error("orchestrator waits for nothing the test can answer");
    now = Math.max(now, next.due);
    fresh = [
      { EventType: EventType.OrchestratorStarted, EventId: -1, Timestamp: new Date(now).toISOString() },
      next.event,
    ];
  }
  throw new Error(`no end after ${maxEpisodes} episodes`);

  async function schedule(task: NewTask): Promise<void> {
    const at = new Date(now).toISOString();
    for (const r of raises)
      if (r.afterCalls === calls.length + 1)
        pending.push({
          due: now + (r.delayMs ?? 0),
          event: {
            EventType: EventType.EventRaised,
            EventId: -1,
            Timestamp: new Date(now + (r.delayMs ?? 0)).toISOString(),
            Name: r.name,
            Input: JSON.stringify(r.data),
          },
        });
    if (task.kind === "timer") {
      past.push({
        EventType: EventType.TimerCreated,
        EventId: task.id,
        Timestamp: at,
        FireAt: task.fireAt.toISOString(),
        ...(task.retry ? { Retry: true } : {}),
      });
      calls.push({ kind: "timer", name: "timer", input: task.fireAt.toISOString(), at });
      pending.push({
        due: task.fireAt.getTime(),
        event: {
          EventType: EventType.TimerFired,
          EventId: -1,
          Timestamp: task.fireAt.toISOString(),
          TimerId: task.id,
          FireAt: task.fireAt.toISOString(),
        },
      });
      return;
    }
    const input = task.input === undefined ? undefined : (JSON.parse(task.input) as unknown);
    const call: Call = {
      kind: task.kind,
      name: task.name,
      input,
      at,
      ...(task.kind === "subOrchestration" && task.instanceId !== undefined ? { instanceId: task.instanceId } : {}),
    };
    calls.push(call);
    const answer = await respond(call);
    if (task.kind === "activity") {
      past.push({
        EventType: EventType.TaskScheduled,
        EventId: task.id,
        Timestamp: at,
        Name: task.name,
        ...(task.input === undefined ? {} : { Input: task.input }),
        ...(task.retry ? { Retry: true } : {}),
      });
      pending.push({
        due: now,
        event:
          "ok" in answer
            ? {
                EventType: EventType.TaskCompleted,
                EventId: -1,
                Timestamp: at,
                TaskScheduledId: task.id,
                Result: JSON.stringify(answer.ok ?? null),
              }
            : {
                EventType: EventType.TaskFailed,
                EventId: -1,
                Timestamp: at,
                TaskScheduledId: task.id,
                Reason: answer.error,
                FailureDetails: { ErrorType: "Error", ErrorMessage: answer.error },
              },
      });
    } else {
      past.push({
        EventType: EventType.SubOrchestrationInstanceCreated,
        EventId: task.id,
        Timestamp: at,
        Name: task.name,
        ...(task.input === undefined ? {} : { Input: task.input }),
        ...(task.instanceId === undefined ? {} : { InstanceId: task.instanceId }),
      });
      pending.push({
        due: now,
        event:
          "ok" in answer
            ? {
                EventType: EventType.SubOrchestrationInstanceCompleted,
                EventId: -1,
                Timestamp: at,
                TaskScheduledId: task.id,
                Result: JSON.stringify(answer.ok ?? null),
              }
            : {
                EventType: EventType.SubOrchestrationInstanceFailed,
                EventId: -1,
                Timestamp: at,
                TaskScheduledId: task.id,
                Reason: answer.error,
                FailureDetails: { ErrorType: "Error", ErrorMessage: answer.error },
              },
      });
    }
  }
}
