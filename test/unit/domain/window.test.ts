import { dueOccurrences, occurrencesBetween, onDemandOccurrence } from "../../../lib/domain/window/occurrences";
import {
  admitDevices,
  decideInstallBudget,
  failsRingGate,
  isWindowError,
  resolveLimit,
} from "../../../lib/domain/window/rateControl";
import { fromLocal, toLocal } from "../../../lib/domain/window/zonedTime";
import { MaintenanceWindowSchema, type MaintenanceWindow } from "../../../lib/schemas/policies";

const window = (over: Record<string, unknown> = {}): MaintenanceWindow =>
  MaintenanceWindowSchema.parse({
    schemaVersion: 1,
    id: "nightly",
    tenant: "contoso",
    clients: [],
    timeZone: "Europe/Berlin",
    recurrence: { frequency: "Daily" },
    startTime: "02:30",
    durationMinutes: 180,
    rings: [{ name: "prod" }],
    maxConcurrency: "10%",
    maxErrors: 1,
    ...over,
  });
const iso = (d: Date): string => d.toISOString();

describe("zoned time", () => {
  it("converts Berlin wall-clock times in winter and summer", () => {
    expect(fromLocal({ year: 2026, month: 1, day: 20, hour: 2, minute: 30 }, "Europe/Berlin")).toBe(
      Date.parse("2026-01-20T01:30:00Z"),
    );
    expect(fromLocal({ year: 2026, month: 7, day: 20, hour: 2, minute: 30 }, "Europe/Berlin")).toBe(
      Date.parse("2026-07-20T00:30:00Z"),
    );
    expect(toLocal(Date.parse("2026-07-20T00:30:00Z"), "Europe/Berlin")).toMatchObject({ hour: 2, minute: 30 });
  });

  it("moves a time in the spring-forward gap forward by the gap, and takes the first of a repeated hour", () => {
    // 2026-03-29 02:30 does not exist in Berlin (02:00 → 03:00 CEST); it becomes 03:30 CEST = 01:30Z.
    expect(
      new Date(fromLocal({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, "Europe/Berlin")).toISOString(),
    ).toBe("2026-03-29T01:30:00.000Z");
    // 2026-10-25 02:30 happens twice (CEST then CET); the first is 00:30Z.
    expect(
      new Date(fromLocal({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, "Europe/Berlin")).toISOString(),
    ).toBe("2026-10-25T00:30:00.000Z");
  });
});

describe("window occurrences", () => {
  it("opens a daily window at the local start time across a DST change", () => {
    const o = occurrencesBetween(
      window({ startTime: "22:00" }),
      new Date("2026-03-28T00:00:00Z"),
      new Date("2026-03-31T00:00:00Z"),
    );
    expect(o.map((x) => iso(x.start))).toEqual([
      "2026-03-28T21:00:00.000Z",
      "2026-03-29T20:00:00.000Z",
      "2026-03-30T20:00:00.000Z",
    ]);
    expect(o[0]).toMatchObject({ localDate: "2026-03-28", instanceId: "window-contoso-nightly-2026-03-28" });
    expect(iso(o[0]!.end)).toBe("2026-03-29T00:00:00.000Z");
    expect(iso(o[0]!.cutoff)).toBe("2026-03-28T23:30:00.000Z");
  });

  it("finds Patch Tuesday + 5 days, and the last weekday of a month", () => {
    const w = window({
      recurrence: { frequency: "MonthlyByWeekday", weekOfMonth: 2, dayOfWeek: "Tue", offsetDays: 5 },
      timeZone: "America/New_York",
      startTime: "01:00",
    });
    // Patch Tuesdays 2026: Jan 13, Feb 10; + 5 days = Sun Jan 18, Sun Feb 15.
    expect(
      occurrencesBetween(w, new Date("2026-01-01T00:00:00Z"), new Date("2026-03-01T00:00:00Z")).map((x) => x.localDate),
    ).toEqual(["2026-01-18", "2026-02-15"]);
    const last = window({ recurrence: { frequency: "MonthlyByWeekday", weekOfMonth: -1, dayOfWeek: "Fri" } });
    expect(
      occurrencesBetween(last, new Date("2026-01-01T00:00:00Z"), new Date("2026-03-01T00:00:00Z")).map(
        (x) => x.localDate,
      ),
    ).toEqual(["2026-01-30", "2026-02-27"]);
  });

  it("runs weekly windows on the listed days only", () => {
    const w = window({ recurrence: { frequency: "Weekly", daysOfWeek: ["Sat", "Sun"] } });
    expect(
      occurrencesBetween(w, new Date("2026-01-19T00:00:00Z"), new Date("2026-01-27T00:00:00Z")).map((x) => x.localDate),
    ).toEqual(["2026-01-24", "2026-01-25"]);
  });

  it("opens a scan window without a recurrence every day; a patch window must name one", () => {
    const { recurrence: _none, ...noRecurrence } = window();
    const scan = MaintenanceWindowSchema.parse({ ...noRecurrence, mode: "scan" });
    expect(scan.recurrence).toBeUndefined(); // stored as written; the default is read, not invented into old documents
    // 2026-03-28..31 Europe/Berlin: every local day, across the spring-forward night (02:30 CET, then 02:30 CEST).
    expect(
      occurrencesBetween(scan, new Date("2026-03-27T23:00:00Z"), new Date("2026-03-31T00:00:00Z")).map((x) =>
        iso(x.start),
      ),
    ).toEqual(["2026-03-28T01:30:00.000Z", "2026-03-29T01:30:00.000Z", "2026-03-30T00:30:00.000Z"]);
    for (const mode of [undefined, "patch"]) {
      const bad = MaintenanceWindowSchema.safeParse({ ...noRecurrence, ...(mode === undefined ? {} : { mode }) });
      expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join("."))).toEqual(["recurrence"]);
    }
  });

  it("is due for a tick inside the lookback, and no longer past the cutoff", () => {
    const w = window();
    expect(dueOccurrences(w, new Date("2026-01-20T01:34:00Z"), 10).map((o) => o.instanceId)).toEqual([
      "window-contoso-nightly-2026-01-20",
    ]);
    expect(dueOccurrences(w, new Date("2026-01-20T01:29:59Z"), 10)).toEqual([]);
    expect(dueOccurrences(w, new Date("2026-01-20T04:00:00Z"), 600)).toEqual([]); // cutoff 04:00Z (end 04:30Z - 30 min)
  });

  it("refuses an unknown time zone and a cutoff longer than the window, naming the field", () => {
    const bad = MaintenanceWindowSchema.safeParse({ ...window(), timeZone: "Mars/Olympus" });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join("."))).toEqual(["timeZone"]);
    const cut = MaintenanceWindowSchema.safeParse({ ...window(), cutoffMinutesBeforeEnd: 180 });
    expect(cut.success ? [] : cut.error.issues.map((i) => i.path.join("."))).toEqual(["cutoffMinutesBeforeEnd"]);
  });
});

