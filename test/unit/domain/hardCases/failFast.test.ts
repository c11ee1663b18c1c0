import { at, catalog, installed, lost, pre, rebootScheduled, start, walk } from "./planWalk";

// Issue 21: after a reboot timed out, the run still sent the post phases to a dead machine and waited about an hour
// for their commands to time out. Once the agent is known gone, the run ends at once and records why per phase.
describe("fail fast once the agent is known gone", () => {
  const postPhases = ["postSnapshot", "postValidation", "diagnostics"];

  it("ends the run when the reboot timed out with the agent still away: no post commands, a failure per post phase", () => {
    const plans = walk(start(), [
      [pre, 1],
      [catalog(1), 3],
      [installed(true), 20],
      [rebootScheduled(20), 20],
      [{ stage: "rebootWait", agentStatus: "Disconnected" }, 30],
      [{ stage: "rebootWait", agentStatus: "Disconnected" }, 50],
    ]);
    const timedOut = plans[5];
    expect(timedOut?.state.reboot.outcome).toBe("TimedOut");
    expect(timedOut?.submit).toEqual([]);
    expect(timedOut?.state.stage).toBe("done");
    expect(timedOut?.record.map((r) => r.kind === "phase-failed" && r.phase)).toEqual(postPhases);
    expect(timedOut?.record[0]).toMatchObject({
      failureKind: "AgentDisconnected",
      reason: "agent Disconnected 30 min after the reboot request: the post phases were not sent",
    });
  });

  it("still runs the post phases when the agent is back but the boot time never moved (the device can answer)", () => {
    const plans = walk(start(), [
      [pre, 1],
      [catalog(1), 3],
      [installed(true), 20],
      [rebootScheduled(20), 20],
      [{ stage: "rebootWait", agentStatus: "Connected" }, 50],
    ]);
    // Connected after the delay: the probe decides, and the wait for it is bounded by the timeout.
    expect(plans[4]?.submit).toEqual(["bootProbe"]);
  });

  it("ends the run when the agent never came back after an interrupted install", () => {
    const plans = walk(start(), [
      [pre, 1],
      [catalog(2), 3],
      [lost, 30],
      [{ stage: "installReconnect", agentStatus: "Disconnected" }, 60],
    ]);
    expect(plans[3]?.submit).toEqual([]);
    expect(plans[3]?.state.stage).toBe("done");
    expect(plans[3]?.record.map((r) => r.kind)).toEqual([
      "install-failed",
      "phase-failed",
      "phase-failed",
      "phase-failed",
    ]);
    void at;
  });
});
