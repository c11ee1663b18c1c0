import {
  RunLogRowSchema,
  UpdateLogRowSchema,
  WindowLogRowSchema,
  type RunLogRow,
} from "../../../lib/azure/logs/logRows";
import { computeFleetFigures, type FleetFigures, type OpenRegression } from "../../../lib/dashboard/fleetFigures";
import { niceCeiling, utcDays } from "../../../local/dashboard/charts";
import { QuarantineEntrySchema, type QuarantineEntry } from "../../../lib/schemas/quarantine";
import { renderDashboardHtml } from "../../../local/dashboard/renderDashboard";

const NOW = new Date("2026-02-01T12:00:00.000Z");
const daysAgo = (d: number): string => new Date(NOW.getTime() - d * 86_400_000).toISOString();
const HOSTILE = `<script>alert("x")</script>' & <img src=x onerror=alert(1)>`;

let seq = 0;
function run(over: Partial<RunLogRow> & { Device: string; ExitCode: number; TimeGenerated: string }): RunLogRow {
  seq += 1;
  return RunLogRowSchema.parse({
    EventId: `e${seq}`,
    Tenant: "contoso-msp",
    Client: "acme",
    RunId: `r-${seq}`,
    Trigger: "window",
    DryRun: false,
    ExitCodeName: "X",
    Reasons: [],
    Regressions: 0,
    RegressionChecks: [],
    UpdatesApproved: 0,
    UpdatesInstalled: 0,
    UpdatesFailed: 0,
    Reboot: "not required",
    EvidencePrefix: "p/",
    ...over,
  });
}

function fleet(): FleetFigures {
  return computeFleetFigures(
    {
      runs: [
        run({ Device: "dev1", ExitCode: 0, TimeGenerated: daysAgo(1) }),
        run({ Device: "dev2", ExitCode: 0, TimeGenerated: daysAgo(2) }),
        run({ Device: "dev3", ExitCode: 210, TimeGenerated: daysAgo(2) }),
        run({
          Device: "sql01",
          ExitCode: 220,
          TimeGenerated: daysAgo(1),
          RunId: "r-sql-220",
          RegressionChecks: ["crm/login"],
          InstallsFinishedAt: "2026-01-31T02:00:00Z",
          RegressionDetectedAt: "2026-01-31T02:04:30Z",
          ReportPath: "11-report/report.html",
        }),
        run({
          Device: "web01",
          Client: "globex",
          ExitCode: 150,
          TimeGenerated: daysAgo(3),
          RunId: "r-web-150",
          Reboot: "required",
        }),
        run({ Device: "app01", Tenant: "fabrikam-msp", Client: "north", ExitCode: 240, TimeGenerated: daysAgo(3) }),
      ],
      updates: [
        UpdateLogRowSchema.parse({
          TimeGenerated: daysAgo(2),
          EventId: "e",
          Tenant: "contoso-msp",
          Client: "acme",
          Device: "dev3",
          RunId: "r-3",
          UpdateId: "u1",
          Kb: "KB5034441",
          Title: "2026-01 Cumulative Update",
          Installed: false,
          Result: "Failed",
          HResult: "0x80070643",
          FinishedAt: daysAgo(2),
        }),
      ],
      windows: [
        WindowLogRowSchema.parse({
          TimeGenerated: daysAgo(1),
          EventId: "w",
          Tenant: "contoso-msp",
          WindowId: "nightly",
          OccurrenceId: "2026-01-31",
          ScheduledStart: daysAgo(1.1),
          Halted: true,
          HaltReasons: [{ kind: "ring-gate", ring: "pilot", detail: "220 in ring pilot closes prod" }],
          Targets: 6,
          Completed: 2,
          Succeeded: 1,
          Failed: 1,
          NotStarted: 4,
          ByExitCode: { "0": 1, "220": 1 },
          ReportPath: "contoso-msp/_windows/nightly/2026-01-31/window-report.json",
          ReportSha256: "a".repeat(64),
        }),
      ],
    },
    { now: NOW },
  );
}

const reportUrl = (row: OpenRegression): string =>
  `/api/v1/tenants/${row.tenant}/runs/${row.runId}/artifacts/${row.reportArtifact}`;
const render = (f: FleetFigures, over: Partial<Parameters<typeof renderDashboardHtml>[1]> = {}): string =>
  renderDashboardHtml(f, { generatedAt: NOW, reportUrl, ...over });

const decode = (s: string): string => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));

