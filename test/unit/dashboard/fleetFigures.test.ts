import type { RunLogRow, UpdateLogRow, WindowLogRow } from "../../../lib/azure/logs/logRows";
import { RunLogRowSchema, UpdateLogRowSchema, WindowLogRowSchema } from "../../../lib/azure/logs/logRows";
import {
  compliancePercent,
  computeFleetFigures,
  latestRunPerDevice,
  reportArtifactPath,
  type FleetRows,
} from "../../../lib/dashboard/fleetFigures";
import { latestBy, lookbackRange } from "../../../lib/dashboard/rowSelection";

const NOW = new Date("2026-02-01T12:00:00.000Z");
const DAY = 86_400_000;
const at = (msBeforeNow: number): string => new Date(NOW.getTime() - msBeforeNow).toISOString();
const daysAgo = (days: number): string => at(days * DAY);

const NAMES: Record<number, string> = {
  0: "Success",
  150: "RebootRequired",
  170: "ConcurrencyLock",
  210: "InstallFailure",
  220: "ValidationFailure",
  230: "DiagnosticsFailure",
  240: "ReportingFailure",
};

let seq = 0;
function run(over: Partial<RunLogRow> & { Device: string; ExitCode: number; TimeGenerated: string }): RunLogRow {
  seq += 1;
  const runId = over.RunId ?? `r-${String(seq).padStart(4, "0")}`;
  // Parsed, so the hand-built rows are rows the ingestion path could have produced.
  return RunLogRowSchema.parse({
    EventId: `${runId}:io.patchpilot.run.completed`,
    Tenant: "contoso-msp",
    Client: "acme",
    RunId: runId,
    Trigger: "window",
    DryRun: false,
    ExitCodeName: NAMES[over.ExitCode] ?? "Unknown",
    Reasons: [],
    Regressions: 0,
    RegressionChecks: [],
    UpdatesApproved: 1,
    UpdatesInstalled: 1,
    UpdatesFailed: 0,
    Reboot: "not required",
    EvidencePrefix: `contoso-msp/acme/${over.Device}/${runId}/`,
    ...over,
  });
}

function update(over: Partial<UpdateLogRow> & { Device: string; RunId: string; UpdateId: string }): UpdateLogRow {
  return UpdateLogRowSchema.parse({
    TimeGenerated: daysAgo(1),
    EventId: `${over.RunId}:io.patchpilot.run.completed`,
    Tenant: "contoso-msp",
    Client: "acme",
    Title: `Update ${over.UpdateId}`,
    Installed: false,
    Result: "Failed",
    FinishedAt: daysAgo(1),
    ...over,
  });
}

function windowRow(over: Partial<WindowLogRow> & { OccurrenceId: string; TimeGenerated: string }): WindowLogRow {
  return WindowLogRowSchema.parse({
    EventId: `window-${over.OccurrenceId}:io.patchpilot.window.completed`,
    Tenant: "contoso-msp",
    WindowId: "nightly",
    ScheduledStart: over.TimeGenerated,
    Halted: true,
    HaltReasons: [{ kind: "max-errors", ring: "prod", client: "acme", detail: "3 errors > maxErrors 2" }],
    Targets: 10,
    Completed: 6,
    Succeeded: 3,
    Failed: 3,
    NotStarted: 4,
    ByExitCode: { "0": 3, "210": 3 },
    ReportPath: `contoso-msp/_windows/nightly/${over.OccurrenceId}/window-report.json`,
    ReportSha256: "a".repeat(64),
    ...over,
  });
}

const rows = (r: Partial<FleetRows>): FleetRows => ({ runs: [], updates: [], windows: [], ...r });
const figures = (r: Partial<FleetRows>, options: Partial<Parameters<typeof computeFleetFigures>[1]> = {}) =>
  computeFleetFigures(rows(r), { now: NOW, ...options });

describe("compliancePercent", () => {
  it("rounds down to one decimal in integers, so nothing short of every device reads 100", () => {
    expect(compliancePercent(1, 3)).toBe(33.3);
    expect(compliancePercent(2, 3)).toBe(66.6); // Math.round would say 66.7
    expect(compliancePercent(1999, 2000)).toBe(99.9);
    expect(compliancePercent(5, 5)).toBe(100);
    expect(compliancePercent(0, 7)).toBe(0);
    expect(compliancePercent(1, 8)).toBe(12.5);
  });
  it("is null without devices", () => {
    expect(compliancePercent(0, 0)).toBeNull();
  });
});

