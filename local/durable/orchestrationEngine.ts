import { randomUUID } from "node:crypto";
import { InvocationContext } from "@azure/functions";
import type { ActivityHandler, OrchestrationHandler } from "durable-functions";
import { checkDeterminism, NON_DETERMINISTIC } from "./checkDeterminism";
import type { Clock } from "./clock";
import { completionIdOf, EventType, isScheduledEvent, type FailureDetails, type StoredEvent } from "./historyEvent";
import { replayEpisode, type EpisodeOutcome, type NewTask } from "./replayEpisode";
import { isTerminal, type InstanceRecord, type RuntimeStatus, type TaskHubStore } from "./taskHubStore";
import { FairQueue } from "./fairQueue";
import { TimerQueue, type PendingTimer } from "./timerQueue";

/** Options of {@link OrchestrationEngine}. */
export interface EngineOptions {
  store: TaskHubStore;
  clock: Clock;
  orchestrators: ReadonlyMap<string, OrchestrationHandler>;
  activities: ReadonlyMap<string, ActivityHandler>;
  activityConcurrency: number;
  episodeConcurrency: number;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /**
   * Virtual clock only: skip to the next timer whenever the host is idle, even with nobody waiting. A host that
   * serves HTTP needs it, or a run an API call started would sit on its first timer until someone waited on it.
   */
  advanceWhenIdle?: boolean;
}

/** Counters for the benchmark and for tests. */
export interface EngineStats {
  episodes: number;
  eventsReplayed: number;
  activitiesRun: number;
}

/** A message that arrived for an instance and waits for its next episode. */
interface PendingMessage {
  key: string;
  generation: number;
  event: StoredEvent;
  /** Stored in the inbox table (raise event, terminate, start): deleted once history holds it. */
  persisted: boolean;
}

/** An activity to run. */
interface WorkItem {
  instanceId: string;
  generation: number;
  taskId: number;
  name: string;
  input: string | undefined;
}

interface LiveInstance {
  record: InstanceRecord;
  /** The current execution's history; undefined once the instance has ended (read back from the table). */
  history: StoredEvent[] | undefined;
  pending: PendingMessage[];
  busy: boolean;
  queued: boolean;
  failures: number;
}

/** Raised by the engine's callers for an instance id that does not exist. */
export class InstanceNotFoundError extends Error {
  constructor(instanceId: string) {
    super(`no orchestration instance with id '${instanceId}'`);
    this.name = "InstanceNotFoundError";
  }
}

/** Raised when starting an instance id that is already running. */
export class InstanceExistsError extends Error {
  constructor(instanceId: string, status: RuntimeStatus) {
    super(`orchestration instance '${instanceId}' already exists and is ${status}`);
    this.name = "InstanceExistsError";
  }
}

/** Raised when starting an orchestrator name no definition provides. */
export class UnknownFunctionError extends Error {
  constructor(kind: string, name: string) {
    super(`no ${kind} named '${name}' is registered with the local Durable host`);
    this.name = "UnknownFunctionError";
  }
}

/** Raised to a waiter when the virtual clock has nothing left to skip to and the instance is still not done. */
export class InstanceStuckError extends Error {
  constructor(instanceId: string, status: RuntimeStatus) {
    super(
      `orchestration instance '${instanceId}' is ${status} with no work, no timer and no event on the way; ` +
        "it waits for an external event nobody raised",
    );
    this.name = "InstanceStuckError";
  }
}

interface IdleWaiter {
  advance: boolean;
  resolve: () => void;
}

interface InstanceWaiter {
  instanceId: string;
  resolve: (record: InstanceRecord) => void;
  reject: (error: Error) => void;
}

const RESULT_NULL = "null";

function failureOf(error: unknown): FailureDetails {
  if (error instanceof Error) {
    return { ErrorType: error.name, ErrorMessage: error.message, StackTrace: error.stack, IsNonRetriable: false };
  }
  return { ErrorType: "Error", ErrorMessage: String(error), IsNonRetriable: false };
}

