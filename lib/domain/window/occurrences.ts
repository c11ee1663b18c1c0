import type { MaintenanceWindow } from "../../schemas/policies";
import { windowRecurrence } from "./windowRecurrence";
import { fromLocal, toLocal } from "./zonedTime";

/** One occurrence of a maintenance window. */
export interface WindowOccurrence {
  windowId: string;
  /** Local date of the start in the window's time zone (YYYY-MM-DD): names the occurrence. */
  localDate: string;
  /** Deterministic id for the occurrence's orchestration: a timer that fires twice starts nothing twice. */
  instanceId: string;
  start: Date;
  end: Date;
  /** No device run starts at or after this instant. */
  cutoff: Date;
}

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const DAY_MS = 86_400_000;

/** Calendar arithmetic on a local date, done in UTC so it never crosses a DST edge. */
function addDays(y: number, m: number, d: number, days: number): { year: number; month: number; day: number } {
  const t = new Date(Date.UTC(y, m - 1, d) + days * DAY_MS);
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

const weekday = (y: number, m: number, d: number): (typeof DAY_NAMES)[number] =>
  DAY_NAMES[new Date(Date.UTC(y, m - 1, d)).getUTCDay()] ?? "Sun";
const daysInMonth = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** Whether the window's recurrence opens on this local date. */
export function opensOn(window: MaintenanceWindow, y: number, m: number, d: number): boolean {
  const r = windowRecurrence(window);
  switch (r.frequency) {
    case "Daily":
      return true;
    case "Weekly":
      return r.daysOfWeek.includes(weekday(y, m, d));
    case "MonthlyByWeekday": {
      // The base day (e.g. Patch Tuesday) is offsetDays before this date, possibly in the previous month.
      const base = addDays(y, m, d, -r.offsetDays);
      if (weekday(base.year, base.month, base.day) !== r.dayOfWeek) return false;
      const nth = Math.floor((base.day - 1) / 7) + 1;
      return r.weekOfMonth === -1 ? base.day + 7 > daysInMonth(base.year, base.month) : nth === r.weekOfMonth;
    }
  }
}

const pad = (n: number): string => String(n).padStart(2, "0");

function occurrenceOn(window: MaintenanceWindow, year: number, month: number, day: number): WindowOccurrence {
  const [hh, mm] = window.startTime.split(":").map(Number);
  const start = fromLocal({ year, month, day, hour: hh ?? 0, minute: mm ?? 0 }, window.timeZone);
  const end = start + window.durationMinutes * 60_000;
  const localDate = `${year}-${pad(month)}-${pad(day)}`;
  return {
    windowId: window.id,
    localDate,
    instanceId: `window-${window.tenant}-${window.id}-${localDate}`,
    start: new Date(start),
    end: new Date(end),
    cutoff: new Date(end - window.cutoffMinutesBeforeEnd * 60_000),
  };
}

/** Occurrences whose start is in [from, to), in start order. */
export function occurrencesBetween(window: MaintenanceWindow, from: Date, to: Date): WindowOccurrence[] {
  // Local dates one day either side cover every time-zone offset.
  const first = toLocal(from.getTime() - DAY_MS, window.timeZone);
  const last = toLocal(to.getTime() + DAY_MS, window.timeZone);
  const out: WindowOccurrence[] = [];
  let day = { year: first.year, month: first.month, day: first.day };
  const lastKey = Date.UTC(last.year, last.month - 1, last.day);
  while (Date.UTC(day.year, day.month - 1, day.day) <= lastKey) {
    if (opensOn(window, day.year, day.month, day.day)) {
      const o = occurrenceOn(window, day.year, day.month, day.day);
      if (o.start.getTime() >= from.getTime() && o.start.getTime() < to.getTime()) out.push(o);
    }
    day = addDays(day.year, day.month, day.day, 1);
  }
  return out;
}

/**
 * The occurrences a timer tick at `now` should start: opened within the last `lookbackMinutes` (so a late or missed
 * tick still starts them) and not yet past their cutoff. Starting one twice is harmless: its instance id is fixed.
 */
export function dueOccurrences(window: MaintenanceWindow, now: Date, lookbackMinutes: number): WindowOccurrence[] {
  const from = new Date(now.getTime() - lookbackMinutes * 60_000);
  return occurrencesBetween(window, from, new Date(now.getTime() + 1)).filter(
    (o) => o.cutoff.getTime() > now.getTime(),
  );
}

/**
 * An occurrence started on demand (CLI, API) at `now`, with the window's duration and cutoff. Its instance id is
 * distinct from scheduled ones and names the minute, so asking twice within a minute starts it once.
 */
export function onDemandOccurrence(window: MaintenanceWindow, now: Date): WindowOccurrence {
  const l = toLocal(now.getTime(), window.timeZone);
  const localDate = `${l.year}-${pad(l.month)}-${pad(l.day)}`;
  const minute = `${pad(l.hour)}${pad(l.minute)}`;
  const start = Math.floor(now.getTime() / 60_000) * 60_000;
  const end = start + window.durationMinutes * 60_000;
  return {
    windowId: window.id,
    localDate,
    instanceId: `ondemand-${window.tenant}-${window.id}-${localDate}-${minute}`,
    start: new Date(start),
    end: new Date(end),
    cutoff: new Date(end - window.cutoffMinutesBeforeEnd * 60_000),
  };
}