describe("computeFleetFigures: compliance", () => {
  const fleet = [
    // acme: dev1 failed then succeeded (compliant), dev2 regressed, dev3 succeeded and later had a dry run that failed.
    run({ Device: "dev1", ExitCode: 210, TimeGenerated: daysAgo(3) }),
    run({ Device: "dev1", ExitCode: 0, TimeGenerated: daysAgo(2) }),
    run({ Device: "dev2", ExitCode: 220, TimeGenerated: daysAgo(2) }),
    run({ Device: "dev3", ExitCode: 0, TimeGenerated: daysAgo(2) }),
    run({ Device: "dev3", ExitCode: 210, TimeGenerated: daysAgo(1), DryRun: true }),
    // globex: one device pending reboot.
    run({ Device: "dev4", Client: "globex", ExitCode: 150, TimeGenerated: daysAgo(1) }),
    // another tenant, one compliant device.
    run({ Device: "dev5", Tenant: "fabrikam-msp", Client: "north", ExitCode: 0, TimeGenerated: daysAgo(5) }),
    // a device with dry runs only has no state: it is known, so it counts as unknown (never compliant).
    run({ Device: "dev6", ExitCode: 0, TimeGenerated: daysAgo(1), DryRun: true }),
  ];

  it("counts each device by its latest non-dry run, a device without one as unknown, per client and tenant", () => {
    const f = figures({ runs: fleet });
    expect(f.compliance.byClient).toEqual([
      { tenant: "contoso-msp", client: "acme", devices: 4, compliant: 2, unknown: 1, percent: 50 },
      { tenant: "contoso-msp", client: "globex", devices: 1, compliant: 0, unknown: 0, percent: 0 },
      { tenant: "fabrikam-msp", client: "north", devices: 1, compliant: 1, unknown: 0, percent: 100 },
    ]);
    expect(f.compliance.byTenant).toEqual([
      { tenant: "contoso-msp", devices: 5, compliant: 2, unknown: 1, percent: 40 },
      { tenant: "fabrikam-msp", devices: 1, compliant: 1, unknown: 0, percent: 100 },
    ]);
    expect(f.headline).toEqual({
      devices: 6,
      compliant: 3,
      unknown: 1,
      percent: 50,
      openRegressions: 1,
      pendingReboot: 1,
      haltedWindows: 0,
    });
  });

  it("filters by tenant and client (the workbook's parameters)", () => {
    expect(figures({ runs: fleet }, { tenant: "contoso-msp" }).compliance.byTenant.map((t) => t.tenant)).toEqual([
      "contoso-msp",
    ]);
    const globex = figures({ runs: fleet }, { tenant: "contoso-msp", client: "globex" });
    expect(globex.compliance.byClient).toEqual([
      { tenant: "contoso-msp", client: "globex", devices: 1, compliant: 0, unknown: 0, percent: 0 },
    ]);
    expect(globex.openRegressions).toEqual([]);
    expect(globex.pendingReboot.map((p) => p.device)).toEqual(["dev4"]);
  });

  it("keeps devices apart by tenant and client even when their names are equal", () => {
    const f = figures({
      runs: [
        run({ Device: "web01", ExitCode: 0, TimeGenerated: daysAgo(1) }),
        run({ Device: "web01", Client: "globex", ExitCode: 220, TimeGenerated: daysAgo(1) }),
        run({ Device: "web01", Tenant: "fabrikam-msp", ExitCode: 0, TimeGenerated: daysAgo(1) }),
      ],
    });
    expect(f.headline.devices).toBe(3);
    expect(f.openRegressions.map((r) => `${r.tenant}/${r.client}/${r.device}`)).toEqual(["contoso-msp/globex/web01"]);
  });

  it("gives empty figures for no rows", () => {
    const f = figures({});
    expect(f.headline).toEqual({
      devices: 0,
      compliant: 0,
      unknown: 0,
      percent: null,
      openRegressions: 0,
      pendingReboot: 0,
      haltedWindows: 0,
    });
    expect(f.compliance).toEqual({ byTenant: [], byClient: [] });
    expect(f.exitCodesByDay).toEqual([]);
    expect(f.range).toEqual({ from: "2026-01-02T12:00:00.000Z", to: "2026-02-01T12:00:00.000Z", lookbackDays: 30 });
  });
});

