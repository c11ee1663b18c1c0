import { evaluateDiagnosticsRules } from "../../../lib/domain/diagnostics/evaluateDiagnosticsRules";
import { DiagnosticsRuleSchema, DiagnosticsRulesSchema, type DiagnosticsRule } from "../../../lib/schemas/policies";
import type { DiagnosticsData } from "../../../lib/schemas/device/diagnostics";

const START = "2026-01-20T02:00:00Z";
const rule = (raw: unknown): DiagnosticsRule => DiagnosticsRuleSchema.parse(raw);

// Sections as the Windows script reports them: a SQL crash before the run (old noise) and again during it, a new
// application error, Kernel-Power 41 after the requested reboot, and a WU error.
function windowsData(over: Partial<DiagnosticsData> = {}): DiagnosticsData {
  return {
    collectedAt: "2026-01-20T03:00:00Z",
    eventLogErrors: [
      {
        log: "System",
        source: "Service Control Manager",
        id: 7031,
        level: "Error",
        time: "2026-01-19T22:00:00Z",
        message: "old",
      },
      {
        log: "System",
        source: "Service Control Manager",
        id: 7031,
        level: "Error",
        time: "2026-01-20T02:30:00Z",
        message: "again",
      },
      {
        log: "Application",
        source: "Application Error",
        id: 1000,
        level: "Error",
        time: "2026-01-20T02:40:00Z",
        message: "w3wp",
      },
      {
        log: "System",
        source: "Microsoft-Windows-Kernel-Power",
        id: 41,
        level: "Critical",
        time: "2026-01-20T02:50:00Z",
        message: "unclean",
      },
    ],
    updateAgentErrors: [
      { time: "2026-01-19T23:00:00Z", message: "before the run" },
      { time: "2026-01-20T02:35:00Z", hresult: -2147023293, message: "KB5012346 failed" },
    ],
    serviceRestarts: [
      { service: "SQL Server (MSSQLSERVER)", restarts: 5 },
      { service: "Print Spooler (Spooler)", restarts: 1 },
    ],
    disks: [{ mount: "C:", freeBytes: 5_000_000_000, totalBytes: 100_000_000_000 }],
    ...over,
  };
}

const judge = (rules: DiagnosticsRule[], data = windowsData(), os: "windows" | "linux" = "windows") =>
  evaluateDiagnosticsRules(rules, { data, os, runStartedAt: START });

describe("evaluateDiagnosticsRules", () => {
  it("newEvents counts only the run's events from the named sources, and with onlyNew skips old noise", () => {
    const [scm, app, all] = judge([
      rule({ type: "newEvents", name: "scm", sources: ["Service Control Manager"] }),
      rule({ type: "newEvents", name: "app", sources: ["application error"] }),
      rule({ type: "newEvents", name: "all", onlyNew: false, maxCount: 2 }),
    ]);
    expect(scm?.verdict).toBe("pass"); // 7031 already happened in the lookback before the run
    expect(scm?.inputs["preExisting"]).toEqual(["Service Control Manager/7031"]);
    expect(app?.verdict).toBe("fail");
    expect(app?.inputs["count"]).toBe(1);
    expect(all?.verdict).toBe("fail"); // 3 events during the run > 2
  });

  it("updateAgentErrors counts errors since the run started", () => {
    const [r] = judge([rule({ type: "updateAgentErrors", name: "wu" })]);
    expect([r?.verdict, r?.inputs["count"]]).toEqual(["fail", 1]);
    const [ok] = judge([rule({ type: "updateAgentErrors", name: "wu", maxCount: 1 })]);
    expect(ok?.verdict).toBe("pass");
  });

  it("diskFree judges the system disk (C: / /) or the named mount against percent and bytes", () => {
    const [pct, bytes, fine] = judge([
      rule({ type: "diskFree", name: "p", minFreePercent: 10 }),
      rule({ type: "diskFree", name: "b", minFreeBytes: 10_000_000_000 }),
      rule({ type: "diskFree", name: "f", minFreePercent: 5, minFreeBytes: 1_000_000_000 }),
    ]);
    expect([pct?.verdict, bytes?.verdict, fine?.verdict]).toEqual(["fail", "fail", "pass"]);
    expect(pct?.inputs).toMatchObject({ mount: "C:", freePercent: 5, minFreePercent: 10 });
    const linux = windowsData({ disks: [{ mount: "/", freeBytes: 1, totalBytes: 100 }] });
    expect(judge([rule({ type: "diskFree", name: "r", minFreePercent: 2 })], linux, "linux")[0]?.verdict).toBe("fail");
    const [missing] = judge([rule({ type: "diskFree", name: "d", mount: "D:", minFreePercent: 1 })]);
    expect(missing?.verdict).toBe("unknown");
  });

  it("serviceCrashLoop names services restarted more than allowed since boot, by service name or Windows display name", () => {
    const [any, named, spooler] = judge([
      rule({ type: "serviceCrashLoop", name: "any" }),
      rule({ type: "serviceCrashLoop", name: "sql", services: ["MSSQLSERVER"], maxRestarts: 4 }),
      rule({ type: "serviceCrashLoop", name: "spool", services: ["Spooler"] }),
    ]);
    expect(any?.verdict).toBe("fail");
    expect(any?.detail).toContain("SQL Server (MSSQLSERVER) (5)");
    expect(named?.verdict).toBe("fail");
    expect(spooler?.verdict).toBe("pass");
  });

  it("unexpectedShutdown finds EventLog 6008 / Kernel-Power 41 since the run started; not applicable on Linux", () => {
    expect(judge([rule({ type: "unexpectedShutdown", name: "u" })])[0]?.verdict).toBe("fail");
    const clean = windowsData({ eventLogErrors: [] });
    expect(judge([rule({ type: "unexpectedShutdown", name: "u" })], clean)[0]?.verdict).toBe("pass");
    expect(judge([rule({ type: "unexpectedShutdown", name: "u" })], clean, "linux")[0]?.verdict).toBe("not-applicable");
  });

  it("a section that could not be collected is unknown, never a pass", () => {
    const blind = windowsData({ eventLogErrors: null, updateAgentErrors: null, disks: null, serviceRestarts: null });
    const results = judge(
      [
        rule({ type: "newEvents", name: "e" }),
        rule({ type: "updateAgentErrors", name: "w" }),
        rule({ type: "diskFree", name: "d", minFreePercent: 1 }),
        rule({ type: "serviceCrashLoop", name: "s" }),
        rule({ type: "unexpectedShutdown", name: "u" }),
      ],
      blind,
    );
    expect(results.map((r) => r.verdict)).toEqual(["unknown", "unknown", "unknown", "unknown", "unknown"]);
  });

  it("refuses a diskFree rule without a threshold and duplicate rule names", () => {
    expect(DiagnosticsRuleSchema.safeParse({ type: "diskFree", name: "d" }).success).toBe(false);
    const twice = [
      { type: "updateAgentErrors", name: "x" },
      { type: "unexpectedShutdown", name: "x" },
    ];
    expect(DiagnosticsRulesSchema.safeParse(twice).success).toBe(false);
  });
});