function completionKey(generation: number, taskId: number): string {
  return `t${generation}-${taskId}`;
}

/**
 * The scheduler and executor of the local Durable host. Each instance processes its messages in episodes (never
 * two at once for one instance); an episode replays the orchestrator through the SDK, checks determinism, records
 * the new events in the task hub's tables and only then hands out the work it decided on. Activities run in a
 * bounded pool; timers wait in a heap, on the wall clock or, with a virtual clock, until nothing else can move.
 */
export class OrchestrationEngine {
  readonly stats: EngineStats = { episodes: 0, eventsReplayed: 0, activitiesRun: 0 };
  private readonly instances = new Map<string, LiveInstance>();
  private readonly ready: LiveInstance[] = [];
  private readonly work = new FairQueue<WorkItem>();
  private readonly timers = new TimerQueue();
  private runningEpisodes = 0;
  private runningActivities = 0;
  private operations = 0;
  private pumpScheduled = false;
  private stopped = true;
  private realTimer: NodeJS.Timeout | undefined;
  private realTimerAt = Infinity;
  private idleWaiters: IdleWaiter[] = [];
  private instanceWaiters: InstanceWaiter[] = [];
  private settledWaiters: (() => void)[] = [];
  private seq = 0;
  /** Called after the virtual clock jumped (timer triggers fire on it). */
  onTimeAdvanced: (now: Date) => void = () => undefined;

  constructor(private readonly options: EngineOptions) {}

  /** Loads every instance from the tables and resumes what was in flight when the last process ended. */
  async start(): Promise<void> {
    await this.options.store.ensureTables();
    const records = await this.options.store.loadInstances();
    const inbox = await this.options.store.loadInbox();
    for (const record of records) {
      const history = isTerminal(record.status)
        ? undefined
        : await this.options.store.loadHistory(record.instanceId, record.generation);
      this.instances.set(record.instanceId, { record, history, pending: [], busy: false, queued: false, failures: 0 });
    }
    this.stopped = false;
    for (const message of inbox) {
      this.deliver(message.instanceId, {
        key: message.key,
        generation: message.generation,
        event: message.event,
        persisted: true,
      });
    }
    for (const live of this.instances.values()) this.recover(live);
    this.schedulePump();
  }

  /** Stops handing out work and waits for running episodes and activities to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realTimer = undefined;
    if (this.runningEpisodes + this.runningActivities + this.operations > 0) {
      await new Promise<void>((resolve) => this.settledWaiters.push(resolve));
    }
    for (const waiter of this.instanceWaiters) waiter.reject(new Error("the local Durable host stopped"));
    this.instanceWaiters = [];
    for (const waiter of this.idleWaiters) waiter.resolve();
    this.idleWaiters = [];
  }

  // ---------------------------------------------------------------------------------------------------------
  // Client operations (the RPC API calls these).
  // ---------------------------------------------------------------------------------------------------------

  /** Creates an instance (or restarts an ended one with the same id) and queues its ExecutionStarted. */
  async startNew(name: string, instanceId: string, inputJson: string | undefined): Promise<void> {
    if (!this.options.orchestrators.has(name)) throw new UnknownFunctionError("orchestrator", name);
    await this.track(async () => {
      const existing = this.instances.get(instanceId) ?? (await this.reload(instanceId));
      if (existing && !isTerminal(existing.record.status))
        throw new InstanceExistsError(instanceId, existing.record.status);
      await this.createInstance(name, instanceId, inputJson, undefined, existing?.record.generation);
    });
  }

  /** The instance's record, read from memory (every instance is loaded at start). */
  getRecord(instanceId: string): InstanceRecord | undefined {
    return this.instances.get(instanceId)?.record;
  }

  /** Every instance record. */
  listRecords(): InstanceRecord[] {
    return [...this.instances.values()].map((l) => l.record);
  }