describe("computeFleetFigures: lookback", () => {
  it("includes both ends of [now - lookbackDays, now] and nothing outside", () => {
    const f = figures({
      runs: [
        run({ Device: "at-start", ExitCode: 0, TimeGenerated: daysAgo(30) }),
        run({ Device: "just-before", ExitCode: 0, TimeGenerated: at(30 * DAY + 1) }),
        run({ Device: "at-now", ExitCode: 0, TimeGenerated: at(0) }),
        run({ Device: "future", ExitCode: 0, TimeGenerated: at(-1) }),
      ],
    });
    // just-before is known (seen within KNOWN_DEVICE_DAYS before the range) but has no run in it: unknown; future is
    // after the range and not known at all.
    expect(f.compliance.byClient[0]).toMatchObject({ devices: 3, compliant: 2, unknown: 1 });
    expect(f.exitCodesByDay.map((d) => d.day)).toEqual(["2026-01-02", "2026-02-01"]);
  });

  it("judges a device by its latest run inside the range: an older 220 outside it does not count", () => {
    const f = figures(
      {
        runs: [
          run({ Device: "dev1", ExitCode: 220, TimeGenerated: daysAgo(8) }),
          run({ Device: "dev1", ExitCode: 0, TimeGenerated: daysAgo(2) }),
          run({ Device: "dev2", ExitCode: 220, TimeGenerated: daysAgo(8) }),
        ],
      },
      { lookbackDays: 7 },
    );
    // dev2's only run is before the range: it is known but unknown now (not compliant, not an open regression).
    expect(f.headline).toMatchObject({ devices: 2, compliant: 1, unknown: 1, openRegressions: 0 });
    expect(f.range.lookbackDays).toBe(7);
  });

  it("compares instants, not strings: offsets are honoured", () => {
    // 2026-01-02T13:00+02:00 is 11:00Z, one hour before the range starts.
    const f = figures({ runs: [run({ Device: "dev1", ExitCode: 0, TimeGenerated: "2026-01-02T13:00:00+02:00" })] });
    expect(f.headline).toMatchObject({ devices: 1, compliant: 0, unknown: 1 });
  });

  it("refuses a lookback that is not a positive number, and an invalid now", () => {
    expect(() => figures({}, { lookbackDays: 0 })).toThrow(RangeError);
    expect(() => figures({}, { lookbackDays: Number.NaN })).toThrow(RangeError);
    expect(() => computeFleetFigures(rows({}), { now: new Date("nope") })).toThrow(RangeError);
    expect(lookbackRange(NOW, 1)).toEqual({ from: NOW.getTime() - DAY, to: NOW.getTime() });
  });
});

