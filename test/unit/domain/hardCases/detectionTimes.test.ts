import { RunEventDataSchema } from "../../../../lib/azure/events/eventData";
import { assembleRunEventData } from "../../../../lib/azure/events/runEventData";
import { RUN } from "./exitEvidence";

// Issue 21: record both the first failing POST observation of a regressed check and the one that confirmed it, and
// the proven boot, so time to detect can be read from install end and from boot.
describe("run events carry the first failing and the confirming observation, and the boot", () => {
  it("takes them from the regressed check's POST attempts and reboot.json", () => {
    const data = assembleRunEventData({
      exitCode: {
        schemaVersion: 1,
        run: RUN,
        exitCode: 220,
        name: "ValidationFailure",
        rule: "220.regressions",
        reasons: ["1 regression(s)"],
        decidedAt: "2026-01-20T02:40:00.000Z",
        artifactsRead: [],
      },
      facts: { trigger: { kind: "demo" }, dryRun: false },
      evidencePrefix: "p/",
      cited: [],
      regressions: {
        schemaVersion: 1,
        TotalRegressions: 1,
        regressions: [
          { app: "sql", check: "port", pre: { success: true, detail: "open" }, post: { success: false, detail: "x" } },
        ],
        preExisting: [],
      },
      postValidation: {
        schemaVersion: 1,
        stage: "post",
        startedAt: "2026-01-20T02:30:00.000Z",
        results: [
          {
            app: "sql",
            check: "port",
            type: "tcp",
            success: false,
            attempts: [
              { at: "2026-01-20T02:31:00.000Z", success: false, detail: "refused" },
              { at: "2026-01-20T02:32:00.000Z", success: false, detail: "refused" },
            ],
          },
          {
            app: "web",
            check: "home",
            type: "http",
            success: true,
            attempts: [{ at: "2026-01-20T02:30:10.000Z", success: false, detail: "503" }],
          },
        ],
      },
      reboot: {
        schemaVersion: 1,
        policy: "IfRequired",
        required: true,
        requested: true,
        requestedAt: "2026-01-20T02:20:00.000Z",
        bootTimeAfter: "2026-01-20T02:24:00.000Z",
        rebootCount: 1,
        outcome: "Completed",
      },
    });
    expect(RunEventDataSchema.parse(data)).toMatchObject({
      regressionFirstFailedAt: "2026-01-20T02:31:00.000Z",
      regressionDetectedAt: "2026-01-20T02:32:00.000Z",
      bootedAt: "2026-01-20T02:24:00.000Z",
    });
  });
});
