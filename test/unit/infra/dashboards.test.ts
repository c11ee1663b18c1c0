// Checks of infra/dashboards (workbook + KQL) and infra/modules/dashboards.bicep against infra/logs/tables.json and the
// TypeScript figures (lib/dashboard/fleetFigures.ts), reading them as text: no Azure, no Bicep CLI, no KQL parser.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { computeFleetFigures } from "../../../lib/dashboard/fleetFigures";
import { EXIT_CODE_STYLES } from "../../../local/dashboard/charts";
import { propertyLine, readBicep, resources } from "./bicep";

const ROOT = resolve(__dirname, "../../..");
const DASHBOARDS = join(ROOT, "infra/dashboards");
const BICEP = join(ROOT, "infra/modules/dashboards.bicep");
const WORKSPACES = "microsoft.operationalinsights/workspaces";

// ---------------------------------------------------------------------------------------------------------------------
// Reading KQL: comments and string contents blanked, then identifiers.
// ---------------------------------------------------------------------------------------------------------------------

/** The query with `//` comments removed and string literals emptied (`"..."` → `""`), so neither can name a column. */
function kqlCode(query: string): string {
  let out = "";
  let i = 0;
  while (i < query.length) {
    const ch = query[i] ?? "";
    if (query.startsWith("//", i)) {
      const end = query.indexOf("\n", i);
      i = end === -1 ? query.length : end;
    } else if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < query.length && query[j] !== ch) j += query[j] === "\\" ? 2 : 1;
      out += `${ch}${ch}`;
      i = j + 1;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

/** Capitalised words KQL itself may use that are not columns. None of ours needs one today; add them here. */
const KQL_ALLOWED = new Set(["True", "False"]);

interface TableDecl {
  name: string;
  columns: { name: string; type: string }[];
}

/** Why a query does not fit the declared tables: unknown tables, and column-like names no referenced table has. */
function kqlProblems(query: string, tables: readonly TableDecl[]): string[] {
  const code = kqlCode(query);
  const byName = new Map(tables.map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
  const referenced = [...new Set(code.match(/\b[A-Za-z][A-Za-z0-9_]*_CL\b/g) ?? [])];
  const problems = referenced.filter((t) => !byName.has(t)).map((t) => `unknown table ${t}`);
  if (referenced.length === 0) problems.push("reads no table");
  const columns = new Set(referenced.flatMap((t) => [...(byName.get(t) ?? [])]));
  // Names the query makes itself: `Name = expr` in extend / project / summarize / print (not ==, !=, =~, <=, >=).
  const defined = new Set([...code.matchAll(/\b([A-Z][A-Za-z0-9_]*)\s*=(?![=~])/g)].map((m) => m[1] ?? ""));
  for (const word of new Set(code.match(/\b[A-Z][A-Za-z0-9_]*\b/g) ?? [])) {
    if (word.endsWith("_CL") || columns.has(word) || defined.has(word) || KQL_ALLOWED.has(word)) continue;
    problems.push(`unknown column ${word}`);
  }
  return problems;
}

/** Two queries are the same text apart from trailing whitespace (per line and at the end). */
function sameQuery(a: string, b: string): boolean {
  const norm = (q: string): string =>
    q
      .replace(/\r\n/g, "\n")
      .replace(/[ \t]+$/gm, "")
      .replace(/\s+$/, "");
  return norm(a) === norm(b);
}

/**
 * Where the code takes the latest run per device: `summarize arg_max(TimeGenerated, ...) by Tenant, Client, Device`
 * with nothing after Device (a key with RunId is one row per run, not a device's state).
 */
const latestPerDevice = (code: string): number[] =>
  [...code.matchAll(/summarize\s+arg_max\(TimeGenerated,[^)]*\)\s+by\s+Tenant,\s*Client,\s*Device\b(?!\s*,)/g)].map(
    (m) => m.index,
  );

/**
 * Why a query's device state could come from a 170 (ConcurrencyLock: nothing was changed on the device): each latest
 * run per device must be taken after a `where` (without `or`) that keeps `ExitCode != 170` only. Filtering after it
 * would drop the device instead of looking past the 170 to its previous run.
 */
function lockContentionProblems(code: string): string[] {
  const filters = [...code.matchAll(/\|\s*where\b([^|\n]*)/g)].filter(
    (m) => /\bExitCode\s*!=\s*170\b/.test(m[1] ?? "") && !/\bor\b/.test(m[1] ?? ""),
  );
  return latestPerDevice(code)
    .filter((at) => !filters.some((m) => m.index < at))
    .map((at) => `latest run per device at ${at} takes 170 runs`);
}

/** Workbook parameter names a query uses (`{Name}` or `{Name:format}`), from the raw text (they sit in strings). */
const placeholders = (query: string): string[] => [
  ...new Set([...query.matchAll(/\{([A-Za-z][A-Za-z0-9_]*)(?::[A-Za-z]+)?\}/g)].map((m) => m[1] ?? "")),
];

// ---------------------------------------------------------------------------------------------------------------------
// The files.
// ---------------------------------------------------------------------------------------------------------------------

const tables = (JSON.parse(readFileSync(join(ROOT, "infra/logs/tables.json"), "utf8")) as { tables: TableDecl[] })
  .tables;

const kqlFiles = (folder: string): Map<string, string> =>
  new Map(
    readdirSync(join(DASHBOARDS, folder))
      .filter((f) => f.endsWith(".kql"))
      .sort()
      .map((f) => [`${folder}/${f}`, readFileSync(join(DASHBOARDS, folder, f), "utf8")]),
  );
const figureQueries = kqlFiles("queries");
const parameterQueries = kqlFiles("parameters");
const alertQueries = kqlFiles("alerts");
const allKql = new Map([...figureQueries, ...parameterQueries, ...alertQueries]);

interface WorkbookItem {
  type: number;
  name: string;
  content: {
    version?: string;
    query?: string;
    queryType?: number;
    resourceType?: string;
    visualization?: string;
    timeContextFromParameter?: string;
    parameters?: {
      name: string;
      type: number;
      query?: string;
      queryType?: number;
      resourceType?: string;
      value?: unknown;
    }[];
    chartSettings?: {
      xAxis?: string;
      yAxis?: string[];
      group?: string;
      seriesLabelSettings?: { seriesName: string }[];
    };
    gridSettings?: { formatters?: { columnMatch: string }[] };
    tileSettings?: Record<string, { columnMatch?: string } | boolean>;
  };
}
const workbookText = readFileSync(join(DASHBOARDS, "workbook.json"), "utf8");
const workbook = JSON.parse(workbookText) as { version: string; items: WorkbookItem[] };
const queryItems = workbook.items.filter((i) => i.type === 3);
const parameters = workbook.items.filter((i) => i.type === 9).flatMap((i) => i.content.parameters ?? []);
/** Every query text in the workbook: query items and query-backed parameters. */
const workbookQueries = [
  ...queryItems.map((i) => ({ where: `item ${i.name}`, query: i.content.query ?? "" })),
  ...parameters
    .filter((p) => p.query !== undefined)
    .map((p) => ({ where: `parameter ${p.name}`, query: p.query ?? "" })),
];
const fileOf = (query: string): string | undefined =>
  [...figureQueries, ...parameterQueries].find(([, text]) => sameQuery(text, query))?.[0];

// ---------------------------------------------------------------------------------------------------------------------

describe("dashboards: the KQL reader (test helper) can fail", () => {
  const runs = tables.filter((t) => t.name === "PatchPilotRuns_CL");

  it("reports unknown columns and tables, and columns of a table the query does not read", () => {
    expect(kqlProblems("PatchPilotRuns_CL | where ExitCod == 220", tables)).toEqual(["unknown column ExitCod"]);
    expect(kqlProblems("PatchPilotRun_CL | take 1", tables)).toEqual(["unknown table PatchPilotRun_CL"]);
    expect(kqlProblems("PatchPilotUpdates_CL | where Halted == true", tables)).toEqual(["unknown column Halted"]);
    expect(kqlProblems("print x = 1", tables)).toEqual(["reads no table"]);
  });

  it("accepts names the query defines, and ignores comments and strings", () => {
    expect(
      kqlProblems(
        'PatchPilotRuns_CL // Bogus here\n| extend Nice = strcat(Device, "Bogus \\" too")\n| project Nice',
        runs,
      ),
    ).toEqual([]);
    expect(kqlProblems("PatchPilotRuns_CL | where Bogus != 1", runs)).toEqual(["unknown column Bogus"]);
    expect(kqlProblems("PatchPilotRuns_CL | where Bogus == 1", runs)).toEqual(["unknown column Bogus"]);
  });

  it("compares queries modulo trailing whitespace only", () => {
    expect(sameQuery("a | b  \nc\n\n", "a | b\nc")).toBe(true);
    expect(sameQuery("a | b\nc", "a | b\nc | take 1")).toBe(false);
    expect(sameQuery("a |  b", "a | b")).toBe(false);
    expect(placeholders('let x = "{TimeRange:start}"; let y = "{Tenant}"; "{" x')).toEqual(["TimeRange", "Tenant"]);
  });

  it("finds the latest run per device, and a 170 filter only when it comes before it", () => {
    const latest = "| summarize arg_max(TimeGenerated, *) by Tenant, Client, Device";
    expect(latestPerDevice(`T ${latest}\n| where ExitCode == 0`)).toEqual([4]);
    expect(latestPerDevice(`let x = T ${latest};`)).toEqual([12]);
    expect(latestPerDevice("T | summarize arg_max(TimeGenerated, ExitCode) by Tenant, Client, Device, RunId")).toEqual(
      [],
    );
    expect(latestPerDevice("T | summarize arg_max(TimeGenerated, *) by Tenant, WindowId, OccurrenceId")).toEqual([]);
    expect(lockContentionProblems(`T\n| where DryRun == false\n| where ExitCode != 170\n${latest}`)).toEqual([]);
    expect(lockContentionProblems(`T\n| where DryRun == false and ExitCode != 170\n${latest}`)).toEqual([]);
    expect(lockContentionProblems(`T\n| where DryRun == false\n${latest}`)).toHaveLength(1);
    expect(lockContentionProblems(`T\n| where DryRun == false\n${latest}\n| where ExitCode != 170`)).toHaveLength(1);
    expect(lockContentionProblems(`T\n| where DryRun == true or ExitCode != 170\n${latest}`)).toHaveLength(1);
    expect(lockContentionProblems(`T\n| where ExitCode != 1700\n${latest}`)).toHaveLength(1);
    expect(
      lockContentionProblems(
        "T | where ExitCode != 170 | summarize arg_max(TimeGenerated, *) by Tenant, Client, Device, RunId",
      ),
    ).toEqual([]);
  });
});

describe("dashboards: every query fits infra/logs/tables.json", () => {
  it("finds the query files", () => {
    expect([...figureQueries.keys()].length).toBeGreaterThanOrEqual(8);
    expect([...parameterQueries.keys()]).toEqual(["parameters/clients.kql", "parameters/tenants.kql"]);
    expect([...alertQueries.keys()]).toEqual(["alerts/regression-detected.kql", "alerts/window-halted.kql"]);
  });

  it.each([...allKql.keys()])("%s reads only declared tables and columns", (file) => {
    expect(kqlProblems(allKql.get(file) ?? "", tables)).toEqual([]);
  });

  it.each([...figureQueries.keys(), ...alertQueries.keys()])(
    "%s collapses rows written twice by retried delivery",
    (file) => {
      const code = kqlCode(allKql.get(file) ?? "");
      // Latest per device or per run (arg_max by a key that includes it), per window occurrence, or distinct runs.
      expect(code).toMatch(/summarize\s+arg_max\(TimeGenerated,[^)]*\)\s+by\s+[^|\n]*\b(Device|RunId|OccurrenceId)\b/);
    },
  );

  it.each([...figureQueries.keys(), ...parameterQueries.keys()])("%s uses only the workbook's parameters", (file) => {
    const names = new Set(parameters.map((p) => p.name));
    expect(placeholders(allKql.get(file) ?? "").filter((p) => !names.has(p))).toEqual([]);
  });
});