describe("computeFleetFigures: duplicates and ties", () => {
  it("counts a run delivered twice once", () => {
    const once = run({ Device: "dev1", ExitCode: 210, TimeGenerated: daysAgo(1), RunId: "r-dup" });
    const f = figures({ runs: [once, { ...once }, run({ Device: "dev2", ExitCode: 210, TimeGenerated: daysAgo(1) })] });
    expect(f.exitCodesByDay).toEqual([{ day: "2026-01-31", counts: [{ exitCode: 210, runs: 2 }], runs: 2 }]);
    expect(f.headline.devices).toBe(2);
  });

  it("lists a regression delivered twice once", () => {
    const regressed = run({ Device: "dev1", ExitCode: 220, TimeGenerated: daysAgo(1), RunId: "r-220" });
    expect(figures({ runs: [regressed, { ...regressed }] }).openRegressions.map((r) => r.runId)).toEqual(["r-220"]);
  });

  it("settles two runs of one device decided at the same instant by the greater RunId, whatever the row order", () => {
    const t = daysAgo(1);
    const a = run({ Device: "dev1", ExitCode: 0, TimeGenerated: t, RunId: "r-a" });
    const b = run({ Device: "dev1", ExitCode: 220, TimeGenerated: t, RunId: "r-b" });
    expect(latestRunPerDevice([a, b]).map((r) => r.RunId)).toEqual(["r-b"]);
    expect(latestRunPerDevice([b, a]).map((r) => r.RunId)).toEqual(["r-b"]);
    expect(figures({ runs: [a, b] }).headline.openRegressions).toBe(1);
    // Both runs still count in the exit-code distribution: they are different runs.
    expect(figures({ runs: [a, b] }).exitCodesByDay[0]?.runs).toBe(2);
  });

  it("latestBy keeps the first copy on a tie without a preference, and the newest otherwise", () => {
    const first = { TimeGenerated: daysAgo(1), id: "first" };
    const copy = { TimeGenerated: daysAgo(1), id: "copy" };
    const newer = { TimeGenerated: daysAgo(0.5), id: "newer" };
    expect(latestBy([first, copy], () => ["k"]).map((r) => r.id)).toEqual(["first"]);
    expect(latestBy([first, newer, copy], () => ["k"]).map((r) => r.id)).toEqual(["newer"]);
    // Key parts cannot run into each other.
    expect(
      latestBy(
        [
          { ...first, k: ["a|b", "c"] },
          { ...copy, k: ["a", "b|c"] },
        ],
        (r) => r.k,
      ),
    ).toHaveLength(2);
  });
});

