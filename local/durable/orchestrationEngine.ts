import { randomUUID } from "node:crypto";
import type { ActivityHandler, OrchestrationHandler } from "durable-functions";
import type { Clock } from "./clock";
import { planRecovery } from "./crashRecovery";
import { decideEpisode } from "./decideEpisode";
import { DurableTimers, timerOf } from "./durableTimers";
import { InstanceExistsError, InstanceNotFoundError, InstanceStuckError, UnknownFunctionError } from "./engineErrors";
import {
  childFailedEvent,
  childResultEvent,
  completionKey,
  endEvent,
  nextRecord,
  recordFromEndEvent,
  scheduledEvent,
  startedEvent,
  timerFiredEvent,
} from "./episodeRecords";
import { InstanceWaiters } from "./instanceWaiters";
import { EventType, type StoredEvent } from "./historyEvent";
import { runActivity, workItemOf, type WorkItem } from "./runActivity";
import { isTerminal, type InstanceRecord, type TaskHubStore } from "./taskHubStore";
import { FairQueue } from "./fairQueue";

// The scheduler of the local Durable host. What an episode decides is in decideEpisode.ts (replay + checks), what it
// writes in episodeRecords.ts, how an activity runs in runActivity.ts, timers in durableTimers.ts, what a restart puts
// back in crashRecovery.ts; this file owns the instances in memory, the order things happen in and the write-ahead.

// Re-exported: callers (httpFront.ts, timerTriggers.ts, other branches) may import them from here.
export { InstanceExistsError, InstanceNotFoundError, InstanceStuckError, UnknownFunctionError } from "./engineErrors";

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

interface LiveInstance {
  record: InstanceRecord;
  /** The current execution's history; undefined once the instance has ended (read back from the table). */
  history: StoredEvent[] | undefined;
  pending: PendingMessage[];
  busy: boolean;
  queued: boolean;
  failures: number;
}

interface IdleWaiter {
  advance: boolean;
  resolve: () => void;
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
  private readonly timers: DurableTimers;
  private runningEpisodes = 0;
  private runningActivities = 0;
  private operations = 0;
  private pumpScheduled = false;
  private stopped = true;
  private idleWaiters: IdleWaiter[] = [];
  private readonly instanceWaiters = new InstanceWaiters();
  private settledWaiters: (() => void)[] = [];
  private seq = 0;
  /** Called after the virtual clock jumped (timer triggers fire on it). */
  onTimeAdvanced: (now: Date) => void = () => undefined;

