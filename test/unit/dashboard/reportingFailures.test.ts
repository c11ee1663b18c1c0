import { RunLogRowSchema, type RunLogRow } from "../../../lib/azure/logs/logRows";
import { computeFleetFigures } from "../../../lib/dashboard/fleetFigures";
import { renderDashboardHtml } from "../../../local/dashboard/renderDashboard";

// Issue 21: the dashboard tells a 240 that is an unreachable device or evidence that could not be collected from a
// 240 that is an integrity failure (the incident), by the exit-code rule each run row carries.
const NOW = new Date("2026-02-01T12:00:00.000Z");

function row(device: string, rule: string, exitCode = 240): RunLogRow {
  return RunLogRowSchema.parse({
    TimeGenerated: "2026-02-01T10:00:00.000Z",
    EventId: `r-${device}:io.patchpilot.run.completed`,
    Tenant: "contoso-msp",
    Client: "acme",
    Device: device,
    RunId: `r-${device}`,
    Trigger: "window",
    DryRun: false,
    ExitCode: exitCode,
    ExitCodeName: exitCode === 240 ? "ReportingFailure" : "Success",
    Rule: rule,
    Reasons: [`because ${rule}`],
    Regressions: 0,
    RegressionChecks: [],
    UpdatesApproved: 0,
    UpdatesInstalled: 0,
    UpdatesFailed: 0,
    Reboot: "not required",
    EvidencePrefix: `contoso-msp/acme/${device}/r-${device}/`,
  });
}

describe("the dashboard splits 240 by cause", () => {
  const figures = computeFleetFigures(
    {
      runs: [
        row("OFFLINE01", "240.unreachable"),
        row("BROKEN01", "240.not-collected"),
        row("TAMPERED01", "240.integrity"),
        row("OLDROW01", "240.required-artifact"),
        row("FINE01", "0.success", 0),
      ],
      updates: [],
      windows: [],
    },
    { now: NOW },
  );

  it("lists each device whose latest run is a 240 with its cause", () => {
    expect(figures.reportingFailures.map((r) => [r.device, r.cause])).toEqual([
      ["BROKEN01", "could-not-report"],
      ["OFFLINE01", "unreachable"],
      // A rule the table does not list (a row from before the split) counts as the incident: never understated.
      ["OLDROW01", "integrity"],
      ["TAMPERED01", "integrity"],
    ]);
  });

  it("renders them as separate tables on /dashboard", () => {
    const html = renderDashboardHtml(figures, { generatedAt: NOW, reportUrl: () => "#" });
    expect(html).toContain("Unreachable or could not report (240)");
    expect(html).toContain("Evidence integrity failures (240)");
    expect((html.match(/data-testid="reporting-failure"/g) ?? []).length).toBe(4);
  });
});