describe("computeFleetFigures: lock contention (170) is never a device's state", () => {
  // 170 (ConcurrencyLock): another run held the device lock, so the run changed nothing on the device.
  it("latestRunPerDevice looks past a later 170 (and a later dry run) to the run that says the device's state", () => {
    const regressed = run({ Device: "dev1", ExitCode: 220, TimeGenerated: daysAgo(3), RunId: "r-220" });
    const locked = run({ Device: "dev1", ExitCode: 170, TimeGenerated: daysAgo(1), RunId: "r-170" });
    const dry = run({ Device: "dev1", ExitCode: 0, TimeGenerated: daysAgo(0.5), RunId: "r-dry", DryRun: true });
    expect(latestRunPerDevice([regressed, locked, dry]).map((r) => r.RunId)).toEqual(["r-220"]);
    expect(latestRunPerDevice([locked, regressed]).map((r) => r.RunId)).toEqual(["r-220"]);
    // A 170 on the same instant does not win the tie either, whatever its RunId.
    const lockedSameInstant = run({ Device: "dev1", ExitCode: 170, TimeGenerated: daysAgo(3), RunId: "r-zzz" });
    expect(latestRunPerDevice([regressed, lockedSameInstant]).map((r) => r.RunId)).toEqual(["r-220"]);
    expect(latestRunPerDevice([locked, dry])).toEqual([]);
  });

  it("keeps an open 220 open behind a later 170", () => {
    const f = figures({
      runs: [
        run({ Device: "dev1", ExitCode: 0, TimeGenerated: daysAgo(4) }),
        run({
          Device: "dev1",
          ExitCode: 220,
          TimeGenerated: daysAgo(3),
          RunId: "r-220",
          RegressionChecks: ["crm/login"],
          Regressions: 1,
        }),
        run({ Device: "dev1", ExitCode: 170, TimeGenerated: daysAgo(2), RunId: "r-170a" }),
        run({ Device: "dev1", ExitCode: 170, TimeGenerated: daysAgo(1), RunId: "r-170b" }),
      ],
    });
    expect(f.openRegressions.map((r) => [r.device, r.runId, r.decidedAt])).toEqual([["dev1", "r-220", daysAgo(3)]]);
    expect(f.headline).toMatchObject({ devices: 1, compliant: 0, percent: 0, openRegressions: 1, pendingReboot: 0 });
  });

  it("keeps a pending reboot pending behind a later 170", () => {
    const f = figures({
      runs: [
        run({ Device: "dev1", ExitCode: 150, TimeGenerated: daysAgo(2), RunId: "r-150" }),
        run({ Device: "dev1", ExitCode: 170, TimeGenerated: daysAgo(1) }),
      ],
    });
    expect(f.pendingReboot.map((p) => [p.device, p.runId])).toEqual([["dev1", "r-150"]]);
    expect(f.headline).toMatchObject({ devices: 1, compliant: 0, pendingReboot: 1, openRegressions: 0 });
  });

  it("keeps a compliant device compliant behind a later 170", () => {
    const f = figures({
      runs: [
        run({ Device: "dev1", ExitCode: 0, TimeGenerated: daysAgo(2) }),
        run({ Device: "dev1", ExitCode: 170, TimeGenerated: daysAgo(1) }),
      ],
    });
    expect(f.compliance.byClient).toEqual([
      { tenant: "contoso-msp", client: "acme", devices: 1, compliant: 1, unknown: 0, percent: 100 },
    ]);
    expect(f.compliance.byTenant).toEqual([
      { tenant: "contoso-msp", devices: 1, compliant: 1, unknown: 0, percent: 100 },
    ]);
    expect(f.headline).toMatchObject({ devices: 1, compliant: 1, percent: 100 });
  });

  it("counts a device whose only runs in the range are 170s (or dry) as unknown: its state is not known, never compliant", () => {
    const f = figures({
      runs: [
        run({ Device: "dev1", ExitCode: 0, TimeGenerated: daysAgo(2) }),
        run({ Device: "dev2", ExitCode: 170, TimeGenerated: daysAgo(2) }),
        run({ Device: "dev2", ExitCode: 170, TimeGenerated: daysAgo(1) }),
        run({ Device: "dev3", ExitCode: 170, TimeGenerated: daysAgo(1) }),
        run({ Device: "dev3", ExitCode: 220, TimeGenerated: daysAgo(0.5), DryRun: true }),
        // Its 220 is older than the range: inside it there are only 170s, so it is neither open nor compliant.
        run({ Device: "dev4", ExitCode: 220, TimeGenerated: daysAgo(31) }),
        run({ Device: "dev4", ExitCode: 170, TimeGenerated: daysAgo(1) }),
        run({ Device: "dev5", Client: "globex", ExitCode: 170, TimeGenerated: daysAgo(1) }),
        run({ Device: "dev6", Tenant: "fabrikam-msp", Client: "north", ExitCode: 170, TimeGenerated: daysAgo(1) }),
      ],
    });
    expect(f.compliance.byClient).toEqual([
      { tenant: "contoso-msp", client: "acme", devices: 4, compliant: 1, unknown: 3, percent: 25 },
      { tenant: "contoso-msp", client: "globex", devices: 1, compliant: 0, unknown: 1, percent: 0 },
      { tenant: "fabrikam-msp", client: "north", devices: 1, compliant: 0, unknown: 1, percent: 0 },
    ]);
    expect(f.compliance.byTenant).toEqual([
      { tenant: "contoso-msp", devices: 5, compliant: 1, unknown: 4, percent: 20 },
      { tenant: "fabrikam-msp", devices: 1, compliant: 0, unknown: 1, percent: 0 },
    ]);
    expect(f.headline).toEqual({
      devices: 6,
      compliant: 1,
      unknown: 5,
      percent: 16.6,
      openRegressions: 0,
      pendingReboot: 0,
      haltedWindows: 0,
    });
    expect(f.openRegressions).toEqual([]);
    // Only 170s: a device that is unknown, 0 % (not "no data", which would hide it).
    const onlyLocked = figures({ runs: [run({ Device: "dev2", ExitCode: 170, TimeGenerated: daysAgo(1) })] });
    expect(onlyLocked.headline).toMatchObject({ devices: 1, compliant: 0, unknown: 1, percent: 0 });
  });

  it("still counts every non-dry 170 in the exit codes by day: they happened", () => {
    const f = figures({
      runs: [
        run({ Device: "dev1", ExitCode: 220, TimeGenerated: "2026-01-31T01:00:00Z" }),
        run({ Device: "dev1", ExitCode: 170, TimeGenerated: "2026-01-31T02:00:00Z" }),
        run({ Device: "dev2", ExitCode: 170, TimeGenerated: "2026-01-31T03:00:00Z" }),
        run({ Device: "dev3", ExitCode: 170, TimeGenerated: "2026-01-31T04:00:00Z", DryRun: true }),
      ],
    });
    expect(f.exitCodesByDay).toEqual([
      {
        day: "2026-01-31",
        counts: [
          { exitCode: 170, runs: 2 },
          { exitCode: 220, runs: 1 },
        ],
        runs: 3,
      },
    ]);
    // dev2 (only a 170) and dev3 (only a dry 170) are known without a state: unknown.
    expect(f.headline).toMatchObject({ devices: 3, unknown: 2, openRegressions: 1 });
  });
});

