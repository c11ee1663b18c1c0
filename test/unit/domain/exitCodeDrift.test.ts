import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { EXIT_CODE_EVENT_TYPES, EVENT_TYPES } from "../../../lib/azure/events/eventData";
import { EXIT } from "../../../lib/dashboard/fleetFigures";
import { decideExitCode, EXIT_CODE_PRIORITY } from "../../../lib/domain/exitCode/decideExitCode";
import {
  EXIT_CODE_NAME,
  EXIT_CODE_EVENT_TYPE_LIST,
  EXIT_CODE_TABLE,
  EXIT_CODES_ASCENDING,
  findExitCode,
  type ExitCodeDefinition,
} from "../../../lib/domain/exitCode/exitCodeTable";
import { ExitCodeNameSchema, ExitCodeSchema } from "../../../lib/schemas/artifacts/outcome";
import { EXIT_CODE_STYLES } from "../../../local/dashboard/charts";

// The exit-code table (lib/domain/exitCode/exitCodeTable.ts) is the one definition. Code imports it; the files that
// cannot (docs, KQL, the workbook, Bicep, the RMM PowerShell script) are read here and compared with it, so a code,
// a name or an event type changed in one place and not the other fails this test.

const ROOT = path.resolve(__dirname, "../../..");
const read = (rel: string): string => readFileSync(path.join(ROOT, rel), "utf8");

function filesUnder(rel: string, extensions: readonly string[]): string[] {
  return readdirSync(path.join(ROOT, rel), { recursive: true, encoding: "utf8" })
    .filter((f) => extensions.some((e) => f.endsWith(e)))
    .map((f) => path.join(rel, f).split(path.sep).join("/"))
    .sort();
}

const NAMES = EXIT_CODE_TABLE.map((r) => r.name);
const NAME_ALTERNATION = NAMES.join("|");

/**
 * Every place a text puts a code beside a name ("170 (ConcurrencyLock", "220 ValidationFailure", "`0 Success`",
 * "ValidationFailure (220)", "| 150 | RebootRequired |"), as [code, name] pairs.
 */
function codeNamePairs(text: string): Array<[number, string]> {
  const pairs: Array<[number, string]> = [];
  const codeThenName = new RegExp(String.raw`\b(\d{1,3})\s*[(|:]?\s*\`?(${NAME_ALTERNATION})\b`, "g");
  const nameThenCode = new RegExp(String.raw`\b(${NAME_ALTERNATION})\`?\s*\(\s*(\d{1,3})\s*\)`, "g");
  for (const m of text.matchAll(codeThenName)) pairs.push([Number(m[1]), m[2] ?? ""]);
  for (const m of text.matchAll(nameThenCode)) pairs.push([Number(m[2]), m[1] ?? ""]);
  return pairs;
}

/** The pairs whose code is not the table's code of that name, with the file named. */
function mismatchedPairs(file: string, text: string): string[] {
  return codeNamePairs(text)
    .filter(([code, name]) => findExitCode(code)?.name !== name)
    .map(([code, name]) => `${file}: ${code} ${name} (the table says ${name} is ${tableCodeOf(name)})`);
}

function tableCodeOf(name: string): number | undefined {
  return EXIT_CODE_TABLE.find((r) => r.name === name)?.code;
}

/** The files that name exit codes in prose, queries or scripts and cannot import the table. */
const TEXT_FILES = [
  "README.md",
  ...filesUnder("docs", [".md"]),
  ...filesUnder("infra", [".kql", ".bicep", ".json"]),
  ...filesUnder("lib/device/rmm", [".ps1"]),
];

/** The TypeScript sources, whose comments and strings name codes too ("a 170 (ConcurrencyLock: ..."). */
const TS_FILES = ["functions", "orchestrators", "lib", "local", "scripts"].flatMap((f) => filesUnder(f, [".ts"]));

