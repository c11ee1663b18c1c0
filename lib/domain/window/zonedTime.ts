// Time-zone arithmetic with the ECMAScript Intl API only (no Node built-ins), so orchestrators may call it: the
// results depend only on the arguments and the ICU time-zone data.

/** A wall-clock date and time in some time zone. */
export interface LocalDateTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time in `timeZone` at an instant. */
export function toLocal(instantMs: number, timeZone: string): LocalDateTime & { second: number } {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(instantMs))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** UTC offset of `timeZone` at an instant, in milliseconds (positive east of Greenwich). */
function offsetAt(instantMs: number, timeZone: string): number {
  const l = toLocal(instantMs, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/**
 * The instant a wall-clock time happens in `timeZone`. A time in the spring-forward gap (02:30 that never exists) is
 * moved forward by the gap's length (03:30), as java.time and Temporal's "compatible" disambiguation do, so a window
 * scheduled in the gap still opens that day; in the autumn overlap (02:30 happening twice) it is the first of the two.
 */
export function fromLocal(local: LocalDateTime, timeZone: string): number {
  const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  // Try both offsets around the instant; the earliest candidate that reads back as the requested time wins.
  const candidates = [
    ...new Set([
      offsetAt(naive - 86_400_000, timeZone),
      offsetAt(naive, timeZone),
      offsetAt(naive + 86_400_000, timeZone),
    ]),
  ]
    .map((offset) => naive - offset)
    .sort((a, b) => a - b);
  for (const instant of candidates) {
    const back = toLocal(instant, timeZone);
    if (
      back.year === local.year &&
      back.month === local.month &&
      back.day === local.day &&
      back.hour === local.hour &&
      back.minute === local.minute
    ) {
      return instant;
    }
  }
  // In the gap no instant reads back as the requested time; reading it with the offset before the jump moves it
  // forward by the gap's length.
  return naive - Math.min(...candidates.map((c) => naive - c));
}
