import type { Clock } from "./clock";
import type { StoredEvent } from "./historyEvent";
import type { InstanceRecord } from "./taskHubStore";
import { TimerQueue, type PendingTimer } from "./timerQueue";

/** The durable timer a TimerCreated event asks for. */
export function timerOf(record: InstanceRecord, event: StoredEvent): PendingTimer {
  return {
    instanceId: record.instanceId,
    generation: record.generation,
    timerId: event.EventId,
    fireAt: new Date(event.FireAt ?? 0),
  };
}

/**
 * The engine's durable timers: a heap ordered by fire time, and, on the real clock, one setTimeout armed for the
 * earliest of them. On the virtual clock nothing is armed: the engine jumps the clock to the next timer when nothing
 * else can move ({@link advanceTo}).
 */
export class DurableTimers {
  private readonly queue = new TimerQueue();
  private realTimer: NodeJS.Timeout | undefined;
  private realTimerAt = Infinity;
  private running = false;

  /**
   * @param fire delivers a timer that fell due (its TimerFired message), with the time it fired at
   * @param afterRealTimer runs after the real-clock setTimeout fired the due timers (the engine pumps)
   */
  constructor(
    private readonly clock: Clock,
    private readonly fire: (timer: PendingTimer, now: Date) => void,
    private readonly afterRealTimer: () => void,
  ) {}

  /** Arms real-clock timers from now on. */
  start(): void {
    this.running = true;
  }

  /** Disarms the real-clock setTimeout; timers stay in the heap. */
  stop(): void {
    this.running = false;
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realTimer = undefined;
  }

  /** The earliest timer, without removing it. */
  next(): PendingTimer | undefined {
    return this.queue.peek();
  }

  add(timer: PendingTimer): void {
    this.queue.push(timer);
    this.arm();
  }

  /** Drops every timer of an instance (purge, restart). */
  removeInstance(instanceId: string): void {
    this.queue.removeInstance(instanceId);
  }

  /** Fires every timer due at the clock's now, earliest first. */
  fireDue(): void {
    const now = this.clock.now();
    for (const timer of this.queue.popDue(now)) this.fire(timer, now);
  }

  /** Virtual clock: moves the clock to `time` and fires what fell due. */
  advanceTo(time: Date): void {
    this.clock.advanceTo?.(time);
    this.fireDue();
  }

  /** Real clock: (re)arms the one setTimeout for the earliest timer, when that changed. */
  arm(): void {
    if (this.clock.kind !== "real" || !this.running) return;
    const next = this.queue.peek();
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
      this.fireDue();
      this.afterRealTimer();
    }, delay);
  }
}
