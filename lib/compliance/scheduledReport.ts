import { createHash } from "node:crypto";

/** The period of a scheduled report: this many whole UTC days, ending the day before the tick. */
export const SCHEDULED_PERIOD_DAYS = 30;

const DAY = 86_400_000;

/** The UTC days (inclusive) a report generated on the tick covers: the last 30 whole days, ending yesterday. */
export function scheduledPeriod(tick: Date): { from: string; to: string } {
  const today = Date.parse(`${tick.toISOString().slice(0, 10)}T00:00:00Z`);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: day(today - SCHEDULED_PERIOD_DAYS * DAY), to: day(today - DAY) };
}

/**
 * The id of the scheduled report of a client and period, derived from them alone (`cr-{to}-{uuid}`, the uuid from a
 * SHA-256 of tenant, client and period, in the shape the report routes accept): a retried or re-fired timer
 * computes the same id, finds the report sealed and generates nothing twice. The "scheduled" label keeps it apart
 * from any id an HTTP call could be given.
 */
export function scheduledReportId(tenant: string, client: string, period: { from: string; to: string }): string {
  const hex = createHash("sha256")
    .update(JSON.stringify(["scheduled", tenant, client, period.from, period.to]))
    .digest("hex");
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return `cr-${period.to.replace(/-/g, "")}-${uuid}`;
}