  /** The current execution's history (from memory while running, from the table once ended). */
  async getHistory(instanceId: string): Promise<StoredEvent[]> {
    const live = this.instances.get(instanceId);
    if (!live) throw new InstanceNotFoundError(instanceId);
    return live.history ?? (await this.options.store.loadHistory(instanceId, live.record.generation));
  }

  /** Queues an external event; "gone" when the instance has ended. */
  async raiseEvent(instanceId: string, name: string, dataJson: string | undefined): Promise<"accepted" | "gone"> {
    return this.sendExternal(instanceId, {
      EventType: EventType.EventRaised,
      EventId: -1,
      Timestamp: this.options.clock.now().toISOString(),
      Name: name,
      Input: dataJson,
    });
  }

  /** Queues termination; "gone" when the instance has already ended. */
  async terminate(instanceId: string, reason: string): Promise<"accepted" | "gone"> {
    return this.sendExternal(instanceId, {
      EventType: EventType.ExecutionTerminated,
      EventId: -1,
      Timestamp: this.options.clock.now().toISOString(),
      Input: JSON.stringify(reason),
    });
  }

  /** Deletes an ended instance and its history; false when there is none. Running instances are refused. */
  async purge(instanceId: string): Promise<boolean> {
    return this.track(async () => {
      const live = this.instances.get(instanceId);
      if (!live) return false;
      if (!isTerminal(live.record.status)) throw new InstanceExistsError(instanceId, live.record.status);
      this.instances.delete(instanceId);
      this.timers.removeInstance(instanceId);
      await this.options.store.purge(instanceId);
      return true;
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Waiting (tests, the CLI).
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Resolves when nothing is running or queued. With `advance` (the default) and a virtual clock, pending timers
   * are skipped to first, so this returns only when no timer is left either.
   */
  runUntilIdle(options: { advance?: boolean } = {}): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push({ advance: options.advance ?? true, resolve });
      this.schedulePump();
    });
  }

  /** Resolves with the instance's record once it has Completed, Failed or been Terminated. */
  waitForInstance(instanceId: string): Promise<InstanceRecord> {
    const live = this.instances.get(instanceId);
    if (live && isTerminal(live.record.status)) return Promise.resolve(live.record);
    return new Promise((resolve, reject) => {
      this.instanceWaiters.push({ instanceId, resolve, reject });
      this.schedulePump();
    });
  }