describe("rate control", () => {
  it("resolves counts and percentages as Systems Manager does", () => {
    expect(resolveLimit("10%", 25, "concurrency")).toBe(2);
    expect(resolveLimit("1%", 25, "concurrency")).toBe(1);
    expect(resolveLimit("10%", 9, "errors")).toBe(0);
    expect(resolveLimit(3, 100, "errors")).toBe(3);
  });

  it("admits up to maxConcurrency, stops past maxErrors and at the cutoff", () => {
    const limits = { maxConcurrency: 3, maxErrors: 1 };
    const now = new Date("2026-01-20T02:00:00Z");
    const cutoff = new Date("2026-01-20T04:00:00Z");
    expect(admitDevices({ pending: 10, running: 1, errors: 1 }, limits, now, cutoff)).toEqual({ start: 2 });
    expect(admitDevices({ pending: 1, running: 0, errors: 0 }, limits, now, cutoff)).toEqual({ start: 1 });
    expect(admitDevices({ pending: 10, running: 1, errors: 2 }, limits, now, cutoff)).toEqual({
      start: 0,
      stop: { kind: "max-errors", errors: 2, maxErrors: 1 },
    });
    expect(admitDevices({ pending: 10, running: 0, errors: 0 }, limits, cutoff, cutoff).stop).toEqual({
      kind: "cutoff",
      cutoff: "2026-01-20T04:00:00.000Z",
    });
  });

  it("counts failures, not lock contention or a disallowed reboot, as window errors", () => {
    expect([0, 150, 170, 210, 220, 230, 240].filter((c) => isWindowError(c))).toEqual([210, 220, 230, 240]);
    expect(isWindowError("orchestration-failed")).toBe(true);
    // A code nothing defines proves nothing about the device: it counts as an error.
    expect(isWindowError(999)).toBe(true);
  });

  it("closes a ring gate on install failures and regressions only (the patch itself may be bad)", () => {
    expect([0, 150, 170, 210, 220, 230, 240].filter((c) => failsRingGate(c))).toEqual([210, 220]);
    expect(failsRingGate("orchestration-failed")).toBe(false);
  });

  it("refuses to start an install with less time left than the policy's estimate", () => {
    const end = new Date("2026-01-20T04:30:00Z");
    expect(decideInstallBudget(new Date("2026-01-20T02:30:00Z"), end, 120)).toMatchObject({
      allowed: true,
      minutesLeft: 120,
    });
    expect(decideInstallBudget(new Date("2026-01-20T02:30:01Z"), end, 120)).toMatchObject({
      allowed: false,
      minutesLeft: 119,
      reason: expect.stringContaining("install not started"),
    });
  });
});

describe("on-demand occurrences", () => {
  it("start at the minute asked, keep the window's duration and cutoff, and have their own id", () => {
    const o = onDemandOccurrence(window(), new Date("2026-01-20T10:17:42Z"));
    expect(o).toMatchObject({ localDate: "2026-01-20", instanceId: "ondemand-contoso-nightly-2026-01-20-1117" });
    expect([iso(o.start), iso(o.end), iso(o.cutoff)]).toEqual([
      "2026-01-20T10:17:00.000Z",
      "2026-01-20T13:17:00.000Z",
      "2026-01-20T12:47:00.000Z",
    ]);
  });
});
