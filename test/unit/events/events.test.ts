import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloudEvent } from "cloudevents";
import { z } from "zod";
import { buildRunEvents, buildWindowEvents, runSubject } from "../../../lib/azure/events/buildEvents";
import {
  EVENT_TYPES,
  RunEventDataSchema,
  WindowEventDataSchema,
  type RunEventData,
} from "../../../lib/azure/events/eventData";
import { assembleRunEventData, unfinishedRunEventData } from "../../../lib/azure/events/runEventData";
import { assembleWindowEventData, haltReasonsOf } from "../../../lib/azure/events/windowEventData";
import { LOG_STREAMS } from "../../../lib/azure/logs/logRows";
import { MalformedEventDataError, toLogRows } from "../../../lib/azure/logs/toLogRows";
import type { InstallOutcome } from "../../../lib/schemas/artifacts/catalog";
import type { ExitCodeRecord } from "../../../lib/schemas/artifacts/outcome";
import type { WindowReport } from "../../../lib/schemas/window";
import { renderEventSchemas } from "../../../scripts/exportEventSchemas";

const run = { tenant: "contoso-msp", client: "fabrikam", device: "FAB-SQL01", runId: "r20260120-0001" };
const sha = (c: string): string => c.repeat(64);
const exitCode = (code: number, name: ExitCodeRecord["name"]): ExitCodeRecord => ({
  schemaVersion: 1,
  run,
  exitCode: code as ExitCodeRecord["exitCode"],
  name,
  rule: `${code}.rule`,
  reasons: [`reason for ${code}`],
  decidedAt: "2026-01-20T03:10:00.000Z",
  artifactsRead: [],
});
const install = (over: Partial<InstallOutcome>): InstallOutcome =>
  ({
    schemaVersion: 1,
    device: "FAB-SQL01",
    source: "device",
    updateId: "u1",
    kb: "KB5012345",
    title: "Cumulative Update",
    installed: true,
    result: "Succeeded",
    rebootRequired: false,
    finishedAt: "2026-01-20T02:30:00.000Z",
    ...over,
  }) as InstallOutcome;

function runData(code: number, name: ExitCodeRecord["name"]): RunEventData {
  return assembleRunEventData({
    exitCode: exitCode(code, name),
    facts: { trigger: { kind: "window", windowId: "nightly", ring: "prod" }, dryRun: true },
    evidencePrefix: "contoso-msp/fabrikam/FAB-SQL01/r20260120-0001/",
    cited: [
      { path: "11-report/exit-code.json", sha256: sha("a") },
      { path: "11-report/report.html", sha256: sha("b") },
    ],
    installs: [
      install({}),
      install({
        updateId: "u2",
        kb: "KB5099999",
        installed: false,
        result: "Failed",
        hresult: -2145124318,
        finishedAt: "2026-01-20T02:40:00.000Z",
      }),
    ],
    regressions: {
      schemaVersion: 1,
      TotalRegressions: 1,
      regressions: [
        {
          app: "sql",
          check: "port-1433",
          pre: { success: true, detail: "open" },
          post: { success: false, detail: "refused" },
        },
      ],
      preExisting: [],
    },
    postValidation: {
      schemaVersion: 1,
      device: "FAB-SQL01",
      source: "device",
      stage: "post",
      startedAt: "2026-01-20T02:50:00.000Z",
      results: [
        {
          app: "sql",
          check: "port-1433",
          type: "tcp",
          success: false,
          attempts: [
            { at: "2026-01-20T02:51:00.000Z", success: false, detail: "refused" },
            { at: "2026-01-20T02:53:00.000Z", success: false, detail: "refused" },
          ],
        },
        {
          app: "web",
          check: "home",
          type: "http",
          success: true,
          attempts: [{ at: "2026-01-20T02:59:00.000Z", success: true, detail: "200" }],
        },
      ],
    } as never,
  });
}

/** Validates with the `cloudevents` package (an independent implementation of the spec); throws when invalid. */
function validateWithSdk(event: object): CloudEvent<unknown> {
  const ce = new CloudEvent<unknown>(event, true);
  expect(ce.validate()).toBe(true);
  return ce;
}