  constructor(private readonly options: EngineOptions) {
    this.timers = new DurableTimers(
      options.clock,
      (timer, now) =>
        this.deliver(timer.instanceId, {
          key: completionKey(timer.generation, timer.timerId),
          generation: timer.generation,
          persisted: false,
          event: timerFiredEvent(timer.timerId, timer.fireAt, now),
        }),
      () => this.schedulePump(),
    );
  }

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
    this.timers.start();
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
    this.timers.stop();
    if (this.runningEpisodes + this.runningActivities + this.operations > 0) {
      await new Promise<void>((resolve) => this.settledWaiters.push(resolve));
    }
    this.instanceWaiters.rejectAll(() => new Error("the local Durable host stopped"));
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
    const ended = this.instanceWaiters.wait(instanceId);
    this.schedulePump();
    return ended;
  }

  /** Moves a virtual clock forward by `ms`, firing every timer that falls due on the way. */
  advanceTime(ms: number): void {
    const clock = this.options.clock;
    if (clock.kind !== "virtual") throw new Error("advanceTime needs the virtual clock");
    const target = new Date(clock.now().getTime() + ms);
    for (;;) {
      const next = this.timers.next();
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
      event: startedEvent(record),
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
    const recovery = planRecovery(record, live.history ?? []);
    if (recovery.kind === "finish") {
      this.background(`finishing ${record.instanceId}`, () => this.finishFromHistory(live, recovery.end));
      return;
    }
    if (recovery.restart) this.deliverStart(record.instanceId);
    for (const item of recovery.activities) this.work.push(record.instanceId, item);
    for (const timer of recovery.timers) this.timers.add(timer);
    for (const child of recovery.children) {
      if (this.instances.has(child.instanceId)) continue;
      // The parent's history was written but the child's row was not: create the child now.
      this.background(`re-creating child ${child.instanceId}`, () =>
        this.createInstance(child.name, child.instanceId, child.input, child.parent, undefined),
      );
    }
  }

  /** The last episode recorded its end in history but not in the instance row (a crash in between): finish it. */
  private async finishFromHistory(live: LiveInstance, end: StoredEvent): Promise<void> {
    const updated = recordFromEndEvent(live.record, end);
    await this.options.store.putInstance(updated);
    live.record = updated;
    if (updated.status === "Running") {
      live.history = [];
      this.deliverStart(updated.instanceId);
    } else {
      live.history = undefined;
      this.notifyParent(live);
      this.instanceWaiters.resolve(updated);
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
    this.timers.arm();
    this.checkIdle();
  }

  private checkIdle(): void {
    const busy = this.runningEpisodes + this.runningActivities + this.operations + this.ready.length + this.work.size;
    if (busy > 0) return;
    const wantsAdvance =
      this.options.clock.kind === "virtual" &&
      (this.options.advanceWhenIdle === true ||
        this.instanceWaiters.size > 0 ||
        this.idleWaiters.some((w) => w.advance));
    const next = this.timers.next();
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
      this.instanceWaiters.rejectAll(
        (instanceId) => new InstanceStuckError(instanceId, this.instances.get(instanceId)?.record.status ?? "Pending"),
      );
    }
  }

  private jumpTo(time: Date): void {
    this.timers.advanceTo(time);
    this.onTimeAdvanced(this.options.clock.now());
    this.schedulePump();
  }

  private async runActivity(item: WorkItem): Promise<void> {
    this.runningActivities++;
    let event: StoredEvent;
    try {
      event = await runActivity(
        item,
        this.options.activities.get(item.name),
        () => this.options.clock.now(),
        (message) => this.options.log("info", message),
      );
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
        this.instanceWaiters.reject(live.record.instanceId, error instanceof Error ? error : new Error(String(error)));
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

    const handler = this.options.orchestrators.get(record.name);
    if (!terminate && handler) this.stats.eventsReplayed += past.length + fresh.length;
    const outcome = await decideEpisode({
      record,
      handler,
      past,
      fresh,
      terminate: terminate?.event,
      now,
      log: (message) => this.options.log("info", message),
    });

    const scheduled = outcome.status === "running" ? outcome.newTasks.map((t) => scheduledEvent(record, t, now)) : [];
    const ended = endEvent(outcome, now, terminate !== undefined);
    const newEvents = [
      ...fresh,
      ...scheduled,
      { EventType: EventType.OrchestratorCompleted, EventId: -1, Timestamp: now.toISOString() },
      ...(ended ? [ended] : []),
    ];

    // Write-ahead: history first, then the rows derived from it. A crash between the two is repaired by recover().
    await store.appendHistory(record.instanceId, record.generation, past.length, newEvents);
    const refused = await this.startChildren(record, scheduled);

    const updated = nextRecord(record, outcome, now, terminate !== undefined);
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
      this.instanceWaiters.resolve(updated);
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

  /** Hands out an activity or timer the episode scheduled (sub-orchestrations were started while committing). */
  private dispatch(record: InstanceRecord, event: StoredEvent): void {
    if (event.EventType === EventType.TaskScheduled) this.work.push(record.instanceId, workItemOf(record, event));
    else if (event.EventType === EventType.TimerCreated) this.timers.add(timerOf(record, event));
  }

  /**
   * Creates the sub-orchestrations an episode scheduled, after its history is written. A child id that is already
   * running is refused: the parent receives SubOrchestrationInstanceFailed events, returned here, instead.
   */
  private async startChildren(record: InstanceRecord, scheduled: readonly StoredEvent[]): Promise<StoredEvent[]> {
    const refused: StoredEvent[] = [];
    for (const child of scheduled) {
      if (child.EventType !== EventType.SubOrchestrationInstanceCreated) continue;
      const childId = child.InstanceId ?? "";
      const existing = this.instances.get(childId) ?? (await this.reload(childId));
      if (existing && !isTerminal(existing.record.status)) {
        const error = new InstanceExistsError(childId, existing.record.status);
        refused.push(childFailedEvent(child.EventId, error, this.options.clock.now().toISOString()));
        continue;
      }
      const parent = { instanceId: record.instanceId, generation: record.generation, taskScheduledId: child.EventId };
      await this.createInstance(child.Name ?? "", childId, child.Input, parent, existing?.record.generation);
    }
    return refused;
  }

  private notifyParent(child: LiveInstance): void {
    const { record } = child;
    const parentLink = record.parent;
    if (!parentLink || !isTerminal(record.status)) return;
    const event = childResultEvent(record, parentLink.taskScheduledId, this.options.clock.now().toISOString());
    this.deliver(parentLink.instanceId, {
      key: completionKey(parentLink.generation, parentLink.taskScheduledId),
      generation: parentLink.generation,
      persisted: false,
      event,
    });
  }
}
