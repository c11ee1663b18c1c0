import { EventType, isScheduledEvent, type StoredEvent } from "./historyEvent";
import type { FlatAction } from "./replayEpisode";

/** The error type name DurableTask.Core gives a replay that no longer matches history. */
export const NON_DETERMINISTIC = "NonDeterministicOrchestrationException";

function describeEvent(event: StoredEvent): string {
  switch (event.EventType) {
    case EventType.TaskScheduled:
      return `an activity task with sequence ID ${event.EventId} and name '${event.Name ?? ""}'`;
    case EventType.SubOrchestrationInstanceCreated:
      return `a sub-orchestration with sequence ID ${event.EventId} and name '${event.Name ?? ""}' (instance '${event.InstanceId ?? ""}')`;
    default:
      return `a durable timer with sequence ID ${event.EventId} firing at ${event.FireAt ?? "?"}`;
  }
}

function describeAction(action: FlatAction): string {
  switch (action.kind) {
    case "activity":
      return `an activity task named '${action.name}'`;
    case "subOrchestration":
      return `a sub-orchestration named '${action.name}'`;
    case "timer":
      return `a durable timer firing at ${action.fireAt}`;
    default:
      return action.kind;
  }
}

function matches(event: StoredEvent, action: FlatAction): boolean {
  switch (event.EventType) {
    case EventType.TaskScheduled:
      return action.kind === "activity" && action.name === event.Name;
    case EventType.SubOrchestrationInstanceCreated:
      return (
        action.kind === "subOrchestration" &&
        action.name === event.Name &&
        (action.instanceId === undefined || action.instanceId === event.InstanceId)
      );
    case EventType.TimerCreated:
      return action.kind === "timer" && new Date(action.fireAt).getTime() === new Date(event.FireAt ?? 0).getTime();
    default:
      return false;
  }
}

/**
 * Compares what a replay asked for with what earlier episodes recorded, as DurableTask.Core does when it replays
 * an out-of-process orchestrator's actions: the n-th scheduling action must be the n-th scheduled event (same kind,
 * same name; for timers the same fire time, which catches `Date.now()`). Events a retry policy added are not the
 * orchestrator's own and are skipped. Returns the error message, or undefined when the replay is faithful.
 */
export function checkDeterminism(actions: readonly FlatAction[], history: readonly StoredEvent[]): string | undefined {
  const recorded = history.filter((e) => isScheduledEvent(e) && e.Retry !== true).sort((a, b) => a.EventId - b.EventId);
  const asked = actions.filter((a) => a.kind === "activity" || a.kind === "subOrchestration" || a.kind === "timer");
  for (let i = 0; i < recorded.length; i++) {
    const event = recorded[i];
    const action = asked[i];
    if (event === undefined) continue;
    if (action === undefined) {
      return (
        `Non-Deterministic workflow detected: A previous execution of this orchestration scheduled ${describeEvent(event)}, ` +
        "but the current replay execution hasn't (yet?) scheduled this task. Was a change made to the orchestrator code " +
        "after this instance had already started running?"
      );
    }
    if (!matches(event, action)) {
      return (
        `Non-Deterministic workflow detected: A previous execution of this orchestration scheduled ${describeEvent(event)}, ` +
        `but the current replay execution asks for ${describeAction(action)} in its place. Was a change made to the ` +
        "orchestrator code after this instance had already started running, or does it read the clock or random values?"
      );
    }
  }
  return undefined;
}
