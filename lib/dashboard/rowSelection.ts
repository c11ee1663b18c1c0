// Row selection shared by the fleet figures: the lookback range, ordinal ordering and "latest row per key". Each
// helper states the KQL it stands for, because infra/dashboards/queries/*.kql must compute the same thing.

const DAY_MS = 86_400_000;

/** The time range the figures cover, inclusive at both ends (KQL `between (rangeStart .. rangeEnd)`). */
export interface TimeRange {
  /** Epoch milliseconds. */
  from: number;
  /** Epoch milliseconds. */
  to: number;
}

/** `[now − lookbackDays × 24 h, now]`, the KQL queries' default `ago(30d) .. now()` for 30 days. */
export function lookbackRange(now: Date, lookbackDays: number): TimeRange {
  const to = now.getTime();
  if (!Number.isFinite(to)) throw new RangeError("now is not a valid date");
  if (!Number.isFinite(lookbackDays) || lookbackDays <= 0)
    throw new RangeError(`lookbackDays must be a positive number, got ${lookbackDays}`);
  return { from: to - lookbackDays * DAY_MS, to };
}

/** Epoch milliseconds of a row timestamp (ISO 8601 with an offset, as the row schemas require). */
export function timeOf(timestamp: string): number {
  return Date.parse(timestamp);
}

/** Whether a timestamp lies in the range, both ends included. */
export function inRange(timestamp: string, range: TimeRange): boolean {
  const t = timeOf(timestamp);
  return t >= range.from && t <= range.to;
}

/** UTC calendar day of a timestamp, `YYYY-MM-DD` (KQL `bin(TimeGenerated, 1d)`, which bins in UTC). */
export function utcDay(timestamp: string): string {
  return new Date(timeOf(timestamp)).toISOString().slice(0, 10);
}

/**
 * Ordinal string order (UTF-16 code units), not locale order: KQL compares and sorts strings ordinally, and
 * localeCompare would put `-` and letters in a different order than the queries do.
 */
export function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One row per key: the one with the greatest TimeGenerated, as KQL `summarize arg_max(TimeGenerated, *) by <key>`.
 * Rows with equal times are settled by `preferOnTie(a, b) > 0` meaning `a` wins; without it the first row seen is
 * kept (the rows are copies of one delivery). Keys come out in the order they were first seen.
 */
export function latestBy<T extends { TimeGenerated: string }>(
  rows: readonly T[],
  key: (row: T) => readonly string[],
  preferOnTie?: (a: T, b: T) => number,
): T[] {
  const kept = new Map<string, T>();
  for (const row of rows) {
    // JSON of the key parts: no separator a tenant, client or device name could contain can merge two keys.
    const k = JSON.stringify(key(row));
    const current = kept.get(k);
    if (current === undefined) {
      kept.set(k, row);
      continue;
    }
    const diff = timeOf(row.TimeGenerated) - timeOf(current.TimeGenerated);
    if (diff > 0 || (diff === 0 && preferOnTie !== undefined && preferOnTie(row, current) > 0)) kept.set(k, row);
  }
  return [...kept.values()];
}
