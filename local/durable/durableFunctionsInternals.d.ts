// Types for the parts of durable-functions 3.5.0 that the package ships without declarations: its testing
// utilities (the replay entry point the local host drives) and its history event classes.

declare module "durable-functions/lib/src/util/testingUtils" {
  import type { InvocationContext } from "@azure/functions";
  import type { OrchestrationHandler } from "durable-functions";

  export class DummyOrchestrationContext extends InvocationContext {
    constructor(functionName?: string, invocationId?: string, logHandler?: (level: string, ...args: unknown[]) => void);
    df: unknown;
  }

  export class DurableOrchestrationInput {
    constructor(
      instanceId?: string,
      history?: unknown[],
      input?: unknown,
      longRunningTimerIntervalDuration?: string,
      maximumShortTimerDuration?: string,
      defaultHttpAsyncRequestSleepTimeMillseconds?: number,
      schemaVersion?: number,
      isReplaying?: boolean,
      parentInstanceId?: string,
    );
  }

  export function createOrchestrator(
    fn: OrchestrationHandler,
  ): (trigger: DurableOrchestrationInput, context: DummyOrchestrationContext) => Promise<unknown>;
}

declare module "durable-functions/lib/src/orchestrations/ReplaySchema" {
  export const ReplaySchema: { readonly V1: 0; readonly V2: 1; readonly V3: 2; readonly V4: 3 };
  export const LatestReplaySchema: number;
}

declare module "durable-functions/lib/src/history/HistoryEventOptions" {
  export class HistoryEventOptions {
    constructor(eventId: number, timestamp: Date, isPlayed?: boolean);
    name?: string;
    input?: string;
    result?: string;
    taskScheduledId?: number;
    timerId?: number;
    fireAt?: Date;
    instanceId?: string;
    reason?: string;
    details?: string;
    failureDetails?: unknown;
    version?: string;
  }
}

declare module "durable-functions/lib/src/history/HistoryEvent" {
  export class HistoryEvent {
    EventType: number;
    EventId: number;
    IsPlayed: boolean;
    Timestamp: Date;
  }
}

declare module "durable-functions/lib/src/history/ExecutionStartedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class ExecutionStartedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/OrchestratorStartedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class OrchestratorStartedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/OrchestratorCompletedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class OrchestratorCompletedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/TaskScheduledEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class TaskScheduledEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/TaskCompletedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class TaskCompletedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/TaskFailedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class TaskFailedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/TimerCreatedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class TimerCreatedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/TimerFiredEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class TimerFiredEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/SubOrchestrationInstanceCreatedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class SubOrchestrationInstanceCreatedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/SubOrchestrationInstanceCompletedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class SubOrchestrationInstanceCompletedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/SubOrchestrationInstanceFailedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class SubOrchestrationInstanceFailedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
declare module "durable-functions/lib/src/history/EventRaisedEvent" {
  import { HistoryEvent } from "durable-functions/lib/src/history/HistoryEvent";
  import type { HistoryEventOptions } from "durable-functions/lib/src/history/HistoryEventOptions";
  export class EventRaisedEvent extends HistoryEvent {
    constructor(options: HistoryEventOptions);
  }
}
