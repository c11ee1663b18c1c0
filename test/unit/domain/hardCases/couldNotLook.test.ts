import { decideExitCode } from "../../../../lib/domain/exitCode/decideExitCode";
import { findExitCode } from "../../../../lib/domain/exitCode/exitCodeTable";
import { evidenceOf } from "./exitEvidence";

// Issue 21: "could not list installed updates" read as a rollback. The post snapshot turns a section the script
// could not collect into an empty list and names it in collectionErrors; the rules must read that as "could not
// look", never as "none": no 210 (which would count against maxErrors and stop the ring gate).
describe("a post-snapshot section the device could not collect is never read as none", () => {
  const couldNotList = evidenceOf({}, (a) => {
    a.snapshot!.installedUpdates = [];
    a.snapshot!.collectionErrors = [
      { section: "installedUpdates", message: "Get-HotFix: The RPC server is unavailable.", code: "0x800706BA" },
    ];
  });

  it("is not a 210 rollback: 240 (could not report), naming the section and the device's error", () => {
    const decision = decideExitCode(couldNotList);
    expect(decision.exitCode).toBe(240);
    expect(decision.rule).toBe("240.could-not-look");
    expect(decision.reasons.some((r) => r.startsWith("210"))).toBe(false);
    expect(decision.reasons[0]).toContain("installedUpdates");
    expect(decision.reasons[0]).toContain("The RPC server is unavailable");
    // Not a ring-gate failure (the patch is not known bad); it is still an error, as any 240.
    expect(findExitCode(decision.exitCode)?.failsRingGate).toBe(false);
  });

  it("still calls an update missing from a complete list a rollback (210)", () => {
    const rolledBack = evidenceOf({}, (a) => {
      a.snapshot!.installedUpdates = [];
    });
    expect(decideExitCode(rolledBack).rule).toBe("210.update-gone-after-run");
  });
});