describe("computeFleetFigures: exit codes by day", () => {
  it("counts non-dry runs per UTC day and code, days ascending, codes ascending", () => {
    const f = figures({
      runs: [
        run({ Device: "dev1", ExitCode: 220, TimeGenerated: "2026-01-30T23:30:00-02:00" }), // 2026-01-31T01:30Z
        run({ Device: "dev2", ExitCode: 0, TimeGenerated: "2026-01-31T00:00:00Z" }),
        run({ Device: "dev3", ExitCode: 0, TimeGenerated: "2026-01-31T23:59:59.999Z" }),
        run({ Device: "dev4", ExitCode: 170, TimeGenerated: "2026-01-30T23:59:59.999Z" }),
        run({ Device: "dev5", ExitCode: 150, TimeGenerated: "2026-01-30T12:00:00Z", DryRun: true }),
      ],
    });
    expect(f.exitCodesByDay).toEqual([
      { day: "2026-01-30", counts: [{ exitCode: 170, runs: 1 }], runs: 1 },
      {
        day: "2026-01-31",
        counts: [
          { exitCode: 0, runs: 2 },
          { exitCode: 220, runs: 1 },
        ],
        runs: 3,
      },
    ]);
  });
});

describe("computeFleetFigures: open regressions and pending reboots", () => {
  it("lists devices whose latest run ended 220 with the time to detect, newest first", () => {
    const f = figures({
      runs: [
        run({
          Device: "sql01",
          ExitCode: 220,
          TimeGenerated: daysAgo(2),
          RunId: "r-sql",
          WindowId: "nightly",
          Ring: "prod",
          Reasons: ["1 regression: crm/login"],
          Regressions: 1,
          RegressionChecks: ["crm/login"],
          InstallsFinishedAt: "2026-01-30T02:10:00Z",
          RegressionDetectedAt: "2026-01-30T02:14:30Z",
          ReportPath: "11-report/report.html",
          ReportSha256: "b".repeat(64),
        }),
        // No install finish recorded: the time to detect is unknown, not zero.
        run({
          Device: "web01",
          ExitCode: 220,
          TimeGenerated: daysAgo(1),
          RunId: "r-web",
          RegressionDetectedAt: "2026-01-31T02:00:00Z",
        }),
        // Regressed, then patched cleanly: not open.
        run({ Device: "app01", ExitCode: 220, TimeGenerated: daysAgo(3) }),
        run({ Device: "app01", ExitCode: 0, TimeGenerated: daysAgo(1) }),
        // Regressed after a success: open.
        run({ Device: "db01", ExitCode: 0, TimeGenerated: daysAgo(4) }),
        run({
          Device: "db01",
          ExitCode: 220,
          TimeGenerated: daysAgo(3),
          RunId: "r-db",
          InstallsFinishedAt: daysAgo(3.01),
          RegressionDetectedAt: daysAgo(3.02),
        }),
      ],
    });
    expect(f.openRegressions.map((r) => [r.runId, r.timeToDetectMinutes])).toEqual([
      ["r-web", null],
      ["r-sql", 4.5],
      // Negative when the clocks disagree: shown as computed, not hidden.
      ["r-db", -14.4],
    ]);
    expect(f.openRegressions[1]).toEqual({
      tenant: "contoso-msp",
      client: "acme",
      device: "sql01",
      runId: "r-sql",
      decidedAt: daysAgo(2),
      windowId: "nightly",
      ring: "prod",
      regressionChecks: ["crm/login"],
      reasons: ["1 regression: crm/login"],
      regressionDetectedAt: "2026-01-30T02:14:30Z",
      installsFinishedAt: "2026-01-30T02:10:00Z",
      timeToDetectMinutes: 4.5,
      reportPath: "11-report/report.html",
      reportArtifact: "11-report/report.html",
      reportSha256: "b".repeat(64),
      evidencePrefix: "contoso-msp/acme/sql01/r-sql/",
    });
    expect(f.openRegressions[0]?.reportArtifact).toBe("11-report/report.html");
  });

  it("finds report.html inside the run folder from the blob path the rows carry", () => {
    const prefix = "contoso-msp/acme/sql01/r-1/";
    expect(reportArtifactPath({ EvidencePrefix: prefix, ReportPath: `${prefix}11-report/report.html` })).toBe(
      "11-report/report.html",
    );
    expect(reportArtifactPath({ EvidencePrefix: prefix, ReportPath: "11-report/report.html" })).toBe(
      "11-report/report.html",
    );
    expect(reportArtifactPath({ EvidencePrefix: prefix, ReportPath: undefined })).toBe("11-report/report.html");
    expect(reportArtifactPath({ EvidencePrefix: prefix, ReportPath: "" })).toBe("11-report/report.html");
    // The prefix compares case-sensitively (as the query's startswith_cs): blob names are case-sensitive.
    expect(
      reportArtifactPath({ EvidencePrefix: prefix, ReportPath: `${prefix.toUpperCase()}11-report/report.html` }),
    ).toBe(`${prefix.toUpperCase()}11-report/report.html`);
  });

  it("orders regressions decided at the same time by tenant, client, device", () => {
    const t = daysAgo(1);
    const f = figures({
      runs: [
        run({ Device: "b", ExitCode: 220, TimeGenerated: t }),
        run({ Device: "a", Client: "zeta", ExitCode: 220, TimeGenerated: t }),
        run({ Device: "c", ExitCode: 220, TimeGenerated: t }),
      ],
    });
    expect(f.openRegressions.map((r) => `${r.client}/${r.device}`)).toEqual(["acme/b", "acme/c", "zeta/a"]);
  });

  it("lists devices whose latest run ended 150", () => {
    const f = figures({
      runs: [
        run({
          Device: "dev1",
          ExitCode: 150,
          TimeGenerated: daysAgo(2),
          RunId: "r-150",
          Reboot: "required, policy Never",
          Reasons: ["reboot required (policy Never) but not allowed"],
        }),
        run({ Device: "dev2", ExitCode: 150, TimeGenerated: daysAgo(3) }),
        run({ Device: "dev2", ExitCode: 0, TimeGenerated: daysAgo(1) }),
        run({ Device: "dev3", ExitCode: 150, TimeGenerated: daysAgo(1), DryRun: true }),
      ],
    });
    expect(f.pendingReboot).toEqual([
      {
        tenant: "contoso-msp",
        client: "acme",
        device: "dev1",
        runId: "r-150",
        decidedAt: daysAgo(2),
        reboot: "required, policy Never",
        reasons: ["reboot required (policy Never) but not allowed"],
      },
    ]);
  });
});

