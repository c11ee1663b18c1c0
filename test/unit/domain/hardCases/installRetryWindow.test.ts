import { at, catalog, lost, pre, start, walk } from "./planWalk";

// Issue 21: a hung install ran past the window. The first attempt must fit the policy's install estimate in what is
// left of the window; so must every retry and every reconcile, or the run is sealed after the window closed.
describe("install retries and reconciles obey the window's time rule", () => {
  const windowEnd = at(180);

  it("does not retry an install that timed out when the window no longer has the install estimate left", () => {
    // First attempt at minute 3 (177 min left >= 120): allowed. It hangs until its timeout (minute 125: 55 min left).
    const plans = walk(
      start(),
      [
        [pre, 1],
        [catalog(2), 3],
        [lost, 125],
      ],
      { windowEnd },
    );
    expect(plans[1]?.submit).toEqual(["install"]);
    const afterHang = plans[2];
    expect(afterHang?.state.stage).not.toBe("installReconnect");
    expect(afterHang?.submit).not.toContain("install");
    expect(afterHang?.record).toEqual([
      {
        kind: "install-failed",
        failureKind: "Timeout",
        reason:
          "install attempt 1 produced no result; not retried: only 55 min left in the window, install estimate 120 min",
      },
    ]);
    expect(afterHang?.state.events).toContainEqual(
      expect.objectContaining({ type: "phase.failed", phase: "05-install" }),
    );
  });

  it("gives up a reconcile whose agent comes back too late in the window instead of installing again", () => {
    const plans = walk(
      start(),
      [
        [pre, 1],
        [catalog(2), 3],
        [lost, 30],
        [{ stage: "installReconnect", agentStatus: "Disconnected" }, 40],
        [{ stage: "installReconnect", agentStatus: "Connected" }, 70],
      ],
      { windowEnd },
    );
    expect(plans[2]?.state.stage).toBe("installReconnect");
    const back = plans[4];
    expect(back?.submit).not.toContain("install");
    expect(back?.record).toEqual([
      {
        kind: "install-failed",
        failureKind: "Timeout",
        reason:
          "install attempt 1 produced no result; not retried: only 110 min left in the window, install estimate 120 min",
      },
    ]);
  });

  it("stops waiting for a reconnect once the window can no longer fit the install", () => {
    // Window ends at minute 150. Still disconnected at minute 35 (115 min left, 15 of the 30 min reconnect wait
    // used): waiting longer cannot lead to an install inside the window.
    const plans = walk(
      start(),
      [
        [pre, 1],
        [catalog(2), 3],
        [lost, 20],
        [{ stage: "installReconnect", agentStatus: "Disconnected" }, 35],
      ],
      { windowEnd: at(150) },
    );
    expect(plans[2]?.state.stage).toBe("installReconnect");
    expect(plans[3]?.state.stage).not.toBe("installReconnect");
    expect(plans[3]?.record[0]).toMatchObject({ kind: "install-failed", failureKind: "AgentDisconnected" });
    expect(plans[3]?.record[0]?.reason).toContain("only 115 min left in the window");
  });

  it("still retries once when the window has room (the rule, not a blanket ban)", () => {
    const plans = walk(
      start(),
      [
        [pre, 1],
        [catalog(2), 3],
        [lost, 30],
        [{ stage: "installReconnect", agentStatus: "Connected" }, 35],
      ],
      { windowEnd },
    );
    expect(plans[3]?.submit).toEqual(["install"]);
  });
});
