import { decideExitCode } from "../../../../lib/domain/exitCode/decideExitCode";
import { catalog, installed, pre, start, walk } from "./planWalk";
import { evidenceOf } from "./exitEvidence";

// Issue 21: `maxReboots: 0` still rebooted once. A limit of 0 means no reboot: the run leaves it pending (150) and
// says why.
describe("maxReboots 0 means no reboot", () => {
  it.each(["IfRequired", "Always"] as const)("%s with maxReboots 0 and a required reboot: no reboot step", (policy) => {
    const plans = walk(start(policy, 0), [
      [pre, 1],
      [catalog(1), 3],
      [installed(true), 20],
    ]);
    const afterInstall = plans[2];
    expect(afterInstall?.submit).not.toContain("reboot");
    expect(afterInstall?.state.stage).toBe("post");
    expect(afterInstall?.state.reboot).toMatchObject({
      required: true,
      requested: false,
      count: 0,
      outcome: "NotAllowed",
      reason: "the policy's maxReboots is 0: no reboot may be requested",
      decidedBy: "policy",
    });
  });

  it("gives 150 naming maxReboots as the reason", () => {
    const decision = decideExitCode(
      evidenceOf({ rebootPolicy: "IfRequired" }, (a) => {
        a.reboot = {
          ...a.reboot!,
          required: true,
          requested: false,
          rebootCount: 0,
          outcome: "NotAllowed",
          reason: "the policy's maxReboots is 0: no reboot may be requested",
          decidedBy: "policy",
        };
        delete a.reboot.bootTimeAfter;
        delete a.reboot.requestedAt;
      }),
    );
    expect(decision.exitCode).toBe(150);
    expect(decision.rule).toBe("150.reboot-not-completed");
    expect(decision.reasons[0]).toContain("maxReboots is 0");
  });
});
