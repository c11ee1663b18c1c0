import type { Timer } from "@azure/functions";
import { CronExpressionParser } from "cron-parser";
import type { TimerDefinition } from "../../functions/definitions";
import type { Clock } from "./clock";

/** Raised for a timer schedule the cron parser refuses (it names the trigger). */
export class InvalidScheduleError extends Error {
  constructor(name: string, schedule: string, reason: string) {
    super(`timer trigger '${name}' has an invalid NCRONTAB schedule '${schedule}': ${reason}`);
    this.name = "InvalidScheduleError";
  }
}

/** The next occurrence of a six-field NCRONTAB schedule (seconds first, UTC as WEBSITE_TIME_ZONE is unset) after `after`. */
export function nextOccurrence(schedule: string, after: Date): Date {
  if (schedule.trim().split(/\s+/).length !== 6)
    throw new Error("NCRONTAB schedules have six fields: {second} {minute} {hour} {day} {month} {day-of-week}");
  return CronExpressionParser.parse(schedule, { currentDate: after, tz: "UTC" }).next().toDate();
}

interface Scheduled {
  definition: TimerDefinition;
  last: Date;
  next: Date;
  handle: NodeJS.Timeout | undefined;
}

/**
 * Fires timer-triggered functions on their NCRONTAB schedules: on the wall clock with setTimeout, or on the virtual
 * clock whenever the host moves it (a run of missed occurrences fires once, with `isPastDue`). `fire` runs one on
 * demand.
 */
export class TimerTriggers {
  private readonly scheduled = new Map<string, Scheduled>();
  private running = false;

  constructor(
    definitions: readonly TimerDefinition[],
    private readonly clock: Clock,
    private readonly invoke: (definition: TimerDefinition, timer: Timer) => Promise<void>,
    private readonly log: (message: string) => void,
  ) {
    const now = clock.now();
    for (const definition of definitions) {
      let next: Date;
      try {
        next = nextOccurrence(definition.schedule, now);
      } catch (error) {
        // cron-parser throws plain Errors for bad expressions; this constructor only parses.
        throw new InvalidScheduleError(
          definition.name,
          definition.schedule,
          error instanceof Error ? error.message : String(error),
        );
      }
      this.scheduled.set(definition.name, { definition, last: now, next, handle: undefined });
    }
  }

  /** Arms every schedule (and runs the `runOnStartup` ones). */
  start(): void {
    this.running = true;
    for (const entry of this.scheduled.values()) {
      if (entry.definition.runOnStartup) this.run(entry, false);
      this.arm(entry);
    }
  }

  stop(): void {
    this.running = false;
    for (const entry of this.scheduled.values()) {
      if (entry.handle) clearTimeout(entry.handle);
      entry.handle = undefined;
    }
  }

  /** Runs a timer trigger now and resolves when its handler has finished. */
  async fire(name: string): Promise<void> {
    const entry = this.scheduled.get(name);
    if (!entry) throw new Error(`no timer trigger named '${name}'`);
    await this.invoke(entry.definition, this.timerArgument(entry, false));
  }

  /** The virtual clock moved: fire what fell due. */
  onTimeAdvanced(now: Date): void {
    if (!this.running || this.clock.kind !== "virtual") return;
    for (const entry of this.scheduled.values()) {
      if (entry.next > now) continue;
      const missed = nextOccurrence(entry.definition.schedule, entry.next) <= now;
      this.run(entry, missed);
    }
  }

  private arm(entry: Scheduled): void {
    if (!this.running || this.clock.kind !== "real") return;
    const delay = Math.min(Math.max(0, entry.next.getTime() - this.clock.now().getTime()), 2 ** 31 - 1);
    entry.handle = setTimeout(() => {
      entry.handle = undefined;
      this.run(entry, false);
      this.arm(entry);
    }, delay);
  }

  private run(entry: Scheduled, isPastDue: boolean): void {
    // The handler sees this occurrence as `last` and the one after it as `next`.
    entry.last = this.clock.now();
    entry.next = nextOccurrence(entry.definition.schedule, entry.last);
    const timer = this.timerArgument(entry, isPastDue);
    this.invoke(entry.definition, timer).catch((error: unknown) => {
      // A failing timer function is logged and fires again at its next occurrence, as in Azure.
      this.log(
        `timer trigger '${entry.definition.name}' failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }

  private timerArgument(entry: Scheduled, isPastDue: boolean): Timer {
    return {
      isPastDue,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: entry.last.toISOString(),
        next: entry.next.toISOString(),
        lastUpdated: this.clock.now().toISOString(),
      },
    };
  }
}
