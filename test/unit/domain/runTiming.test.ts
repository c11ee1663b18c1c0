import { nextPollAt } from "../../../lib/domain/run/pollSchedule";
import { assessReboot } from "../../../lib/domain/run/rebootProgress";

const t = (s: number): Date => new Date(Date.UTC(2026, 0, 20, 2, 0, s));
const plan = { expectedSeconds: 20, maxIntervalSeconds: 60, timeoutSeconds: 300, graceSeconds: 60 };

describe("poll schedule", () => {
  it("looks first after the expected duration, then backs off to the cap", () => {
    const times: number[] = [];
    let last: Date | undefined;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      last = nextPollAt(plan, t(0), attempt, last);
      times.push(((last?.getTime() ?? 0) - t(0).getTime()) / 1000);
    }
    expect(times).toEqual([20, 60, 120, 180, 240]);
  });

  it("never schedules past timeout + grace, and stops after it", () => {
    expect(nextPollAt(plan, t(0), 9, t(350))?.toISOString()).toBe(t(360).toISOString());
    expect(nextPollAt(plan, t(0), 10, t(360))).toBeUndefined();
  });
});

describe("reboot progress", () => {
  const requested = t(0);
  it("completes only when Connected with a boot time after the request", () => {
    expect(
      assessReboot(
        requested,
        { at: t(30), agentStatus: "Connected", lastBootTime: new Date(t(0).getTime() - 86_400_000) },
        30,
      ),
    ).toEqual({ state: "waiting" });
    expect(assessReboot(requested, { at: t(90), agentStatus: "Disconnected" }, 30)).toEqual({ state: "waiting" });
    expect(assessReboot(requested, { at: t(300), agentStatus: "Connected", lastBootTime: t(120) }, 30)).toEqual({
      state: "completed",
      bootTimeAfter: t(120),
    });
  });

  it("times out after the policy's wait, even if the agent is Connected with the old boot time", () => {
    expect(
      assessReboot(
        requested,
        { at: new Date(t(0).getTime() + 30 * 60_000), agentStatus: "Connected", lastBootTime: t(-5) },
        30,
      ),
    ).toEqual({ state: "timed-out", waitedMinutes: 30 });
  });
});