  /** Moves a virtual clock forward by `ms`, firing every timer that falls due on the way. */
  advanceTime(ms: number): void {
    const clock = this.options.clock;
    if (clock.kind !== "virtual") throw new Error("advanceTime needs the virtual clock");
    const target = new Date(clock.now().getTime() + ms);
    for (;;) {
      const next = this.timers.peek();
      if (!next || next.fireAt > target) break;
      this.jumpTo(next.fireAt);
    }
    this.jumpTo(target);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Internals.
  // ---------------------------------------------------------------------------------------------------------

  /** Runs repair or clean-up work in the background: tracked for idleness, its failure logged, never unhandled. */
  private background(what: string, operation: () => Promise<unknown>): void {
    this.track(operation).catch((error: unknown) => {
      this.options.log("error", `${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /** Runs work that may feed the engine (a trigger handler): the host is not idle until it has finished. */
  async track<T>(operation: () => Promise<T>): Promise<T> {
    this.operations++;
    try {
      return await operation();
    } finally {
      this.operations--;
      this.schedulePump();
    }
  }

  private async reload(instanceId: string): Promise<LiveInstance | undefined> {
    const record = await this.options.store.loadInstance(instanceId);
    if (!record) return undefined;
    const live: LiveInstance = { record, history: undefined, pending: [], busy: false, queued: false, failures: 0 };
    this.instances.set(instanceId, live);
    return live;
  }

  private async createInstance(
    name: string,
    instanceId: string,
    inputJson: string | undefined,
    parent: InstanceRecord["parent"],
    previousGeneration: number | undefined,
  ): Promise<void> {
    const now = this.options.clock.now().toISOString();
    const generation = previousGeneration === undefined ? 0 : previousGeneration + 1;
    const record: InstanceRecord = {
      instanceId,
      name,
      generation,
      status: "Pending",
      input: inputJson,
      createdTime: now,
      lastUpdatedTime: now,
      parent,
    };
    // The row is the start message: an instance whose history lacks ExecutionStarted is (re)started from it.
    await this.options.store.putInstance(record);
    if (previousGeneration !== undefined) await this.options.store.deleteHistoryBefore(instanceId, generation);
    this.timers.removeInstance(instanceId);
    const live = this.instances.get(instanceId);
    if (live) {
      live.record = record;
      live.history = [];
      live.pending = [];
    } else {
      this.instances.set(instanceId, { record, history: [], pending: [], busy: false, queued: false, failures: 0 });
    }
    this.deliverStart(instanceId);
  }

  private deliverStart(instanceId: string): void {
    const live = this.instances.get(instanceId);
    if (!live) return;
    const { record } = live;
    this.deliver(instanceId, {
      key: `s${record.generation}`,
      generation: record.generation,
      persisted: false,
      event: {
        EventType: EventType.ExecutionStarted,
        EventId: -1,
        Timestamp: record.lastUpdatedTime,
        Name: record.name,
        Input: record.input,
      },
    });
  }

  private async sendExternal(instanceId: string, event: StoredEvent): Promise<"accepted" | "gone"> {
    return this.track(async () => {
      const live = this.instances.get(instanceId) ?? (await this.reload(instanceId));
      if (!live) throw new InstanceNotFoundError(instanceId);
      if (isTerminal(live.record.status)) return "gone";
      const key = `x${Date.now().toString(36)}-${randomUUID()}`;
      const message = {
        instanceId,
        generation: live.record.generation,
        key,
        seq: Date.now() + this.seq++ / 1e6,
        event,
      };
      await this.options.store.putInbox(message);
      this.deliver(instanceId, { key, generation: message.generation, event, persisted: true });
      return "accepted";
    });
  }

  /** Puts back what a crash may have lost: starts, activities, timers and child results derived from history. */
  private recover(live: LiveInstance): void {
    const { record } = live;
    if (isTerminal(record.status)) {
      this.notifyParent(live);
      return;
    }
    const history = live.history ?? [];
    const last = history[history.length - 1];
    if (last && (last.EventType === EventType.ExecutionCompleted || last.EventType === EventType.ExecutionTerminated)) {
      this.background(`finishing ${record.instanceId}`, () => this.finishFromHistory(live, last));
      return;
    }
    if (!history.some((e) => e.EventType === EventType.ExecutionStarted)) this.deliverStart(record.instanceId);
    const answered = new Set(history.map(completionIdOf).filter((id) => id !== undefined));
    for (const event of history) {
      if (!isScheduledEvent(event) || answered.has(event.EventId)) continue;
      if (event.EventType === EventType.TaskScheduled) {
        this.work.push(record.instanceId, {
          instanceId: record.instanceId,
          generation: record.generation,
          taskId: event.EventId,
          name: event.Name ?? "",
          input: event.Input,
        });
      } else if (event.EventType === EventType.TimerCreated) {
        this.addTimer({
          instanceId: record.instanceId,
          generation: record.generation,
          timerId: event.EventId,
          fireAt: new Date(event.FireAt ?? 0),
        });
      } else {
        const child = this.instances.get(event.InstanceId ?? "");
        if (!child) {
          // The parent's history was written but the child's row was not: create the child now.
          this.background(`re-creating child ${event.InstanceId ?? ""}`, () =>
            this.createInstance(
              event.Name ?? "",
              event.InstanceId ?? "",
              event.Input,
              {
                instanceId: record.instanceId,
                generation: record.generation,
                taskScheduledId: event.EventId,
              },
              undefined,
            ),
          );
        }
      }
    }
  }

  /** The last episode recorded its end in history but not in the instance row (a crash in between): finish it. */
  private async finishFromHistory(live: LiveInstance, end: StoredEvent): Promise<void> {
    const record = live.record;
    const now = end.Timestamp;
    let updated: InstanceRecord;
    if (end.EventType === EventType.ExecutionTerminated) {
      updated = { ...record, status: "Terminated", output: end.Input, lastUpdatedTime: now };
    } else if (end.OrchestrationStatus === "ContinuedAsNew") {
      updated = {
        ...record,
        status: "Running",
        generation: record.generation + 1,
        input: end.Result,
        output: undefined,
        lastUpdatedTime: now,
      };
    } else if (end.OrchestrationStatus === "Failed") {
      updated = {
        ...record,
        status: "Failed",
        output: JSON.stringify(end.Result ?? ""),
        failure: end.FailureDetails,
        lastUpdatedTime: now,
      };
    } else {
      updated = { ...record, status: "Completed", output: end.Result, lastUpdatedTime: now };
    }
    await this.options.store.putInstance(updated);
    live.record = updated;
    if (updated.status === "Running") {
      live.history = [];
      this.deliverStart(record.instanceId);
    } else {
      live.history = undefined;
      this.notifyParent(live);
      this.resolveInstanceWaiters(updated);
    }
  }

  private deliver(instanceId: string, message: PendingMessage): void {
    const live = this.instances.get(instanceId);
    if (!live || message.generation !== live.record.generation) return;
    if (live.pending.some((m) => m.key === message.key)) return;
    if (live.history?.some((e) => e.Key === message.key)) return;
    live.pending.push(message);
    this.markReady(live);
  }

  private markReady(live: LiveInstance): void {
    if (live.busy || live.queued || live.pending.length === 0) return;
    live.queued = true;
    this.ready.push(live);
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopped) {
      if (this.runningEpisodes + this.runningActivities + this.operations === 0) {
        for (const resolve of this.settledWaiters.splice(0)) resolve();
      }
      return;
    }
    while (this.runningEpisodes < this.options.episodeConcurrency && this.ready.length > 0) {
      const live = this.ready.shift();
      if (live) void this.runEpisode(live);
    }
    while (this.runningActivities < this.options.activityConcurrency && this.work.size > 0) {
      const item = this.work.take();
      if (item) void this.runActivity(item);
    }
    this.armRealTimer();
    this.checkIdle();
  }

  private checkIdle(): void {
    const busy = this.runningEpisodes + this.runningActivities + this.operations + this.ready.length + this.work.size;
    if (busy > 0) return;
    const wantsAdvance =
      this.options.clock.kind === "virtual" &&
      (this.options.advanceWhenIdle === true ||
        this.instanceWaiters.length > 0 ||
        this.idleWaiters.some((w) => w.advance));
    const next = this.timers.peek();
    if (wantsAdvance && next) {
      this.jumpTo(next.fireAt);
      return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) {
      if (waiter.advance && next) this.idleWaiters.push(waiter);
      else waiter.resolve();
    }
    if (this.options.clock.kind === "virtual" && !next) {
      // Nothing will ever happen again on its own: tell anyone waiting for an instance that it is stuck.
      for (const waiter of this.instanceWaiters.splice(0)) {
        const status = this.instances.get(waiter.instanceId)?.record.status ?? "Pending";
        waiter.reject(new InstanceStuckError(waiter.instanceId, status));
      }
    }
  }

  private jumpTo(time: Date): void {
    this.options.clock.advanceTo?.(time);
    this.fireDueTimers();
    this.onTimeAdvanced(this.options.clock.now());
    this.schedulePump();
  }

  private addTimer(timer: PendingTimer): void {
    this.timers.push(timer);
    this.armRealTimer();
  }

  private armRealTimer(): void {
    if (this.options.clock.kind !== "real" || this.stopped) return;
    const next = this.timers.peek();
    const at = next ? next.fireAt.getTime() : Infinity;
    if (at === this.realTimerAt) return;
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realTimer = undefined;
    this.realTimerAt = at;
    if (at === Infinity) return;
    const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
    this.realTimer = setTimeout(() => {
      this.realTimer = undefined;
      this.realTimerAt = Infinity;
      this.fireDueTimers();
      this.schedulePump();
    }, delay);
  }

  private fireDueTimers(): void {
    const now = this.options.clock.now();
    for (const timer of this.timers.popDue(now)) {
      this.deliver(timer.instanceId, {
        key: completionKey(timer.generation, timer.timerId),
        generation: timer.generation,
        persisted: false,
        event: {
          EventType: EventType.TimerFired,
          EventId: -1,
          Timestamp: now.toISOString(),
          TimerId: timer.timerId,
          FireAt: timer.fireAt.toISOString(),
        },
      });
    }
  }

  private async runActivity(item: WorkItem): Promise<void> {
    this.runningActivities++;
    let event: StoredEvent;
    try {
      const handler = this.options.activities.get(item.name);
      if (!handler) throw new UnknownFunctionError("activity", item.name);
      const context = new InvocationContext({
        functionName: item.name,
        invocationId: randomUUID(),
        options: { trigger: { type: "activityTrigger", name: "input" } },
        logHandler: (level, ...args) =>
          this.options.log("info", `[${item.name}] ${level}: ${args.map(String).join(" ")}`),
      });
      const input = item.input === undefined ? undefined : (JSON.parse(item.input) as unknown);
      const result: unknown = await handler(input, context);
      event = {
        EventType: EventType.TaskCompleted,
        EventId: -1,
        Timestamp: this.options.clock.now().toISOString(),
        TaskScheduledId: item.taskId,
        Result: JSON.stringify(result) ?? RESULT_NULL,
      };
    } catch (error) {
      // An activity's failure is data for the orchestrator (TaskFailedError), whatever the error is.
      const failure = failureOf(error);
      event = {
        EventType: EventType.TaskFailed,
        EventId: -1,
        Timestamp: this.options.clock.now().toISOString(),
        TaskScheduledId: item.taskId,
        Reason: failure.ErrorMessage,
        Details: failure.StackTrace,
        FailureDetails: failure,
      };
    } finally {
      this.runningActivities--;
      this.stats.activitiesRun++;
    }
    if (!this.stopped) {
      this.deliver(item.instanceId, {
        key: completionKey(item.generation, item.taskId),
        generation: item.generation,
        persisted: false,
        event,
      });
    }
    this.schedulePump();
  }

  private async runEpisode(live: LiveInstance): Promise<void> {
    live.queued = false;
    live.busy = true;
    this.runningEpisodes++;
    const batch = live.pending.splice(0);
    try {
      await this.processEpisode(live, batch);
      live.failures = 0;
    } catch (error) {
      live.failures++;
      this.options.log(
        "error",
        `episode of ${live.record.instanceId} failed (attempt ${live.failures}): ${String(error)}`,
      );
      live.pending.unshift(...batch);
      if (live.failures >= 5) {
        for (const waiter of this.instanceWaiters.filter((w) => w.instanceId === live.record.instanceId)) {
          waiter.reject(error instanceof Error ? error : new Error(String(error)));
        }
        this.instanceWaiters = this.instanceWaiters.filter((w) => w.instanceId !== live.record.instanceId);
        live.pending = [];
      }
    } finally {
      this.runningEpisodes--;
      live.busy = false;
      this.markReady(live);
      this.schedulePump();
    }
  }

  private async processEpisode(live: LiveInstance, batch: PendingMessage[]): Promise<void> {
    const { store, clock } = this.options;
    const record = live.record;
    const persistedKeys = batch.filter((m) => m.persisted).map((m) => m.key);
    if (isTerminal(record.status)) {
      // Late messages for an ended instance (a timer that lost a Task.any, an event after the end): nothing to do.
      if (persistedKeys.length > 0) await store.deleteInbox(record.instanceId, persistedKeys);
      return;
    }
    const past = live.history ?? (await store.loadHistory(record.instanceId, record.generation));
    const known = new Set(past.map((e) => e.Key).filter((k) => k !== undefined));
    const messages = batch.filter((m) => m.generation === record.generation && !known.has(m.key));
    if (messages.length === 0) {
      if (persistedKeys.length > 0) await store.deleteInbox(record.instanceId, persistedKeys);
      return;
    }
    this.stats.episodes++;
    const now = clock.now();
    const started: StoredEvent = {
      EventType: EventType.OrchestratorStarted,
      EventId: -1,
      Timestamp: now.toISOString(),
    };
    const fresh: StoredEvent[] = [started, ...messages.map((m) => ({ ...m.event, Key: m.key }))];
    const terminate = messages.find((m) => m.event.EventType === EventType.ExecutionTerminated);

    let outcome: EpisodeOutcome;
    const handler = this.options.orchestrators.get(record.name);
    if (terminate) {
      outcome = {
        status: "failed",
        failure: { ErrorType: "Terminated", ErrorMessage: terminate.event.Input ?? "" },
        actions: [],
        customStatus: undefined,
      };
    } else if (!handler) {
      outcome = {
        status: "failed",
        failure: failureOf(new UnknownFunctionError("orchestrator", record.name)),
        actions: [],
        customStatus: undefined,
      };
    } else {
      this.stats.eventsReplayed += past.length + fresh.length;
      outcome = await replayEpisode({
        handler,
        instanceId: record.instanceId,
        parentInstanceId: record.parent?.instanceId,
        input: record.input === undefined ? undefined : JSON.parse(record.input),
        past,
        fresh,
        scheduledIds: new Set(past.filter(isScheduledEvent).map((e) => e.EventId)),
        now,
        log: (level, ...args) => this.options.log("info", `[${record.name}] ${level}: ${args.map(String).join(" ")}`),
      });
      const nonDeterminism = checkDeterminism(outcome.actions, past);
      const unsupported = outcome.actions.find((a) => a.kind === "unsupported");
      if (nonDeterminism !== undefined) {
        outcome = {
          status: "failed",
          failure: { ErrorType: NON_DETERMINISTIC, ErrorMessage: nonDeterminism },
          actions: [],
          customStatus: outcome.customStatus,
        };
      } else if (unsupported) {
        outcome = {
          status: "failed",
          failure: {
            ErrorType: "NotSupportedError",
            ErrorMessage: "the local Durable host runs no entities and no callHttp",
          },
          actions: [],
          customStatus: outcome.customStatus,
        };
      }
    }

    const scheduled =
      outcome.status === "running" ? outcome.newTasks.map((t) => this.scheduledEvent(record, t, now)) : [];
    const ended = this.endEvent(outcome, now, terminate !== undefined);
    const newEvents = [
      ...fresh,
      ...scheduled,
      { EventType: EventType.OrchestratorCompleted, EventId: -1, Timestamp: now.toISOString() },
      ...(ended ? [ended] : []),
    ];

    // Write-ahead: history first, then the rows derived from it. A crash between the two is repaired by recover().
    await store.appendHistory(record.instanceId, record.generation, past.length, newEvents);
    const children = scheduled.filter((e) => e.EventType === EventType.SubOrchestrationInstanceCreated);
    const refused: StoredEvent[] = [];
    for (const child of children) {
      const childId = child.InstanceId ?? "";
      const existing = this.instances.get(childId) ?? (await this.reload(childId));
      if (existing && !isTerminal(existing.record.status)) {
        refused.push(
          this.childFailure(record, child.EventId, new InstanceExistsError(childId, existing.record.status)),
        );
        continue;
      }
      await this.createInstance(
        child.Name ?? "",
        childId,
        child.Input,
        {
          instanceId: record.instanceId,
          generation: record.generation,
          taskScheduledId: child.EventId,
        },
        existing?.record.generation,
      );
    }

    const updated = this.nextRecord(record, outcome, now, terminate !== undefined);
    await store.putInstance(updated);
    if (persistedKeys.length > 0) await store.deleteInbox(record.instanceId, persistedKeys);

    live.record = updated;
    if (outcome.status === "continuedAsNew") {
      live.history = [];
      this.background(`deleting old history of ${record.instanceId}`, () =>
        store.deleteHistoryBefore(record.instanceId, updated.generation),
      );
      this.deliverStart(record.instanceId);
    } else if (isTerminal(updated.status)) {
      live.history = undefined;
      this.notifyParent(live);
      this.resolveInstanceWaiters(updated);
    } else {
      live.history = [...past, ...newEvents];
      for (const event of scheduled) this.dispatch(updated, event);
      for (const event of refused) {
        this.deliver(record.instanceId, {
          key: completionKey(record.generation, event.TaskScheduledId ?? -1),
          generation: record.generation,
          persisted: false,
          event,
        });
      }
    }
  }

  private scheduledEvent(record: InstanceRecord, task: NewTask, now: Date): StoredEvent {
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

  private endEvent(outcome: EpisodeOutcome, now: Date, terminated: boolean): StoredEvent | undefined {
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

  private nextRecord(record: InstanceRecord, outcome: EpisodeOutcome, now: Date, terminated: boolean): InstanceRecord {
    const customStatus =
      outcome.customStatus === undefined ? record.customStatus : JSON.stringify(outcome.customStatus);
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

  private dispatch(record: InstanceRecord, event: StoredEvent): void {
    if (event.EventType === EventType.TaskScheduled) {
      this.work.push(record.instanceId, {
        instanceId: record.instanceId,
        generation: record.generation,
        taskId: event.EventId,
        name: event.Name ?? "",
        input: event.Input,
      });
    } else if (event.EventType === EventType.TimerCreated) {
      this.addTimer({
        instanceId: record.instanceId,
        generation: record.generation,
        timerId: event.EventId,
        fireAt: new Date(event.FireAt ?? 0),
      });
    }
    // Sub-orchestrations were started while committing the episode.
  }

  private childFailure(parent: InstanceRecord, taskId: number, error: Error): StoredEvent {
    const failure = failureOf(error);
    return {
      EventType: EventType.SubOrchestrationInstanceFailed,
      EventId: -1,
      Timestamp: this.options.clock.now().toISOString(),
      TaskScheduledId: taskId,
      Reason: failure.ErrorMessage,
      Details: failure.StackTrace,
      FailureDetails: failure,
    };
  }

  private notifyParent(child: LiveInstance): void {
    const { record } = child;
    const parentLink = record.parent;
    if (!parentLink || !isTerminal(record.status)) return;
    const timestamp = this.options.clock.now().toISOString();
    let event: StoredEvent;
    if (record.status === "Completed") {
      event = {
        EventType: EventType.SubOrchestrationInstanceCompleted,
        EventId: -1,
        Timestamp: timestamp,
        TaskScheduledId: parentLink.taskScheduledId,
        Result: record.output ?? RESULT_NULL,
      };
    } else {
      // A terminated child is reported to its parent as a failure, so the parent never waits forever.
      const failure = record.failure ?? {
        ErrorType: "Terminated",
        ErrorMessage: `sub-orchestration ${record.instanceId} was terminated`,
      };
      event = {
        EventType: EventType.SubOrchestrationInstanceFailed,
        EventId: -1,
        Timestamp: timestamp,
        TaskScheduledId: parentLink.taskScheduledId,
        Reason: failure.ErrorMessage,
        Details: failure.StackTrace,
        FailureDetails: failure,
      };
    }
    this.deliver(parentLink.instanceId, {
      key: completionKey(parentLink.generation, parentLink.taskScheduledId),
      generation: parentLink.generation,
      persisted: false,
      event,
    });
  }

  private resolveInstanceWaiters(record: InstanceRecord): void {
    const waiting = this.instanceWaiters.filter((w) => w.instanceId === record.instanceId);
    this.instanceWaiters = this.instanceWaiters.filter((w) => w.instanceId !== record.instanceId);
    for (const waiter of waiting) waiter.resolve(record);
  }
}
