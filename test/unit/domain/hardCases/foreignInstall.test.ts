import { decideExitCode } from "../../../../lib/domain/exitCode/decideExitCode";
import { eventTypeOf } from "../../../../lib/domain/exitCode/exitCodeTable";
import { evidenceOf } from "./exitEvidence";
import { start, walk } from "./planWalk";

// Issue 21: a foreign install already running on the device (Windows Update's installer busy, a dpkg/rpm lock held)
// was ignored and raced. The seed ties 170 to two patch processes on one device at once: the baseline reports it,
// the run stops before changing anything, and the exit code is 170 naming it.
const busy = { busy: true, by: "Windows Update", detail: "IUpdateInstaller.IsBusy: an installation is in progress" };

describe("a foreign install already running ends the run with 170", () => {
  it("stops after the baseline, before the catalog or any change, naming the other installer", () => {
    const plans = walk(start(), [[{ stage: "pre", baselineOk: true, preValidationOk: true, foreignInstall: busy }, 1]]);
    expect(plans[0]?.state.stage).toBe("done");
    expect(plans[0]?.submit).toEqual([]);
    expect(plans[0]?.state.events.at(-1)).toMatchObject({
      type: "run.stopped",
      phase: "02-baseline",
      data: { reason: "another install is in progress (Windows Update): nothing was changed", foreignInstall: busy },
    });
  });

  it("decides 170.foreign-install from the verified baseline, with device.busy as its event", () => {
    const d = decideExitCode(
      evidenceOf(
        {
          omit: [
            "catalog",
            "installSummary",
            "reboot",
            "snapshot",
            "baselineDiff",
            "postValidation",
            "regressions",
            "diagnostics",
          ],
        },
        (a) => {
          a.baseline!.installInProgress = busy;
        },
      ),
    );
    expect([d.exitCode, d.rule]).toEqual([170, "170.foreign-install"]);
    expect(d.reasons[0]).toBe(
      "another install is in progress on the device: Windows Update (IUpdateInstaller.IsBusy: an installation is in progress); nothing was changed",
    );
    // Nothing else is expected of a run that stopped for it: no 240 for the phases it never ran.
    expect(d.reasons).toHaveLength(1);
    expect(eventTypeOf(d.exitCode, d.rule)).toBe("io.patchpilot.device.busy");
  });

  it("ignores a baseline that says nothing is installing", () => {
    const d = decideExitCode(evidenceOf({}, (a) => void (a.baseline!.installInProgress = { busy: false })));
    expect(d.exitCode).toBe(0);
  });
});
