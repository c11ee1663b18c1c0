import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { InvocationContext } from "@azure/functions";
import type { ActivityHandler } from "durable-functions";
import { UnknownFunctionError } from "./engineErrors";
import { failureOf, RESULT_NULL } from "./episodeRecords";
import { EventType, type StoredEvent } from "./historyEvent";
import type { InstanceRecord } from "./taskHubStore";

/**
 * The name of the activity whose code is running, for benchmarks and tests that attribute the storage requests it
 * makes (read in a diagnostics-channel subscriber, which runs in the requesting code's async context).
 */
export const activityScope = new AsyncLocalStorage<string>();

/** An activity to run: the task an episode scheduled. */
export interface WorkItem {
  instanceId: string;
  generation: number;
  taskId: number;
  name: string;
  input: string | undefined;
}

/** The activity a TaskScheduled event asks for. */
export function workItemOf(record: InstanceRecord, event: StoredEvent): WorkItem {
  return {
    instanceId: record.instanceId,
    generation: record.generation,
    taskId: event.EventId,
    name: event.Name ?? "",
    input: event.Input,
  };
}

/**
 * Runs one activity with an activityTrigger InvocationContext, as the Functions host would, and returns the event its
 * orchestrator receives: TaskCompleted with the JSON result, or TaskFailed. Never throws: an activity's failure is data
 * for the orchestrator (TaskFailedError), whatever the error is, and so is a name nothing provides.
 */
export async function runActivity(
  item: WorkItem,
  handler: ActivityHandler | undefined,
  now: () => Date,
  log: (message: string) => void,
): Promise<StoredEvent> {
  try {
    if (!handler) throw new UnknownFunctionError("activity", item.name);
    const context = new InvocationContext({
      functionName: item.name,
      invocationId: randomUUID(),
      options: { trigger: { type: "activityTrigger", name: "input" } },
      logHandler: (level, ...args) => log(`[${item.name}] ${level}: ${args.map(String).join(" ")}`),
    });
    const input = item.input === undefined ? undefined : (JSON.parse(item.input) as unknown);
    const result: unknown = await activityScope.run(item.name, (): Promise<unknown> =>
      Promise.resolve(handler(input, context)),
    );
    return {
      EventType: EventType.TaskCompleted,
      EventId: -1,
      Timestamp: now().toISOString(),
      TaskScheduledId: item.taskId,
      Result: JSON.stringify(result) ?? RESULT_NULL,
    };
  } catch (error) {
    const failure = failureOf(error);
    return {
      EventType: EventType.TaskFailed,
      EventId: -1,
      Timestamp: now().toISOString(),
      TaskScheduledId: item.taskId,
      Reason: failure.ErrorMessage,
      Details: failure.StackTrace,
      FailureDetails: failure,
    };
  }
}