describe("run events", () => {
  it("sends run.completed, plus the exit code's own event, each valid CloudEvents 1.0", () => {
    const cases: [number, ExitCodeRecord["name"], string[]][] = [
      [0, "Success", [EVENT_TYPES.runCompleted]],
      [150, "RebootRequired", [EVENT_TYPES.runCompleted, EVENT_TYPES.rebootRequired]],
      [170, "ConcurrencyLock", [EVENT_TYPES.runCompleted, EVENT_TYPES.deviceBusy]],
      [210, "InstallFailure", [EVENT_TYPES.runCompleted, EVENT_TYPES.installFailed]],
      [220, "ValidationFailure", [EVENT_TYPES.runCompleted, EVENT_TYPES.regressionDetected]],
      [230, "DiagnosticsFailure", [EVENT_TYPES.runCompleted, EVENT_TYPES.diagnosticsFailed]],
      [240, "ReportingFailure", [EVENT_TYPES.runCompleted, EVENT_TYPES.integrityFailed]],
    ];
    for (const [code, name, types] of cases) {
      const events = buildRunEvents(runData(code, name));
      expect(events.map((e) => e.type)).toEqual(types);
      for (const e of events) {
        validateWithSdk(e);
        expect(e.subject).toBe("/tenants/contoso-msp/clients/fabrikam/devices/FAB-SQL01/runs/r20260120-0001");
        expect(RunEventDataSchema.parse(e.data)).toEqual(e.data);
      }
    }
  });

  it("derives ids from the run and the type, so a retried publish repeats them exactly", () => {
    const first = buildRunEvents(runData(220, "ValidationFailure"));
    const again = buildRunEvents(runData(220, "ValidationFailure"));
    expect(again).toEqual(first);
    expect(first.map((e) => e.id)).toEqual([
      "contoso-msp/r20260120-0001/run.completed",
      "contoso-msp/r20260120-0001/regression.detected",
    ]);
    expect(new Set(first.map((e) => e.id)).size).toBe(2);
    expect(first[0]?.time).toBe("2026-01-20T03:10:00.000Z");
  });

  it("carries what on-call needs: regressions PRE/POST, failed updates with HRESULT, hashes, time to detect", () => {
    const data = runData(220, "ValidationFailure");
    expect(data.regressions).toEqual([
      {
        app: "sql",
        check: "port-1433",
        pre: { success: true, detail: "open" },
        post: { success: false, detail: "refused" },
      },
    ]);
    expect(data.updates.find((u) => u.updateId === "u2")).toMatchObject({
      installed: false,
      result: "Failed",
      hresult: "0x80240022",
    });
    expect(data.evidence.artifacts).toContainEqual({ path: "11-report/report.html", sha256: sha("b") });
    // Detection: the last POST attempt of the regressed check (not of other checks); installs: the last install.
    expect(data.regressionDetectedAt).toBe("2026-01-20T02:53:00.000Z");
    expect(data.installsFinishedAt).toBe("2026-01-20T02:40:00.000Z");
    // Without a final report the counts come from the artifacts that exist.
    expect(data.counts).toEqual({ approved: 2, installed: 1, failed: 1, regressions: 1 });
  });

  it("takes trigger and dry-run from the orchestration only when run.json is not in the verified evidence", () => {
    // runData has no run.json: the orchestration's facts stand in, never invented defaults.
    expect(runData(0, "Success")).toMatchObject({
      trigger: { kind: "window", windowId: "nightly", ring: "prod" },
      dryRun: true,
    });
  });

  it("announces a run without a verified exit code as 240 evidence.incomplete, from what the orchestration knows", () => {
    const data = unfinishedRunEventData(
      run,
      { trigger: { kind: "demo" }, dryRun: false },
      "2026-01-20T03:00:00.000Z",
      "p/",
      "the run could not be sealed and decided: 503",
    );
    const events = buildRunEvents(data);
    // Could not report, not tampered evidence (issue 21: 240.unfinished sends evidence.incomplete).
    expect(events.map((e) => e.type)).toEqual([EVENT_TYPES.runCompleted, EVENT_TYPES.evidenceIncomplete]);
    for (const e of events) validateWithSdk(e);
    expect(RunEventDataSchema.parse(data)).toMatchObject({
      exitCode: 240,
      exitCodeName: "ReportingFailure",
      reasons: ["the run could not be sealed and decided: 503"],
    });
    expect(toLogRows(events[0]!).runs[0]).toMatchObject({ ExitCode: 240, RunId: run.runId });
  });

  it("subjects are the issue's path, whatever the ids", () => {
    expect(runSubject({ tenant: "t", client: "c", device: "D.1", runId: "r-00000001" })).toBe(
      "/tenants/t/clients/c/devices/D.1/runs/r-00000001",
    );
  });
});

