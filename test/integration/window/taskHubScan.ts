import { EventType, type StoredEvent } from "../../../local/durable/historyEvent";
import type { InstanceRecord, TaskHubStore } from "../../../local/durable/taskHubStore";

/** One instance's row and its current execution's recorded history. */
export interface RecordedInstance {
  record: InstanceRecord;
  history: StoredEvent[];
}

/** Every instance of the task hub with its history, straight from the tables. */
export async function loadTaskHub(store: TaskHubStore): Promise<RecordedInstance[]> {
  const records = await store.loadInstances();
  return Promise.all(
    records.map(async (record) => ({ record, history: await store.loadHistory(record.instanceId, record.generation) })),
  );
}

/** The latest time the task hub recorded (rows and history events): where a restarted virtual clock must resume. */
export function latestRecordedTime(instances: readonly RecordedInstance[]): Date {
  let latest = 0;
  for (const { record, history } of instances) {
    latest = Math.max(latest, Date.parse(record.lastUpdatedTime));
    for (const event of history) latest = Math.max(latest, Date.parse(event.Timestamp));
  }
  return new Date(latest);
}

/** Activity failures recorded in any history whose error type, reason or details name `errorName`. */
export function activityFailuresNaming(
  instances: readonly RecordedInstance[],
  errorName: string,
): { instanceId: string; activity: string; message: string }[] {
  const found: { instanceId: string; activity: string; message: string }[] = [];
  for (const { record, history } of instances) {
    for (const event of history) {
      if (event.EventType !== EventType.TaskFailed) continue;
      const text = [event.FailureDetails?.ErrorType, event.Reason, event.Details].join(" ");
      if (!text.includes(errorName)) continue;
      const scheduled = history.find(
        (e) => e.EventType === EventType.TaskScheduled && e.EventId === event.TaskScheduledId,
      );
      found.push({
        instanceId: record.instanceId,
        activity: scheduled?.Name ?? "?",
        message: event.Reason ?? event.FailureDetails?.ErrorMessage ?? "",
      });
    }
  }
  return found;
}
