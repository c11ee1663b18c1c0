import { VirtualClock } from "../../../local/durable/clock";
import { FairQueue } from "../../../local/durable/fairQueue";
import { compileRoute } from "../../../local/durable/httpFront";
import { TimerQueue } from "../../../local/durable/timerQueue";
import { nextOccurrence } from "../../../local/durable/timerTriggers";

describe("VirtualClock", () => {
  it("moves only forward", () => {
    const clock = new VirtualClock(new Date("2026-01-01T00:00:00Z"));
    clock.advanceTo(new Date("2026-01-01T06:00:00Z"));
    clock.advanceTo(new Date("2026-01-01T01:00:00Z"));
    expect(clock.now().toISOString()).toBe("2026-01-01T06:00:00.000Z");
  });
});

describe("TimerQueue", () => {
  it("pops due timers earliest first and keeps the rest", () => {
    const queue = new TimerQueue();
    for (const minute of [30, 5, 20, 10, 40]) {
      queue.push({
        instanceId: `i${minute}`,
        generation: 0,
        timerId: minute,
        fireAt: new Date(Date.UTC(2026, 0, 1, 0, minute)),
      });
    }
    expect(queue.popDue(new Date(Date.UTC(2026, 0, 1, 0, 25))).map((t) => t.timerId)).toEqual([5, 10, 20]);
    expect(queue.peek()?.timerId).toBe(30);
    queue.removeInstance("i30");
    expect(queue.peek()?.timerId).toBe(40);
    expect(queue.size).toBe(1);
  });
});

describe("FairQueue", () => {
  it("serves owners in turn, so a big fan-out does not starve a small one", () => {
    const queue = new FairQueue<string>();
    for (let i = 0; i < 4; i++) queue.push("big", `big${i}`);
    queue.push("small", "small0");
    const order: string[] = [];
    for (let item = queue.take(); item !== undefined; item = queue.take()) order.push(item);
    expect(order).toEqual(["big0", "small0", "big1", "big2", "big3"]);
    expect(queue.size).toBe(0);
  });
});

describe("compileRoute", () => {
  it("matches Azure route templates with parameters, constraints and optional segments", () => {
    const runs = compileRoute("runs/{runId}/devices/{deviceId:int}");
    expect(runs.params).toEqual(["runId", "deviceId"]);
    expect(runs.pattern.exec("runs/r-1/devices/42")?.groups).toEqual({ runId: "r-1", deviceId: "42" });
    expect(runs.pattern.test("runs/r-1/devices/abc")).toBe(false);
    const optional = compileRoute("audit/{tenant?}");
    expect(optional.pattern.test("audit")).toBe(true);
    expect(optional.pattern.exec("audit/contoso")?.groups?.tenant).toBe("contoso");
    expect(compileRoute("files/{*path}").pattern.exec("files/a/b.json")?.groups?.path).toBe("a/b.json");
  });
});

describe("nextOccurrence", () => {
  it("reads six-field NCRONTAB schedules, seconds first, in UTC", () => {
    expect(nextOccurrence("0 */30 * * * *", new Date("2026-01-01T00:10:00Z")).toISOString()).toBe(
      "2026-01-01T00:30:00.000Z",
    );
    expect(nextOccurrence("30 0 2 * * 1-5", new Date("2026-01-02T03:00:00Z")).toISOString()).toBe(
      "2026-01-05T02:00:30.000Z",
    );
  });

  it("refuses the five-field cron form", () => {
    expect(() => nextOccurrence("0 2 * * *", new Date())).toThrow(/six fields/);
  });
});
