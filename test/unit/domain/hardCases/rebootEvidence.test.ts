import { decideExitCode } from "../../../../lib/domain/exitCode/decideExitCode";
import type { StageOutcome } from "../../../../lib/domain/run/planDeviceRun";
import type { DeviceRunState } from "../../../../lib/schemas/deviceRun";
import { evidenceOf } from "./exitEvidence";
import { at, catalog, installed, pre, start, walk } from "./planWalk";

// Issue 21: a garbled reboot answer gave a false 150 although the post snapshot proved a boot after the request and
// no reboot pending (an RMM would schedule a needless second reboot). Decide from the strongest evidence, say which.
describe("the reboot outcome comes from the strongest evidence", () => {
  /** A run at the reboot stage whose reboot command was submitted at minute 20. */
  function atReboot(): DeviceRunState {
    const plans = walk(start(), [
      [pre, 1],
      [catalog(1), 3],
      [installed(true), 20],
    ]);
    const state = plans[2]!.state;
    expect(state.stage).toBe("reboot");
    return {
      ...state,
      commands: [
        {
          step: "reboot",
          handle: { kind: "arc", resourceId: "/subscriptions/s/resourceGroups/r/providers/x/machines/m", name: "pp-r" },
          scriptVersion: "1.0.0",
          scriptSha256: "a".repeat(64),
          submittedAt: at(20).toISOString(),
          timeoutSeconds: 600,
          expectedSeconds: 180,
        },
      ] as unknown as DeviceRunState["commands"],
    };
  }
  const garbled: StageOutcome = { stage: "reboot", scheduled: false, delaySeconds: 0, answered: false };

  it("does not call an unreadable reboot answer a failed reboot: it waits for the boot time, from the submission", () => {
    const plans = walk(atReboot(), [
      [garbled, 21],
      [{ stage: "rebootWait", agentStatus: "Connected" }, 24],
      [{ stage: "bootProbe", lastBootTime: at(22).toISOString(), pendingReboot: false }, 25],
    ]);
    expect(plans[0]?.state.stage).toBe("rebootWait");
    expect(plans[0]?.state.reboot).toMatchObject({ requested: true, count: 1, requestedAt: at(20).toISOString() });
    expect(plans[2]?.state.reboot).toMatchObject({
      outcome: "Completed",
      decidedBy: "boot-probe",
      bootTimeAfter: at(22).toISOString(),
    });
  });

  it("still records a reboot the script refused (a readable answer) as Failed", () => {
    const refused: StageOutcome = { stage: "reboot", scheduled: false, delaySeconds: 0, answered: true };
    expect(walk(atReboot(), [[refused, 21]])[0]?.state.reboot).toMatchObject({
      outcome: "Failed",
      decidedBy: "reboot-answer",
    });
  });

  it("gives no 150 when the post snapshot proves a boot after the request and no reboot pending, and says so", () => {
    const decision = decideExitCode(
      evidenceOf({}, (a) => {
        a.reboot!.outcome = "TimedOut";
        a.reboot!.decidedBy = "agent-status";
        delete a.reboot!.bootTimeAfter;
      }),
    );
    expect(decision.exitCode).toBe(0);
    expect(decision.reasons.join(" ")).toContain("proven by 07-post-snapshot/snapshot.json");
  });

  it("keeps the 150 when the post snapshot's boot time is not after the request", () => {
    const decision = decideExitCode(
      evidenceOf({}, (a) => {
        a.reboot!.outcome = "TimedOut";
        a.snapshot!.lastBootTime = a.baseline!.lastBootTime;
      }),
    );
    expect(decision.exitCode).toBe(150);
  });
});