const occurrence = {
  windowId: "nightly",
  localDate: "2026-01-20",
  instanceId: "window:contoso-msp:nightly:20260120",
  start: "2026-01-20T02:00:00.000Z",
  end: "2026-01-20T06:00:00.000Z",
  cutoff: "2026-01-20T05:30:00.000Z",
};
function windowReport(stop?: "max-errors" | "gate"): WindowReport {
  const result = (device: string, code: number) => ({
    client: "fabrikam",
    ring: "dev",
    device,
    instanceId: "i",
    runId: "r",
    status: "completed" as const,
    result: {
      run: { ...run, device },
      exitCode: code,
      exitName: "x",
      counts: { approved: 1, installed: 1, failed: 0, regressions: 0 },
      evidencePrefix: "p",
    },
  });
  return {
    schemaVersion: 1,
    tenant: "contoso-msp",
    windowId: "nightly",
    occurrence,
    startedBy: "schedule",
    finishedAt: "2026-01-20T04:00:00.000Z",
    rings: [
      {
        ring: "dev",
        started: true,
        rollouts: [
          {
            client: "fabrikam",
            ring: "dev",
            limits: { maxConcurrency: 1, maxErrors: 0 },
            outcomes: [result("A", 0), result("B", 210)],
            ...(stop === "max-errors" ? { stop: { kind: "max-errors" as const, errors: 1, maxErrors: 0 } } : {}),
          },
        ],
      },
      ...(stop === "gate"
        ? [
            {
              ring: "prod",
              started: false,
              reason: "ring dev gate closed: install failures or regressions on B",
              rollouts: [],
            },
          ]
        : []),
    ],
    skipped: [],
    decisions: ["2 devices targeted"],
    totals: { targets: 2, completed: 2, notStarted: 0, orchestrationFailed: 0, byExitCode: { "0": 1, "210": 1 } },
  };
}

describe("window events", () => {
  const stored = { path: "contoso-msp/_windows/nightly/x/window-report.json", sha256: sha("c") };
  it("sends window.completed always and window.halted only after a safety stop", () => {
    expect(buildWindowEvents(assembleWindowEventData(windowReport(), stored)).map((e) => e.type)).toEqual([
      EVENT_TYPES.windowCompleted,
    ]);
    for (const stop of ["max-errors", "gate"] as const) {
      const events = buildWindowEvents(assembleWindowEventData(windowReport(stop), stored));
      expect(events.map((e) => e.type)).toEqual([EVENT_TYPES.windowCompleted, EVENT_TYPES.windowHalted]);
      for (const e of events) {
        validateWithSdk(e);
        expect(WindowEventDataSchema.parse(e.data)).toEqual(e.data);
        expect(e.subject).toBe("/tenants/contoso-msp/windows/nightly/occurrences/window:contoso-msp:nightly:20260120");
      }
    }
  });

  it("names why it halted, and counts succeeded and failed runs", () => {
    expect(haltReasonsOf(windowReport("max-errors"))).toEqual([
      { kind: "max-errors", ring: "dev", client: "fabrikam", detail: "maxErrors (0) exceeded with 1 errors" },
    ]);
    expect(haltReasonsOf(windowReport("gate"))).toEqual([
      {
        kind: "ring-gate",
        ring: "prod",
        detail: "not started: ring dev gate closed: install failures or regressions on B",
      },
    ]);
    const data = assembleWindowEventData(windowReport(), stored);
    expect(data.totals).toMatchObject({ succeeded: 1, failed: 1, targets: 2 });
  });
});