/** The rows of a Markdown table, cells trimmed, after the header line that starts with `header`. */
function markdownTable(text: string, header: string): string[][] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(header));
  if (start < 0) throw new Error(`no table starting ${header}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .slice(1, -1)
        .split("|")
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe("the exit-code table", () => {
  it("has one row per code and per name, and priorities 1..n", () => {
    expect(new Set(EXIT_CODE_TABLE.map((r) => r.code)).size).toBe(EXIT_CODE_TABLE.length);
    expect(new Set(NAMES).size).toBe(EXIT_CODE_TABLE.length);
    expect(EXIT_CODE_TABLE.map((r) => r.priority).sort((a, b) => a - b)).toEqual(EXIT_CODE_TABLE.map((_, i) => i + 1));
  });

  it("is what the schemas accept, and nothing else", () => {
    for (const r of EXIT_CODE_TABLE) {
      expect(ExitCodeSchema.safeParse(r.code).success).toBe(true);
      expect(ExitCodeNameSchema.safeParse(r.name).success).toBe(true);
    }
    expect(ExitCodeSchema.safeParse(1).success).toBe(false);
    expect(ExitCodeNameSchema.safeParse("Failure").success).toBe(false);
    expect(ExitCodeNameSchema.options).toEqual(EXIT_CODES_ASCENDING.map((c) => EXIT_CODE_NAME[c]));
  });

  it("orders the rules: a decision with every rule matching names the first code of the priority", () => {
    expect(EXIT_CODE_PRIORITY).toEqual([...EXIT_CODE_TABLE].sort((a, b) => a.priority - b.priority).map((r) => r.code));
    // Nothing verified, no lock: decideExitCode must pick 240 over the codes after it in the priority.
    const missing = { status: "missing" } as const;
    const decision = decideExitCode({
      run: missing,
      lockContention: missing,
      baseline: missing,
      preValidation: missing,
      gates: missing,
      catalog: missing,
      installSummary: missing,
      installFailure: missing,
      reboot: missing,
      snapshot: missing,
      baselineDiff: missing,
      postValidation: missing,
      regressions: missing,
      diagnostics: missing,
      diagnosticsFailure: missing,
      events: missing,
      artifactIndex: missing,
      manifest: missing,
      otherFailures: {},
      otherIntegrityProblems: [],
    });
    expect([decision.exitCode, decision.name]).toEqual([240, "ReportingFailure"]);
  });

  it("says which event each code sends, and the events module sends exactly those", () => {
    const fromTable = Object.fromEntries(
      EXIT_CODE_TABLE.filter((r) => r.eventType !== null).map((r) => [String(r.code), r.eventType]),
    );
    expect(EXIT_CODE_EVENT_TYPES).toEqual(fromTable);
    const published: readonly string[] = Object.values(EVENT_TYPES);
    for (const type of Object.values(fromTable)) expect(published).toContain(type);
    // Rules with an event of their own (issue 21's 240 split) send types the events module knows too.
    for (const type of EXIT_CODE_EVENT_TYPE_LIST) expect(published).toContain(type);
  });

  it("names the dashboard's and the CLI's codes", () => {
    for (const code of Object.values(EXIT)) expect(findExitCode(code)).toBeDefined();
    expect(Object.entries(EXIT_CODE_STYLES).map(([code, s]) => [Number(code), s.name])).toEqual(
      EXIT_CODES_ASCENDING.map((c) => [c, EXIT_CODE_NAME[c]]),
    );
  });
});

describe("files that cannot import the table agree with it", () => {
  it("finds code/name pairs in every form the files use (the scan itself)", () => {
    expect(
      codeNamePairs(
        "170 (ConcurrencyLock: x), 220 ValidationFailure, | 150 | RebootRequired |, `0 Success`, InstallFailure (210)",
      ),
    ).toEqual([
      [170, "ConcurrencyLock"],
      [220, "ValidationFailure"],
      [150, "RebootRequired"],
      [0, "Success"],
      [210, "InstallFailure"],
    ]);
    expect(mismatchedPairs("x", "a 230 (ReportingFailure) run")).toHaveLength(1);
  });

  it.each(TEXT_FILES)("%s: every code written beside a name is that name's code", (file) => {
    expect(mismatchedPairs(file, read(file))).toEqual([]);
  });

  it("TypeScript sources: every code written beside a name in a comment or string is that name's code", () => {
    const pairs = TS_FILES.flatMap((file) => codeNamePairs(read(file)));
    expect(pairs.length).toBeGreaterThan(5);
    expect(TS_FILES.flatMap((file) => mismatchedPairs(file, read(file)))).toEqual([]);
  });

  it("docs/rmm.md lists every code with the table's name and meaning, ascending", () => {
    const rows = markdownTable(read("docs/rmm.md"), "| code | name | meaning |");
    expect(rows.map(([code, name, meaning]) => [Number(code), name, meaning])).toEqual(
      EXIT_CODES_ASCENDING.map((c) => {
        const r = findExitCode(c);
        return [c, r?.name, r?.meaning];
      }),
    );
  });

  it("docs/operations.md gives each exit-code event the table's code", () => {
    const rows = markdownTable(read("docs/operations.md"), "| type | meaning | typical action |");
    const codeOfEvent = new Map(
      rows.flatMap(([type, meaning]) => {
        const code = /^(\d{1,3}):/.exec(meaning ?? "")?.[1];
        return code === undefined ? [] : [[(type ?? "").replaceAll("`", ""), Number(code)] as const];
      }),
    );
    // Each code's event and its rules' own events (240 sends one of three, by rule).
    expect(Object.fromEntries(codeOfEvent)).toEqual(
      Object.fromEntries(
        EXIT_CODE_TABLE.flatMap((r: ExitCodeDefinition) => [
          ...(r.eventType === null ? [] : [[r.eventType, r.code] as const]),
          ...Object.values(r.ruleEventTypes ?? {}).map((t) => [t, r.code] as const),
        ]),
      ),
    );
  });

  it("the RMM script's help lists every code with its name, and exits with each", () => {
    const script = read("lib/device/rmm/Invoke-PatchPilotRun.ps1");
    const help = [...script.matchAll(/^ {8}(\d{1,3}) +([A-Za-z]+) {2,}\S/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(help).toEqual(EXIT_CODES_ASCENDING.map((c) => [c, EXIT_CODE_NAME[c]]));
    // The one way out maps each code to itself; anything else (the default) becomes 240, the last code.
    const cases = [...script.matchAll(/^\s+(\d{1,3}) \{ exit (\d{1,3}) \}$/gm)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(cases.every(([from, to]) => from === to)).toBe(true);
    const defaulted = /^\s+default \{ exit (\d{1,3}) \}$/m.exec(script)?.[1];
    expect([...cases.map(([c]) => c), Number(defaulted)].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      EXIT_CODES_ASCENDING,
    );
  });

  it("README.md's list of codes is the table's", () => {
    const lists = [...read("README.md").matchAll(/\((\d+(?:\/\d+){2,})\)/g)].map((m) => m[1]);
    expect(lists).toEqual([EXIT_CODES_ASCENDING.join("/")]);
  });

  const kqlFiles = filesUnder("infra/dashboards", [".kql"]);
  const workbook = JSON.parse(read("infra/dashboards/workbook.json")) as unknown;

  /** Every named item of the workbook, with its content. */
  function workbookItems(node: unknown, found: Array<[string, unknown]> = []): Array<[string, unknown]> {
    if (Array.isArray(node)) for (const n of node) workbookItems(n, found);
    else if (node !== null && typeof node === "object") {
      const o = node as { name?: unknown; content?: unknown };
      if (typeof o.name === "string" && o.content !== undefined) found.push([o.name, o.content]);
      for (const v of Object.values(node)) workbookItems(v, found);
    }
    return found;
  }

  /** Every query string of the workbook (items' content.query), by item name. */
  function workbookQueries(node: unknown, found: Array<[string, string]> = []): Array<[string, string]> {
    if (Array.isArray(node)) for (const n of node) workbookQueries(n, found);
    else if (node !== null && typeof node === "object") {
      const o = node as { name?: unknown; content?: { query?: unknown } };
      if (typeof o.name === "string" && typeof o.content?.query === "string") found.push([o.name, o.content.query]);
      for (const v of Object.values(node)) workbookQueries(v, found);
    }
    return found;
  }

  it.each([
    ...kqlFiles.map((f) => [f, read(f)] as const),
    ...workbookQueries(workbook).map(([name, q]) => [`workbook.json ${name}`, q] as const),
  ])("%s compares ExitCode only with codes the dashboard figures single out", (_file, text) => {
    const compared = [...text.matchAll(/\bExitCode\s*(?:==|!=|<>)\s*(\d+)/g)].map((m) => Number(m[1]));
    const figures: readonly number[] = Object.values(EXIT);
    expect(compared.filter((c) => !figures.includes(c))).toEqual([]);
  });

  it("the workbook's exit-code chart labels every code with the table's name", () => {
    const labels: Array<[string, string]> = [];
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (node !== null && typeof node === "object") {
        const o = node as { seriesName?: unknown; label?: unknown };
        if (typeof o.seriesName === "string" && typeof o.label === "string") labels.push([o.seriesName, o.label]);
        Object.values(node).forEach(visit);
      }
    };
    const chart = workbookItems(workbook).find(([name]) => name === "exit-codes-by-day")?.[1];
    expect(chart).toBeDefined();
    visit(chart);
    expect(labels).toEqual(EXIT_CODES_ASCENDING.map((c) => [String(c), `${c} ${EXIT_CODE_NAME[c]}`]));
  });
});
