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

/**
 * The host's schedule status of one timer (ScheduleStatus in azure-webjobs-sdk-extensions): `last` = the occurrence
 * it last fired for, `next` = the occurrence it fires for next, `lastUpdated` = when `next` was computed. Before a
 * first invocation `last` and `lastUpdated` are DateTime.MinValue (0001-01-01).
 */
interface ScheduleStatus {
  last: Date;
  next: Date;
  lastUpdated: Date;
}

interface Scheduled {
  definition: TimerDefinition;
  status: ScheduleStatus;
  handle: NodeJS.Timeout | undefined;
}

/** .NET's default(DateTime), as the host serializes it: what `last` and `lastUpdated` say before a first run. */
export const DATETIME_MIN_VALUE = new Date("0001-01-01T00:00:00.000Z");

/**
 * A DateTime as the Functions host hands it to the Node.js worker: the host serializes TimerInfo to JSON
 * (Newtonsoft, local time = UTC in Azure, so an explicit "+00:00" offset and no fraction when it is zero), and
 * @azure/functions only camel-cases the keys (InvocationModel.ts: toCamelCaseValue for timer triggers).
 */
export function hostDateTime(date: Date): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ; years 0-9999 as 4 digits
  const [whole, fraction] = iso.slice(0, -1).split(".");
  return `${whole}${fraction === undefined || /^0+$/.test(fraction) ? "" : `.${fraction}`}+00:00`;
}

/**
 * Fires timer-triggered functions on their NCRONTAB schedules: on the wall clock with setTimeout, or on the virtual
 * clock whenever the host moves it (a run of missed occurrences fires once, with `isPastDue`). `fire` runs one on
 * demand.
 *
 * The Timer argument is what the Functions host passes, read from Azure/azure-webjobs-sdk-extensions
 * (src/WebJobs.Extensions/Extensions/Timers, commit 2e7550f7):
 *   - TimerListener.StartAsync: with no stored status the listener starts from
 *     { Last = default(DateTime), Next = schedule.GetNextOccurrence(now), LastUpdated = default(DateTime) }.
 *   - TimerListener.InvokeJobFunction: the function gets `new TimerInfo(_schedule, ScheduleStatus, isPastDue)` —
 *     the status as it was BEFORE this invocation — and only afterwards the status becomes
 *     { Last = t, Next = GetNextOccurrence(t), LastUpdated = t }, t = the invocation time (or the scheduled Next
 *     when the timer fired a little early). So on a scheduled tick `next` is the tick being fired and `last` the
 *     previous one (0001-01-01 on the first run after a deploy).
 *   - Past due (ScheduleMonitor.CheckPastDueAsync at start-up): the stored status is passed unchanged with
 *     IsPastDue = true; its `next` is the missed occurrence (OriginalSchedule = ScheduleStatus.Next).
 *   - TimerTriggerBinding.BindAsync (a manual run): the stored status, IsPastDue false, and no status update.
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
      this.scheduled.set(definition.name, {
        definition,
        status: { last: DATETIME_MIN_VALUE, next, lastUpdated: DATETIME_MIN_VALUE },
        handle: undefined,
      });
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

  /** Runs a timer trigger now, as a manual run does in Azure (status unchanged), and resolves when it has finished. */
  async fire(name: string): Promise<void> {
    const entry = this.scheduled.get(name);
    if (!entry) throw new Error(`no timer trigger named '${name}'`);
    await this.invoke(entry.definition, timerArgument(entry.status, false));
  }

  /** The virtual clock moved: fire what fell due. */
  onTimeAdvanced(now: Date): void {
    if (!this.running || this.clock.kind !== "virtual") return;
    for (const entry of this.scheduled.values()) {
      if (entry.status.next > now) continue;
      const missed = nextOccurrence(entry.definition.schedule, entry.status.next) <= now;
      this.run(entry, missed);
    }
  }

  private arm(entry: Scheduled): void {
    if (!this.running || this.clock.kind !== "real") return;
    const delay = Math.min(Math.max(0, entry.status.next.getTime() - this.clock.now().getTime()), 2 ** 31 - 1);
    entry.handle = setTimeout(() => {
      entry.handle = undefined;
      this.run(entry, false);
      this.arm(entry);
    }, delay);
  }

  private run(entry: Scheduled, isPastDue: boolean): void {
    // The handler sees the status from before this invocation (its `next` is the occurrence being fired).
    const timer = timerArgument(entry.status, isPastDue);
    const invoked = this.clock.now();
    const at = !isPastDue && entry.status.next > invoked ? entry.status.next : invoked;
    entry.status = { last: at, next: nextOccurrence(entry.definition.schedule, at), lastUpdated: at };
    this.invoke(entry.definition, timer).catch((error: unknown) => {
      // A failing timer function is logged and fires again at its next occurrence, as in Azure.
      this.log(
        `timer trigger '${entry.definition.name}' failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }
}

/** The Timer object a Node.js function receives for this status. */
export function timerArgument(status: ScheduleStatus, isPastDue: boolean): Timer {
  return {
    isPastDue,
    // NCRONTAB timers in Azure: adjustForDST is false unless the schedule is a TimeSpan; serialized as given.
    schedule: { adjustForDST: false },
    scheduleStatus: {
      last: hostDateTime(status.last),
      next: hostDateTime(status.next),
      lastUpdated: hostDateTime(status.lastUpdated),
    },
  };
}