describe("dashboards: figure queries mirror lib/dashboard/fleetFigures.ts", () => {
  const empty = computeFleetFigures(
    { runs: [], updates: [], windows: [] },
    { now: new Date("2026-01-01T00:00:00Z") },
  ) as unknown as Record<string, unknown>;
  const resolvePath = (path: string): unknown =>
    path
      .split(".")
      .reduce<unknown>(
        (v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined),
        empty,
      );
  const mirrored = new Map(
    [...figureQueries].map(([file, text]) => [
      file,
      /^\/\/ Mirrors computeFleetFigures\(\)\.([\w.]+)/m.exec(text)?.[1],
    ]),
  );

  it.each([...figureQueries.keys()])("%s names the figure it mirrors, and the figure exists", (file) => {
    const path = mirrored.get(file);
    expect(path).toBeDefined();
    expect(resolvePath(path ?? "")).toBeDefined();
  });

  it("has a query for every figure", () => {
    const paths = new Set(mirrored.values());
    const figures = [
      "headline",
      "compliance.byTenant",
      "compliance.byClient",
      "exitCodesByDay",
      "openRegressions",
      "topFailingKbs",
      "pendingReboot",
      "haltedWindows",
      "reportingFailures",
    ];
    expect(figures.filter((f) => !paths.has(f))).toEqual([]);
    // Every figure of FleetFigures is in that list (range is the time range, not a figure).
    expect(Object.keys(empty).filter((k) => k !== "range" && !figures.some((f) => f.split(".")[0] === k))).toEqual([]);
  });

  it("leaves dry runs out wherever runs are read, and defaults to the figures' 30-day lookback", () => {
    for (const [file, text] of figureQueries) {
      if (!/PatchPilotRuns_CL/.test(text)) continue;
      expect([file, /\| where DryRun == false/.test(text)]).toEqual([file, true]);
    }
    for (const [file, text] of [...figureQueries, ...parameterQueries]) {
      expect([file, text.includes('coalesce(todatetime("{TimeRange:start}"), ago(30d))')]).toEqual([file, true]);
    }
  });

  it("takes the latest run per device in exactly the device-state figures", () => {
    const deviceState = [...figureQueries]
      .filter(([, text]) => latestPerDevice(kqlCode(text)).length > 0)
      .map(([file]) => mirrored.get(file));
    expect(deviceState.sort()).toEqual([
      "compliance.byClient",
      "compliance.byTenant",
      "headline",
      "openRegressions",
      "pendingReboot",
      "reportingFailures",
    ]);
  });

  it.each([...figureQueries.keys(), ...alertQueries.keys()])(
    "%s leaves 170 runs out before taking a device's latest run",
    (file) => {
      expect(lockContentionProblems(kqlCode(allKql.get(file) ?? ""))).toEqual([]);
    },
  );

  it("still counts 170 runs where no device state is taken (the exit codes by day)", () => {
    const exitCodes = [...figureQueries].find(([file]) => mirrored.get(file) === "exitCodesByDay")?.[1] ?? "";
    expect(kqlCode(exitCodes)).toMatch(/PatchPilotRuns_CL/);
    for (const [file, text] of figureQueries) {
      if (latestPerDevice(kqlCode(text)).length > 0) continue;
      expect([file, /\bExitCode\s*!=\s*170\b/.test(kqlCode(text))]).toEqual([file, false]);
    }
  });
});

