import { EventType, type FailureDetails, type StoredEvent } from "./historyEvent";
import type { EpisodeOutcome, NewTask } from "./replayEpisode";
import type { InstanceRecord } from "./taskHubStore";

// What an episode writes, as the Durable extension records it: the history events of the tasks it scheduled and of
// its end, the instance row that follows from them, and the messages other instances receive. Pure: the engine
// decides when to write them.

/** JSON `null`: the result of an activity or orchestration that returned undefined. */
export const RESULT_NULL = "null";

/** The FailureDetails of a thrown value, as the extension records it. */
export function failureOf(error: unknown): FailureDetails {
  if (error instanceof Error) {
    return { ErrorType: error.name, ErrorMessage: error.message, StackTrace: error.stack, IsNonRetriable: false };
  }
  return { ErrorType: "Error", ErrorMessage: String(error), IsNonRetriable: false };
}

/** The message key of a task's completion: one per generation and task id, so a duplicate is dropped. */
export function completionKey(generation: number, taskId: number): string {
  return `t${generation}-${taskId}`;
}

/** The scheduled event of a task the orchestrator now waits on (TaskScheduled, TimerCreated, SubOrchestration...). */
export function scheduledEvent(record: InstanceRecord, task: NewTask, now: Date): StoredEvent {
  const base = { EventId: task.id, Timestamp: now.toISOString(), ...(task.retry ? { Retry: true } : {}) };
  switch (task.kind) {
    case "activity":
      return { ...base, EventType: EventType.TaskScheduled, Name: task.name, Input: task.input };
    case "timer":
      return { ...base, EventType: EventType.TimerCreated, FireAt: task.fireAt.toISOString() };
    case "subOrchestration":
      // Without an explicit id the extension derives one from the parent's id and the sequence number.
      return {
        ...base,
        EventType: EventType.SubOrchestrationInstanceCreated,
        Name: task.name,
        Input: task.input,
        InstanceId: task.instanceId ?? `${record.instanceId}:${task.id}`,
      };
  }
}

/** The event that ends the execution (ExecutionCompleted / ExecutionTerminated), or undefined while it runs. */
export function endEvent(outcome: EpisodeOutcome, now: Date, terminated: boolean): StoredEvent | undefined {
  const base = { EventId: -1, Timestamp: now.toISOString() };
  if (terminated && outcome.status === "failed") {
    return { ...base, EventType: EventType.ExecutionTerminated, Input: outcome.failure.ErrorMessage };
  }
  switch (outcome.status) {
    case "running":
      return undefined;
    case "completed":
      return {
        ...base,
        EventType: EventType.ExecutionCompleted,
        OrchestrationStatus: "Completed",
        Result: JSON.stringify(outcome.output),
      };
    case "continuedAsNew":
      return {
        ...base,
        EventType: EventType.ExecutionCompleted,
        OrchestrationStatus: "ContinuedAsNew",
        Result: JSON.stringify(outcome.input),
      };
    case "failed":
      return {
        ...base,
        EventType: EventType.ExecutionCompleted,
        OrchestrationStatus: "Failed",
        Result: outcome.failure.ErrorMessage,
        FailureDetails: outcome.failure,
      };
  }
}

/** The instance row after an episode. */
export function nextRecord(
  record: InstanceRecord,
  outcome: EpisodeOutcome,
  now: Date,
  terminated: boolean,
): InstanceRecord {
  const customStatus = outcome.customStatus === undefined ? record.customStatus : JSON.stringify(outcome.customStatus);
  const base: InstanceRecord = { ...record, lastUpdatedTime: now.toISOString(), customStatus };
  if (terminated && outcome.status === "failed") {
    return { ...base, status: "Terminated", output: outcome.failure.ErrorMessage };
  }
  switch (outcome.status) {
    case "running":
      return { ...base, status: "Running" };
    case "completed":
      return { ...base, status: "Completed", output: JSON.stringify(outcome.output) };
    case "continuedAsNew":
      return {
        ...base,
        status: "Running",
        generation: record.generation + 1,
        input: JSON.stringify(outcome.input),
        output: undefined,
      };
    case "failed":
      return {
        ...base,
        status: "Failed",
        output: JSON.stringify(outcome.failure.ErrorMessage),
        failure: outcome.failure,
      };
  }
}

/** The instance row that the last recorded end event implies (history was written, the row was not: a crash). */
export function recordFromEndEvent(record: InstanceRecord, end: StoredEvent): InstanceRecord {
  const now = end.Timestamp;
  if (end.EventType === EventType.ExecutionTerminated) {
    return { ...record, status: "Terminated", output: end.Input, lastUpdatedTime: now };
  }
  if (end.OrchestrationStatus === "ContinuedAsNew") {
    return {
      ...record,
      status: "Running",
      generation: record.generation + 1,
      input: end.Result,
      output: undefined,
      lastUpdatedTime: now,
    };
  }
  if (end.OrchestrationStatus === "Failed") {
    return {
      ...record,
      status: "Failed",
      output: JSON.stringify(end.Result ?? ""),
      failure: end.FailureDetails,
      lastUpdatedTime: now,
    };
  }
  return { ...record, status: "Completed", output: end.Result, lastUpdatedTime: now };
}

/** The ExecutionStarted message of an instance's current generation. */
export function startedEvent(record: InstanceRecord): StoredEvent {
  return {
    EventType: EventType.ExecutionStarted,
    EventId: -1,
    Timestamp: record.lastUpdatedTime,
    Name: record.name,
    Input: record.input,
  };
}

/** A durable timer that fell due, as the orchestrator receives it. */
export function timerFiredEvent(timerId: number, fireAt: Date, now: Date): StoredEvent {
  return {
    EventType: EventType.TimerFired,
    EventId: -1,
    Timestamp: now.toISOString(),
    TimerId: timerId,
    FireAt: fireAt.toISOString(),
  };
}

/** A sub-orchestration that could not be started, as its parent sees it. */
export function childFailedEvent(taskId: number, error: Error, timestamp: string): StoredEvent {
  const failure = failureOf(error);
  return {
    EventType: EventType.SubOrchestrationInstanceFailed,
    EventId: -1,
    Timestamp: timestamp,
    TaskScheduledId: taskId,
    Reason: failure.ErrorMessage,
    Details: failure.StackTrace,
    FailureDetails: failure,
  };
}

/** What an ended child tells its parent: completed with its output, or failed (terminated children included). */
export function childResultEvent(child: InstanceRecord, taskScheduledId: number, timestamp: string): StoredEvent {
  if (child.status === "Completed") {
    return {
      EventType: EventType.SubOrchestrationInstanceCompleted,
      EventId: -1,
      Timestamp: timestamp,
      TaskScheduledId: taskScheduledId,
      Result: child.output ?? RESULT_NULL,
    };
  }
  // A terminated child is reported to its parent as a failure, so the parent never waits forever.
  const failure = child.failure ?? {
    ErrorType: "Terminated",
    ErrorMessage: `sub-orchestration ${child.instanceId} was terminated`,
  };
  return {
    EventType: EventType.SubOrchestrationInstanceFailed,
    EventId: -1,
    Timestamp: timestamp,
    TaskScheduledId: taskScheduledId,
    Reason: failure.ErrorMessage,
    Details: failure.StackTrace,
    FailureDetails: failure,
  };
}
