import { z } from "zod";
import { EventRaisedEvent } from "durable-functions/lib/src/history/EventRaisedEvent";
import { ExecutionStartedEvent } from "durable-functions/lib/src/history/ExecutionStartedEvent";
import type { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
import { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
import { OrchestratorCompletedEvent } from "durable-functions/lib/src/history/OrchestratorCompletedEvent";
import { OrchestratorStartedEvent } from "durable-functions/lib/src/history/OrchestratorStartedEvent";
import { SubOrchestrationInstanceCompletedEvent } from "durable-functions/lib/src/history/SubOrchestrationInstanceCompletedEvent";
import { SubOrchestrationInstanceCreatedEvent } from "durable-functions/lib/src/history/SubOrchestrationInstanceCreatedEvent";
import { SubOrchestrationInstanceFailedEvent } from "durable-functions/lib/src/history/SubOrchestrationInstanceFailedEvent";
import { TaskCompletedEvent } from "durable-functions/lib/src/history/TaskCompletedEvent";
import { TaskFailedEvent } from "durable-functions/lib/src/history/TaskFailedEvent";
import { TaskScheduledEvent } from "durable-functions/lib/src/history/TaskScheduledEvent";
import { TimerCreatedEvent } from "durable-functions/lib/src/history/TimerCreatedEvent";
import { TimerFiredEvent } from "durable-functions/lib/src/history/TimerFiredEvent";

/** History event types, numbered as DurableTask.Core and the SDK's HistoryEventType number them. */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventRaised: 15,
} as const;

/** Names of {@link EventType} values, for readable histories in tests and status responses. */
export const eventTypeName: Record<number, string> = Object.fromEntries(
  Object.entries(EventType).map(([name, value]) => [value, name]),
);

/** The wire shape of failure details, as the extension records them and `TaskFailedError` reads them. */
export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string | undefined;
  IsNonRetriable?: boolean | undefined;
  Properties?: Record<string, unknown> | undefined;
  InnerFailure?: FailureDetails | undefined;
}

/** Zod schema of {@link FailureDetails}. */
export const failureDetailsSchema: z.ZodType<FailureDetails> = z.object({
  ErrorType: z.string(),
  ErrorMessage: z.string(),
  StackTrace: z.string().optional(),
  IsNonRetriable: z.boolean().optional(),
  Properties: z.record(z.string(), z.unknown()).optional(),
  get InnerFailure() {
    return failureDetailsSchema.optional();
  },
});

/**
 * One history event as the host stores it: the extension's field names, timestamps as ISO strings, results and
 * inputs as JSON strings. `Key` names the message the event came from (deduplication after a crash); `Retry` marks
 * events a retry policy scheduled rather than orchestrator code (the determinism check skips them).
 */
export const storedEventSchema = z.object({
  EventType: z.number().int(),
  EventId: z.number().int(),
  Timestamp: z.string(),
  Name: z.string().optional(),
  Input: z.string().optional(),
  Result: z.string().optional(),
  TaskScheduledId: z.number().int().optional(),
  TimerId: z.number().int().optional(),
  FireAt: z.string().optional(),
  InstanceId: z.string().optional(),
  Reason: z.string().optional(),
  Details: z.string().optional(),
  FailureDetails: failureDetailsSchema.optional(),
  OrchestrationStatus: z.string().optional(),
  Key: z.string().optional(),
  Retry: z.boolean().optional(),
});

/** See {@link storedEventSchema}. */
export type StoredEvent = z.infer<typeof storedEventSchema>;

function options(event: StoredEvent, isPlayed: boolean): HistoryEventOptions {
  const result = new HistoryEventOptions(event.EventId, new Date(event.Timestamp), isPlayed);
  result.name = event.Name;
  result.input = event.Input;
  result.result = event.Result;
  result.taskScheduledId = event.TaskScheduledId;
  result.timerId = event.TimerId;
  result.fireAt = event.FireAt === undefined ? undefined : new Date(event.FireAt);
  result.instanceId = event.InstanceId;
  result.reason = event.Reason;
  result.details = event.Details;
  result.failureDetails = event.FailureDetails;
  return result;
}

/**
 * Builds the SDK's own history event object for a stored event. Events the SDK ignores (OrchestratorCompleted is
 * kept; ExecutionCompleted / ExecutionTerminated end an episode and are never replayed) return undefined.
 */
export function toSdkEvent(event: StoredEvent, isPlayed: boolean): HistoryEvent | undefined {
  const o = options(event, isPlayed);
  switch (event.EventType) {
    case EventType.ExecutionStarted:
      return new ExecutionStartedEvent(o);
    case EventType.OrchestratorStarted:
      return new OrchestratorStartedEvent(o);
    case EventType.OrchestratorCompleted:
      return new OrchestratorCompletedEvent(o);
    case EventType.TaskScheduled:
      return new TaskScheduledEvent(o);
    case EventType.TaskCompleted:
      return new TaskCompletedEvent(o);
    case EventType.TaskFailed:
      return new TaskFailedEvent(o);
    case EventType.TimerCreated:
      return new TimerCreatedEvent(o);
    case EventType.TimerFired:
      return new TimerFiredEvent(o);
    case EventType.SubOrchestrationInstanceCreated:
      return new SubOrchestrationInstanceCreatedEvent(o);
    case EventType.SubOrchestrationInstanceCompleted:
      return new SubOrchestrationInstanceCompletedEvent(o);
    case EventType.SubOrchestrationInstanceFailed:
      return new SubOrchestrationInstanceFailedEvent(o);
    case EventType.EventRaised:
      return new EventRaisedEvent(o);
    default:
      return undefined;
  }
}

/** True for the events that answer a scheduled task (by TaskScheduledId or TimerId). */
export function completionIdOf(event: StoredEvent): number | undefined {
  switch (event.EventType) {
    case EventType.TaskCompleted:
    case EventType.TaskFailed:
    case EventType.SubOrchestrationInstanceCompleted:
    case EventType.SubOrchestrationInstanceFailed:
      return event.TaskScheduledId;
    case EventType.TimerFired:
      return event.TimerId;
    default:
      return undefined;
  }
}

/** True for the events orchestrator decisions add (they carry the sequence number as EventId). */
export function isScheduledEvent(event: StoredEvent): boolean {
  return (
    event.EventType === EventType.TaskScheduled ||
    event.EventType === EventType.TimerCreated ||
    event.EventType === EventType.SubOrchestrationInstanceCreated
  );
}