/** Every element carrying `data-testid="<id>"`, as its decoded attributes. */
function hooks(html: string, id: string): Record<string, string>[] {
  return [...html.matchAll(new RegExp(`<[a-z]+ [^>]*data-testid="${id}"[^>]*>`, "g"))].map((m) =>
    Object.fromEntries([...m[0].matchAll(/([a-z-]+)="([^"]*)"/g)].map((a) => [a[1] ?? "", decode(a[2] ?? "")])),
  );
}

describe("renderDashboardHtml: a complete, self-contained page", () => {
  const html = render(fleet());

  it("is one HTML document with a CSP that forbids scripts and external assets, reloading every 30 s", () => {
    expect(html.startsWith("<!doctype html>\n")).toBe(true);
    expect(html.endsWith("</html>\n")).toBe(true);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    expect(html).toContain('<meta http-equiv="refresh" content="30">');
    expect(html).not.toMatch(/<script|<link |<img|<iframe| src=|url\(/i);
    expect(render(fleet(), { refreshSeconds: 0 })).not.toContain('http-equiv="refresh"');
  });

  it("draws the charts as inline SVG", () => {
    expect(html.match(/<svg class="chart"/g)).toHaveLength(2);
    expect(html).toContain('aria-label="Patch compliance by tenant and client"');
    expect(html).toContain('aria-label="Non-dry runs per day by exit code"');
  });
});

describe("renderDashboardHtml: the numbers are the figures'", () => {
  const f = fleet();
  const html = render(f);

  it("tiles", () => {
    const tile = (name: string): string | undefined => hooks(html, `tile-${name}`)[0]?.["data-value"];
    expect(tile("compliance")).toBe(String(f.headline.percent));
    expect(f.headline.percent).toBe(33.3);
    expect(tile("open-regressions")).toBe("1");
    expect(tile("pending-reboot")).toBe("1");
    expect(tile("halted-windows")).toBe("1");
    expect(html).toContain("33.3%");
    expect(html).toContain("2 of 6 devices");
  });

  it("compliance bars per tenant (no data-client) and per client", () => {
    const bars = hooks(html, "compliance-percent");
    const expected = [
      ...f.compliance.byTenant.map((t) => ({
        tenant: t.tenant,
        client: undefined,
        percent: t.percent,
        compliant: t.compliant,
        devices: t.devices,
      })),
      ...f.compliance.byClient.map((c) => ({
        tenant: c.tenant,
        client: c.client,
        percent: c.percent,
        compliant: c.compliant,
        devices: c.devices,
      })),
    ];
    const seen = bars.map((b) => ({
      tenant: b["data-tenant"],
      client: b["data-client"],
      percent: Number(b["data-percent"]),
      compliant: Number(b["data-compliant"]),
      devices: Number(b["data-devices"]),
    }));
    expect(seen).toHaveLength(expected.length);
    expect(seen).toEqual(expect.arrayContaining(expected));
    // Tenants come first, each followed by its clients.
    expect(seen.map((b) => `${b.tenant}/${b.client ?? "*"}`)).toEqual([
      "contoso-msp/*",
      "contoso-msp/acme",
      "contoso-msp/globex",
      "fabrikam-msp/*",
      "fabrikam-msp/north",
    ]);
    expect(html).toContain("50.0%");
  });

  it("exit-code bars per day and code, over every day of the range", () => {
    const bars = hooks(html, "exit-code-bar").map((b) => ({
      day: b["data-day"],
      code: Number(b["data-code"]),
      count: Number(b["data-count"]),
    }));
    const expected = f.exitCodesByDay.flatMap((d) =>
      d.counts.map((c) => ({ day: d.day, code: c.exitCode, count: c.runs })),
    );
    expect(bars).toEqual(expected);
    expect(bars.reduce((n, b) => n + b.count, 0)).toBe(6);
    expect(utcDays(f.range.from, f.range.to)).toHaveLength(31);
    // The legend names every code with its colour; 220 is red, 0 green.
    expect(hooks(html, "exit-code-legend").map((l) => l["data-code"])).toEqual([
      "0",
      "150",
      "170",
      "210",
      "220",
      "230",
      "240",
    ]);
    expect(html).toMatch(/data-code="220"[^>]*fill="#d32f2f"/);
    expect(html).toMatch(/data-code="0"[^>]*fill="#2e7d32"/);
  });

  it("tables: regressions, failing KBs, pending reboots, halted windows", () => {
    expect(hooks(html, "open-regression").map((r) => r["data-run-id"])).toEqual(f.openRegressions.map((r) => r.runId));
    expect(html).toContain("4.5 min");
    expect(
      hooks(html, "failing-kb").map((k) => [k["data-kb"], Number(k["data-failures"]), Number(k["data-devices"])]),
    ).toEqual(f.topFailingKbs.map((k) => [k.kb, k.failures, k.devices]));
    expect(html).toContain("<code>0x80070643</code>");
    expect(hooks(html, "pending-reboot").map((p) => p["data-run-id"])).toEqual(["r-web-150"]);
    expect(hooks(html, "halted-window").map((w) => [w["data-window-id"], w["data-occurrence-id"]])).toEqual([
      ["nightly", "2026-01-31"],
    ]);
    expect(html).toContain("ring-gate \u00b7 ring pilot: 220 in ring pilot closes prod");
  });
});

describe("chart helpers", () => {
  it("ends the run axis on a round whole number", () => {
    expect([0, 1, 2, 3, 7, 10, 11, 24, 26, 51, 101, 240].map(niceCeiling)).toEqual([
      1, 1, 2, 5, 10, 10, 20, 25, 50, 100, 200, 250,
    ]);
  });

  it("lists every UTC day of a range, both ends included", () => {
    expect(utcDays("2026-01-30T23:00:00.000Z", "2026-02-01T01:00:00.000Z")).toEqual([
      "2026-01-30",
      "2026-01-31",
      "2026-02-01",
    ]);
  });
});

describe("renderDashboardHtml: report links", () => {
  it("links each open regression to its run's report, from reportUrl", () => {
    const seen: string[] = [];
    const html = render(fleet(), {
      reportUrl: (row) => {
        seen.push(row.runId);
        return `https://pp.example/api/v1/tenants/${row.tenant}/runs/${row.runId}/artifacts/11-report/report.html?a=1&b="2"`;
      },
    });
    expect(seen).toEqual(["r-sql-220"]);
    expect(html).toMatch(
      /<tr data-testid="open-regression" data-run-id="r-sql-220"[^>]*>.*<a href="https:\/\/pp\.example\/api\/v1\/tenants\/contoso-msp\/runs\/r-sql-220\/artifacts\/11-report\/report\.html\?a=1&#38;b=&#34;2&#34;" data-testid="report-link">report\.html<\/a>/,
    );
  });

  it("never turns a non-http URL into a link", () => {
    const html = render(fleet(), { reportUrl: () => "javascript:alert(1)" });
    expect(html).not.toContain("javascript:");
    expect(hooks(html, "report-link")).toEqual([]);
    expect(render(fleet(), { reportUrl: () => " JavaScript:alert(1)" })).not.toMatch(/javascript:/i);
    expect(hooks(render(fleet(), { reportUrl: () => "/api/v1/x" }), "report-link")).toHaveLength(1);
  });
});

describe("renderDashboardHtml: escaping", () => {
  it("escapes every row-derived string, in text and in attributes", () => {
    const f = computeFleetFigures(
      {
        runs: [
          run({
            Device: HOSTILE,
            Tenant: HOSTILE,
            Client: HOSTILE,
            RunId: HOSTILE,
            ExitCode: 220,
            TimeGenerated: daysAgo(1),
            RegressionChecks: [HOSTILE],
            EvidencePrefix: HOSTILE,
            WindowId: HOSTILE,
          }),
          run({
            Device: `${HOSTILE}2`,
            Tenant: HOSTILE,
            Client: HOSTILE,
            ExitCode: 150,
            TimeGenerated: daysAgo(1),
            Reboot: HOSTILE,
            Reasons: [HOSTILE],
          }),
        ],
        updates: [
          UpdateLogRowSchema.parse({
            TimeGenerated: daysAgo(1),
            EventId: "e",
            Tenant: HOSTILE,
            Client: HOSTILE,
            Device: HOSTILE,
            RunId: "r",
            UpdateId: HOSTILE,
            Kb: HOSTILE,
            Title: HOSTILE,
            Installed: false,
            Result: "Failed",
            HResult: HOSTILE,
            FinishedAt: daysAgo(1),
          }),
        ],
        windows: [
          WindowLogRowSchema.parse({
            TimeGenerated: daysAgo(1),
            EventId: "w",
            Tenant: HOSTILE,
            WindowId: HOSTILE,
            OccurrenceId: HOSTILE,
            ScheduledStart: daysAgo(1),
            Halted: true,
            HaltReasons: [{ kind: HOSTILE, ring: HOSTILE, client: HOSTILE, detail: HOSTILE }],
            Targets: 1,
            Completed: 1,
            Succeeded: 0,
            Failed: 1,
            NotStarted: 0,
            ByExitCode: {},
            ReportPath: HOSTILE,
            ReportSha256: "a".repeat(64),
          }),
        ],
      },
      { now: NOW },
    );
    const html = render(f, { reportUrl: (row) => `/r/${row.runId}` });
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("onerror=alert(1)>");
    expect(html).toContain(
      "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39; &#38; &#60;img src=x onerror=alert(1)&#62;",
    );
    // The hooks still carry the original values, decoded.
    expect(hooks(html, "open-regression")[0]?.["data-run-id"]).toBe(HOSTILE);
    expect(hooks(html, "compliance-percent")[0]?.["data-tenant"]).toBe(HOSTILE);
    expect(hooks(html, "failing-kb")[0]?.["data-kb"]).toBe(HOSTILE);
    expect(hooks(html, "halted-window")[0]?.["data-window-id"]).toBe(HOSTILE);
    // No attribute was broken open: every quote inside a value is escaped, so attributes parse back whole.
    expect(html).not.toMatch(/data-[a-z-]+="[^"]*<script/);
  });
});

describe("renderDashboardHtml: empty state", () => {
  it("renders the page with zero tiles and a message per section", () => {
    const f = computeFleetFigures({ runs: [], updates: [], windows: [] }, { now: NOW });
    const html = render(f);
    expect(hooks(html, "tile-compliance")[0]?.["data-value"]).toBe("");
    expect(html).toContain("\u2014");
    for (const name of ["open-regressions", "pending-reboot", "halted-windows"])
      expect(hooks(html, `tile-${name}`)[0]?.["data-value"]).toBe("0");
    for (const section of [
      "compliance",
      "exit-codes",
      "open-regressions",
      "failing-kbs",
      "pending-reboot",
      "halted-windows",
    ]) {
      expect(hooks(html, `empty-${section}`)).toHaveLength(1);
    }
    expect(html).not.toContain("<table");
    expect(html).not.toContain('<svg class="chart"');
    expect(html.endsWith("</html>\n")).toBe(true);
  });

  it("warns about rows that failed their schema", () => {
    const f = computeFleetFigures({ runs: [], updates: [], windows: [] }, { now: NOW });
    expect(render(f)).not.toContain("rejected-rows");
    expect(render(f, { rejectedRows: 2 })).toContain("2 rows failed their table's schema");
  });
});

describe("renderDashboardHtml: quarantined updates", () => {
  const entry = (over: Partial<QuarantineEntry>): QuarantineEntry =>
    QuarantineEntrySchema.parse({
      schemaVersion: 1,
      id: "tenant.kb.KB5070002",
      tenant: "contoso-msp",
      scope: "tenant",
      update: { kind: "kb", kb: "KB5070002" },
      reason: `regressed at 2 clients (alpha, beta) ${HOSTILE}`,
      source: { runs: ["r20260303-aaaaaaaa", "r20260304-bbbbbbbb"], clients: ["alpha", "beta"] },
      quarantinedAt: "2026-03-04T10:40:00.000Z",
      quarantinedBy: "patchpilot",
      history: [],
      ...over,
    });
  const f = computeFleetFigures({ runs: [], updates: [], windows: [] }, { now: NOW });

  it("lists each update in force with where, since when, why and the regressing runs, escaped; not lifted ones", () => {
    const lifted = entry({
      id: "client.alpha.kb.KB5070003",
      scope: "client",
      client: "alpha",
      update: { kind: "kb", kb: "KB5070003" },
      lifted: { at: "2026-03-05T00:00:00.000Z", by: "op", reason: "fixed" },
    });
    const html = render(f, { quarantined: [entry({}), lifted] });
    expect(hooks(html, "quarantined-update")).toEqual([
      {
        "data-testid": "quarantined-update",
        "data-tenant": "contoso-msp",
        "data-scope": "tenant",
        "data-update": "KB5070002",
      },
    ]);
    expect(html).toContain("contoso-msp (every client)");
    expect(html).toContain("r20260304-bbbbbbbb");
    expect(html).not.toContain("<script>");
  });

  it("says so when nothing is quarantined, and leaves the section out when the store was not read", () => {
    expect(hooks(render(f, { quarantined: [] }), "empty-quarantined")).toHaveLength(1);
    expect(render(f)).not.toContain("Quarantined updates");
  });
});