describe("computeFleetFigures: top failing KBs", () => {
  it("counts failed, attempted installs once per run and update, grouped by KB (update id without one)", () => {
    const f = figures({
      updates: [
        update({
          Device: "dev1",
          RunId: "r1",
          UpdateId: "u-1",
          Kb: "KB5034441",
          HResult: "0x80070643",
          Title: "2026-01 Security Update",
        }),
        // The same row delivered twice.
        update({
          Device: "dev1",
          RunId: "r1",
          UpdateId: "u-1",
          Kb: "KB5034441",
          HResult: "0x80070643",
          Title: "2026-01 Security Update",
        }),
        update({ Device: "dev1", RunId: "r2", UpdateId: "u-1", Kb: "KB5034441", HResult: "0x80240022" }),
        update({ Device: "dev2", RunId: "r3", UpdateId: "u-1", Kb: "KB5034441" }),
        // No KB: grouped by update id; an empty KB counts as none.
        update({ Device: "lnx1", RunId: "r4", UpdateId: "openssl", HResult: "0x80004005" }),
        update({ Device: "lnx2", RunId: "r5", UpdateId: "openssl", Kb: "" }),
        // Not failures: installed, or never attempted.
        update({ Device: "dev3", RunId: "r6", UpdateId: "u-9", Kb: "KB1", Installed: true, Result: "Succeeded" }),
        update({ Device: "dev3", RunId: "r6", UpdateId: "u-8", Kb: "KB2", Result: "NotAttempted" }),
        // Outside the range.
        update({ Device: "dev4", RunId: "r7", UpdateId: "u-7", Kb: "KB3", TimeGenerated: daysAgo(31) }),
      ],
    });
    expect(f.topFailingKbs).toEqual([
      {
        kb: "KB5034441",
        title: "2026-01 Security Update",
        failures: 3,
        devices: 2,
        hresults: ["0x80070643", "0x80240022"],
      },
      { kb: "openssl", title: "Update openssl", failures: 2, devices: 2, hresults: ["0x80004005"] },
    ]);
  });

  it("keeps the top 10 by failures, then KB", () => {
    const updates = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: i === 11 ? 5 : 1 + (i % 3) }, (_x, n) =>
        update({ Device: `dev${n}`, RunId: `r${i}-${n}`, UpdateId: `u${i}`, Kb: `KB${String(i).padStart(2, "0")}` }),
      ),
    ).flat();
    const top = figures({ updates }).topFailingKbs;
    expect(top).toHaveLength(10);
    expect(top.map((k) => `${k.kb}:${k.failures}`)).toEqual([
      "KB11:5",
      "KB02:3",
      "KB05:3",
      "KB08:3",
      "KB01:2",
      "KB04:2",
      "KB07:2",
      "KB10:2",
      "KB00:1",
      "KB03:1",
    ]);
  });
});