describe("dashboards: the runbook's queries (docs/operations.md)", () => {
  const blocks = [...readFileSync(join(ROOT, "docs/operations.md"), "utf8").matchAll(/```kusto\n([\s\S]*?)```/g)].map(
    (m) => m[1] ?? "",
  );

  it("has the queries the on-call engineer runs", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it.each(blocks.map((b, i) => [i + 1, b] as const))("query %i reads only declared tables and columns", (_, block) => {
    expect(kqlProblems(block, tables)).toEqual([]);
  });

  it("leaves 170 runs out before taking a device's latest run (the blast radius), as the workbook does", () => {
    const code = blocks.map(kqlCode);
    expect(code.filter((c) => latestPerDevice(c).length > 0)).not.toHaveLength(0);
    expect(code.flatMap(lockContentionProblems)).toEqual([]);
  });
});

describe("dashboards: workbook.json", () => {
  it("is an Azure Monitor workbook with text, parameters and workspace queries", () => {
    expect(workbook.version).toBe("Notebook/1.0");
    expect(workbook.items.filter((i) => i.type === 1)).not.toHaveLength(0);
    expect(parameters.map((p) => [p.name, p.type])).toEqual([
      ["TimeRange", 4],
      ["Tenant", 2],
      ["Client", 2],
      ["ApiBaseUrl", 1],
    ]);
    for (const p of parameters.filter((x) => x.query !== undefined))
      expect([p.name, p.queryType, p.resourceType]).toEqual([p.name, 0, WORKSPACES]);
    const allowed = new Set([
      "table",
      "barchart",
      "piechart",
      "timechart",
      "tiles",
      "linechart",
      "areachart",
      "unstackedbar",
    ]);
    for (const item of queryItems) {
      const c = item.content;
      expect([
        item.name,
        c.version,
        c.queryType,
        c.resourceType,
        c.timeContextFromParameter,
        allowed.has(c.visualization ?? ""),
      ]).toEqual([item.name, "KqlItem/1.0", 0, WORKSPACES, "TimeRange", true]);
    }
    expect(new Set(queryItems.map((i) => i.content.visualization))).toEqual(new Set(["tiles", "barchart", "table"]));
  });

  it("holds each query file's text exactly, once, and no query of its own", () => {
    const used = workbookQueries.map((q) => [q.where, fileOf(q.query)]);
    expect(used.filter(([, file]) => file === undefined)).toEqual([]);
    const files = used.map(([, file]) => file).sort();
    expect(files).toEqual([...figureQueries.keys(), ...parameterQueries.keys()].sort());
  });

  it("charts and formats only columns its queries return", () => {
    for (const item of queryItems) {
      const c = item.content;
      const words = new Set(kqlCode(c.query ?? "").match(/\b[A-Za-z][A-Za-z0-9_]*\b/g) ?? []);
      const named = [
        c.chartSettings?.xAxis,
        ...(c.chartSettings?.yAxis ?? []),
        c.chartSettings?.group,
        ...(c.gridSettings?.formatters ?? []).map((f) => f.columnMatch),
        ...Object.values(c.tileSettings ?? {}).map((v) => (typeof v === "object" ? v.columnMatch : undefined)),
      ].filter((n): n is string => n !== undefined);
      expect([item.name, named.filter((n) => !words.has(n))]).toEqual([item.name, []]);
    }
  });

  it("colours every exit code of the page's legend in the exit-code chart", () => {
    const chart = queryItems.find((i) => i.name === "exit-codes-by-day");
    expect(chart?.content.chartSettings?.seriesLabelSettings?.map((s) => s.seriesName)).toEqual(
      Object.keys(EXIT_CODE_STYLES),
    );
  });

  it("fits loadTextContent (131,072 characters) and carries only placeholders the Bicep fills", () => {
    expect(workbookText.length).toBeLessThan(131_072);
    const tokens = [...new Set(workbookText.match(/__PATCHPILOT_[A-Z_]+__/g) ?? [])].sort();
    expect(tokens).toEqual(["__PATCHPILOT_API_BASE_URL__", "__PATCHPILOT_WORKSPACE_ID__"]);
    const code = readBicep(BICEP).code;
    for (const token of tokens) expect(code).toMatch(new RegExp(`replace\\([\\s\\S]*'${token}',\\s*\\w+\\s*\\)`));
  });
});

describe("dashboards: alert queries", () => {
  const regression = kqlCode(alertQueries.get("alerts/regression-detected.kql") ?? "");
  const halted = kqlCode(alertQueries.get("alerts/window-halted.kql") ?? "");

  it("regression-detected: non-dry 220 runs, new by ingestion time, one row per RunId", () => {
    expect(regression).toMatch(/where ExitCode == 220 and DryRun == false/);
    expect(regression).toMatch(/ingestion_time\(\) > newSince/);
    expect(regression).toMatch(/RunId !in \(alreadySeen\)/);
    expect(regression).toMatch(/summarize arg_max\(TimeGenerated, \*\) by Tenant, Client, Device, RunId/);
  });

  it("window-halted: halted occurrences, new by ingestion time, one row per occurrence", () => {
    expect(halted).toMatch(/where Halted == true/);
    expect(halted).toMatch(/ingestion_time\(\) > newSince/);
    expect(halted).toMatch(/EventId !in \(alreadySeen\)/);
    expect(halted).toMatch(/summarize arg_max\(TimeGenerated, \*\) by Tenant, WindowId, OccurrenceId/);
  });

  it("use no workbook parameters (they run outside the workbook)", () => {
    for (const text of alertQueries.values()) expect(placeholders(text)).toEqual([]);
  });
});

describe("dashboards: infra/modules/dashboards.bicep", () => {
  const text = readBicep(BICEP);
  const all = resources(text);
  const loads = (body: string): string[] =>
    [...body.matchAll(/loadTextContent\('([^']+)'\)/g)].map((m) => relative(ROOT, resolve(dirname(BICEP), m[1] ?? "")));

  it("deploys the workbook from workbook.json, on the workspace", () => {
    const wb = all.filter((r) => r.type === "Microsoft.Insights/workbooks@2023-06-01");
    expect(wb).toHaveLength(1);
    const body = wb[0]?.body ?? "";
    expect(propertyLine(body, "category")).toBe("'workbook'");
    expect(propertyLine(body, "sourceId")).toBe("toLower(workspaceId)");
    expect(propertyLine(body, "serializedData")).toBe("workbookJson");
    expect(loads(text.code)).toContain("infra/dashboards/workbook.json");
  });

  it("deploys the two alert rules from the alert queries", () => {
    const rules = all.filter((r) => r.type === "Microsoft.Insights/scheduledQueryRules@2023-03-15-preview");
    const bySymbol = new Map(rules.map((r) => [r.symbol, r.body]));
    expect([...bySymbol.keys()].sort()).toEqual(["regressionAlert", "windowHaltedAlert"]);
    const regression = bySymbol.get("regressionAlert") ?? "";
    const halted = bySymbol.get("windowHaltedAlert") ?? "";
    expect(loads(regression)).toEqual(["infra/dashboards/alerts/regression-detected.kql"]);
    expect(loads(halted)).toEqual(["infra/dashboards/alerts/window-halted.kql"]);
    for (const path of [...loads(regression), ...loads(halted)]) expect(existsSync(join(ROOT, path))).toBe(true);
    expect([
      propertyLine(regression, "severity"),
      propertyLine(regression, "evaluationFrequency"),
      propertyLine(regression, "windowSize"),
    ]).toEqual(["1", "'PT1M'", "'PT5M'"]);
    expect(propertyLine(halted, "severity")).toBe("2");
    for (const body of [regression, halted]) {
      expect(propertyLine(body, "kind")).toBe("'LogAlert'");
      expect(propertyLine(body, "autoMitigate")).toBe("true");
      expect(propertyLine(body, "actionGroups")).toBe("actionGroups");
      expect(body).toMatch(/scopes:\s*\[\s*workspaceId\s*\]/);
    }
    // One alert per run: RunId is a dimension.
    expect(regression).toMatch(/name:\s*'RunId'/);
  });

  it("takes the action group as an optional parameter", () => {
    expect(text.code).toMatch(/param actionGroupId string = ''/);
    expect(text.code).toMatch(/var actionGroups = empty\(actionGroupId\) \? \[\] : \[\s*actionGroupId\s*\]/);
  });
});
