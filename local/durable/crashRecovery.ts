import { timerOf } from "./durableTimers";
import { completionIdOf, EventType, isScheduledEvent, type StoredEvent } from "./historyEvent";
import { workItemOf, type WorkItem } from "./runActivity";
import type { PendingTimer } from "./timerQueue";
import type { InstanceRecord } from "./taskHubStore";

/** A sub-orchestration the parent's history created but whose own row was never written. */
export interface MissingChild {
  name: string;
  instanceId: string;
  input: string | undefined;
  parent: NonNullable<InstanceRecord["parent"]>;
}

/** What to put back for a running instance after a restart, read from its history alone. */
export type Recovery =
  | { kind: "finish"; end: StoredEvent }
  | {
      kind: "resume";
      /** No ExecutionStarted in history: deliver the start message again. */
      restart: boolean;
      activities: WorkItem[];
      timers: PendingTimer[];
      /** Child ids in this list are created unless the engine already knows them. */
      children: MissingChild[];
    };

/**
 * What a crash may have lost for a running instance: the history is written first and the rows derived from it
 * after, so history says it all. An end event without a matching row finishes the instance; otherwise every task
 * scheduled and not answered is handed out again (activities run at least once, as in Azure).
 */
export function planRecovery(record: InstanceRecord, history: readonly StoredEvent[]): Recovery {
  const last = history[history.length - 1];
  if (last && (last.EventType === EventType.ExecutionCompleted || last.EventType === EventType.ExecutionTerminated)) {
    return { kind: "finish", end: last };
  }
  const answered = new Set(history.map(completionIdOf).filter((id) => id !== undefined));
  const recovery = {
    kind: "resume" as const,
    restart: !history.some((e) => e.EventType === EventType.ExecutionStarted),
    activities: [] as WorkItem[],
    timers: [] as PendingTimer[],
    children: [] as MissingChild[],
  };
  for (const event of history) {
    if (!isScheduledEvent(event) || answered.has(event.EventId)) continue;
    if (event.EventType === EventType.TaskScheduled) {
      recovery.activities.push(workItemOf(record, event));
    } else if (event.EventType === EventType.TimerCreated) {
      recovery.timers.push(timerOf(record, event));
    } else {
      recovery.children.push({
        name: event.Name ?? "",
        instanceId: event.InstanceId ?? "",
        input: event.Input,
        parent: { instanceId: record.instanceId, generation: record.generation, taskScheduledId: event.EventId },
      });
    }
  }
  return recovery;
}