describe("Log Analytics rows", () => {
  const tables = (
    JSON.parse(readFileSync(join(__dirname, "../../../infra/logs/tables.json"), "utf8")) as {
      tables: { name: string; stream: string; columns: { name: string; type: string }[] }[];
    }
  ).tables;

  /** The DCR column type a zod field serialises to. */
  function dcrType(field: z.ZodType): string {
    const inner = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
    if (inner instanceof z.ZodISODateTime) return "datetime";
    if (inner instanceof z.ZodString) return "string";
    if (inner instanceof z.ZodNumber) return inner.format === "safeint" ? "int" : "real";
    if (inner instanceof z.ZodBoolean) return "boolean";
    if (inner instanceof z.ZodArray || inner instanceof z.ZodRecord || inner instanceof z.ZodObject) return "dynamic";
    throw new Error(`no DCR type for ${inner.constructor.name}`);
  }

  it("row schemas have exactly the declared columns, with the declared types", () => {
    expect(Object.values(LOG_STREAMS).map((s) => [s.table, s.stream])).toEqual(tables.map((t) => [t.name, t.stream]));
    for (const stream of Object.values(LOG_STREAMS)) {
      const table = tables.find((t) => t.name === stream.table);
      const shape = stream.schema.shape as Record<string, z.ZodType>;
      expect(Object.keys(shape)).toEqual(table?.columns.map((c) => c.name));
      expect(Object.entries(shape).map(([name, f]) => ({ name, type: dcrType(f) }))).toEqual(table?.columns);
    }
  });

  it("run.completed becomes one run row and one row per update; the alert types add none", () => {
    const [completed, regression] = buildRunEvents(runData(220, "ValidationFailure"));
    const rows = toLogRows(completed!);
    expect(rows.runs).toHaveLength(1);
    expect(rows.updates.map((u) => [u.Kb, u.Installed, u.HResult])).toEqual([
      ["KB5012345", true, undefined],
      ["KB5099999", false, "0x80240022"],
    ]);
    expect(rows.runs[0]).toMatchObject({
      ExitCode: 220,
      RunId: "r20260120-0001",
      RegressionChecks: ["sql/port-1433"],
      ReportPath: "contoso-msp/fabrikam/FAB-SQL01/r20260120-0001/11-report/report.html",
      ReportSha256: sha("b"),
      RegressionDetectedAt: "2026-01-20T02:53:00.000Z",
    });
    for (const row of rows.runs) LOG_STREAMS.runs.schema.parse(row);
    for (const row of rows.updates) LOG_STREAMS.updates.schema.parse(row);
    expect(toLogRows(regression!)).toEqual({ runs: [], updates: [], windows: [] });
  });

  it("window.completed becomes one window row", () => {
    const [completed] = buildWindowEvents(
      assembleWindowEventData(windowReport("max-errors"), { path: "p/window-report.json", sha256: sha("c") }),
    );
    const rows = toLogRows(completed!);
    expect(rows.windows).toHaveLength(1);
    expect(LOG_STREAMS.windows.schema.parse(rows.windows[0])).toMatchObject({
      Halted: true,
      Targets: 2,
      Failed: 1,
      Succeeded: 1,
    });
  });

  it("refuses run.completed data that does not match its schema (it would never parse: dead-letter)", () => {
    const [completed] = buildRunEvents(runData(0, "Success"));
    expect(() => toLogRows({ ...completed!, data: { exitCode: "zero" } })).toThrow(MalformedEventDataError);
  });
});

describe("docs/events", () => {
  it("holds exactly the schemas generated from the zod source (npm run schemas:export)", () => {
    for (const [name, content] of renderEventSchemas()) {
      expect(readFileSync(join(__dirname, "../../../docs/events", name), "utf8")).toBe(content);
    }
  });
});
