// The local host's timer triggers pass the Timer argument the Functions host passes (TimerListener in
// Azure/azure-webjobs-sdk-extensions; see local/durable/timerTriggers.ts): the status from before the invocation,
// DateTime.MinValue for "never", "+00:00" offsets, isPastDue after missed occurrences.
import type { Timer } from "@azure/functions";
import type { TimerDefinition } from "../../../functions/definitions";
import { currentTick } from "../../../functions/timers/startDueWindows";
import { VirtualClock } from "../../../local/durable/clock";
import { hostDateTime, TimerTriggers } from "../../../local/durable/timerTriggers";

const definition: TimerDefinition = {
  kind: "timer",
  name: "every5",
  schedule: "0 */5 * * * *",
  handler: () => Promise.resolve(),
};

function setup(start: string) {
  const clock = new VirtualClock(new Date(start));
  const calls: Timer[] = [];
  const triggers = new TimerTriggers(
    [definition],
    clock,
    (_definition, timer) => {
      calls.push(timer);
      return Promise.resolve();
    },
    () => undefined,
  );
  triggers.start();
  const advanceTo = (iso: string): void => {
    clock.advanceTo(new Date(iso));
    triggers.onTimeAdvanced(clock.now());
  };
  return { calls, advanceTo, triggers };
}

describe("local timer triggers: the Timer argument Azure passes", () => {
  it("formats DateTimes as the host serializes them", () => {
    expect(hostDateTime(new Date("0001-01-01T00:00:00.000Z"))).toBe("0001-01-01T00:00:00+00:00");
    expect(hostDateTime(new Date("2026-01-20T01:05:00.000Z"))).toBe("2026-01-20T01:05:00+00:00");
    expect(hostDateTime(new Date("2026-01-20T01:05:00.250Z"))).toBe("2026-01-20T01:05:00.250+00:00");
  });

  it("first run after start: last and lastUpdated are DateTime.MinValue, next is the tick being fired", () => {
    const { calls, advanceTo } = setup("2026-01-20T00:58:10.000Z");
    advanceTo("2026-01-20T01:00:00.000Z");
    expect(calls).toEqual([
      {
        isPastDue: false,
        schedule: { adjustForDST: false },
        scheduleStatus: {
          last: "0001-01-01T00:00:00+00:00",
          next: "2026-01-20T01:00:00+00:00",
          lastUpdated: "0001-01-01T00:00:00+00:00",
        },
      },
    ]);
    expect(currentTick(calls[0] as Timer).toISOString()).toBe("2026-01-20T01:00:00.000Z");
  });

  it("normal tick: last is the previous tick, next the one being fired", () => {
    const { calls, advanceTo } = setup("2026-01-20T00:58:10.000Z");
    advanceTo("2026-01-20T01:00:00.000Z");
    advanceTo("2026-01-20T01:05:00.000Z");
    expect(calls[1]).toEqual({
      isPastDue: false,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: "2026-01-20T01:00:00+00:00",
        next: "2026-01-20T01:05:00+00:00",
        lastUpdated: "2026-01-20T01:00:00+00:00",
      },
    });
    expect(currentTick(calls[1] as Timer).toISOString()).toBe("2026-01-20T01:05:00.000Z");
  });

  it("past due: one invocation with isPastDue, next = the first missed occurrence; then the schedule resumes", () => {
    const { calls, advanceTo } = setup("2026-01-20T00:58:10.000Z");
    advanceTo("2026-01-20T01:00:00.000Z");
    advanceTo("2026-01-20T01:17:30.000Z"); // 01:05, 01:10 and 01:15 missed
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual({
      isPastDue: true,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: "2026-01-20T01:00:00+00:00",
        next: "2026-01-20T01:05:00+00:00",
        lastUpdated: "2026-01-20T01:00:00+00:00",
      },
    });
    advanceTo("2026-01-20T01:20:00.000Z");
    expect(calls[2]?.scheduleStatus).toEqual({
      last: "2026-01-20T01:17:30+00:00",
      next: "2026-01-20T01:20:00+00:00",
      lastUpdated: "2026-01-20T01:17:30+00:00",
    });
    expect(calls[2]?.isPastDue).toBe(false);
  });

  it("a manual run passes the stored status and leaves it unchanged", async () => {
    const { calls, advanceTo, triggers } = setup("2026-01-20T00:58:10.000Z");
    await triggers.fire("every5");
    advanceTo("2026-01-20T01:00:00.000Z");
    expect(calls.map((c) => c.scheduleStatus)).toEqual([
      {
        last: "0001-01-01T00:00:00+00:00",
        next: "2026-01-20T01:00:00+00:00",
        lastUpdated: "0001-01-01T00:00:00+00:00",
      },
      {
        last: "0001-01-01T00:00:00+00:00",
        next: "2026-01-20T01:00:00+00:00",
        lastUpdated: "0001-01-01T00:00:00+00:00",
      },
    ]);
  });
});