describe("computeFleetFigures: halted windows", () => {
  it("lists halted occurrences in the range once, newest first, with their reasons", () => {
    const late = windowRow({ OccurrenceId: "2026-01-31", TimeGenerated: daysAgo(1) });
    const f = figures({
      windows: [
        windowRow({
          OccurrenceId: "2026-01-29",
          TimeGenerated: daysAgo(3),
          HaltReasons: [{ kind: "ring-gate", ring: "pilot", detail: "220 in ring pilot" }],
        }),
        late,
        { ...late },
        windowRow({ OccurrenceId: "2026-01-30", TimeGenerated: daysAgo(2), Halted: false, HaltReasons: [] }),
        windowRow({ OccurrenceId: "2025-12-01", TimeGenerated: daysAgo(60) }),
        windowRow({ OccurrenceId: "2026-01-31", Tenant: "fabrikam-msp", TimeGenerated: daysAgo(1) }),
      ],
    });
    expect(f.haltedWindows.map((w) => `${w.tenant}/${w.occurrenceId}`)).toEqual([
      "contoso-msp/2026-01-31",
      "fabrikam-msp/2026-01-31",
      "contoso-msp/2026-01-29",
    ]);
    expect(f.haltedWindows[2]).toEqual({
      tenant: "contoso-msp",
      windowId: "nightly",
      occurrenceId: "2026-01-29",
      scheduledStart: daysAgo(3),
      finishedAt: daysAgo(3),
      haltReasons: [{ kind: "ring-gate", ring: "pilot", detail: "220 in ring pilot" }],
      targets: 10,
      completed: 6,
      succeeded: 3,
      failed: 3,
      notStarted: 4,
      reportPath: "contoso-msp/_windows/nightly/2026-01-29/window-report.json",
    });
    expect(f.headline.haltedWindows).toBe(3);
    expect(figures({ windows: [late] }, { tenant: "fabrikam-msp" }).haltedWindows).toEqual([]);
    // A window spans clients: the client filter leaves it in.
    expect(figures({ windows: [late] }, { client: "globex" }).haltedWindows).toHaveLength(1);
  });

  it("judges an occurrence by its latest row", () => {
    const halted = windowRow({ OccurrenceId: "2026-01-31", TimeGenerated: daysAgo(1) });
    const resent = { ...halted, TimeGenerated: daysAgo(0.5), Halted: false, HaltReasons: [] };
    expect(figures({ windows: [halted, resent] }).haltedWindows).toEqual([]);
  });
});
