import { readFileSync } from "node:fs";
import path from "node:path";
import { ARTIFACTS } from "../../../lib/domain/artifacts";
import { COMPLIANCE_MAP } from "../../../lib/domain/report/complianceMap";
import {
  csvField,
  csvLine,
  MATRIX_CONTROLS,
  matrixCsv,
  matrixHtml,
  type MatrixRun,
} from "../../../lib/export/complianceMatrix";
import { EXPORT_TOOL } from "../../../lib/export/packageLayout";

const run = (overrides: Partial<MatrixRun> = {}): MatrixRun => ({
  client: "acme",
  device: "WIN-SERVER01",
  runId: "r20260120-0001",
  folder: "runs/acme/WIN-SERVER01/r20260120-0001/",
  artifacts: new Map([
    [ARTIFACTS.catalog.path, { sha256: "a".repeat(64), status: "verified" }],
    [ARTIFACTS.installSummary.path, { sha256: "b".repeat(64), status: "hash-mismatch" }],
  ]),
  ...overrides,
});

/** A minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF), to read back what csvLine wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += ch;
  }
  return rows;
}

describe("compliance matrix CSV", () => {
  it("quotes fields with commas, quotes and line breaks (RFC 4180) and leaves plain ones alone", () => {
    expect(csvField("SI-2")).toBe("SI-2");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("cr\rlf")).toBe('"cr\rlf"');
    expect(csvLine(["a", "b,c", ""])).toBe('a,"b,c",\r\n');
  });

  it("defuses cells a spreadsheet would run as formulas", () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvField("+1")).toBe("'+1");
    expect(csvField("-2+3")).toBe("'-2+3");
    expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvField("\tx")).toBe("'\tx");
    expect(csvField("7.3")).toBe("7.3");
  });

  it("round-trips hostile values through a CSV reader", () => {
    const hostile = ['a "quoted", value', "line\r\nbreak", "plain", ",", '"'];
    expect(parseCsv(csvLine(hostile))).toEqual([hostile]);
  });

  it("has one row per control and artifact present, naming the package path, hash and status", () => {
    const text = [...matrixCsv([run()])].join("");
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(["framework", "id", "title", "client", "device", "runId", "artifact", "sha256", "status"]);
    const expected = MATRIX_CONTROLS.flatMap((c) =>
      c.paths
        .filter((p) => p === ARTIFACTS.catalog.path || p === ARTIFACTS.installSummary.path)
        .map((p) => `${c.id} ${p}`),
    );
    expect(
      rows.slice(1).map((r) => `${r[1]} ${(r[6] ?? "").replace("runs/acme/WIN-SERVER01/r20260120-0001/", "")}`),
    ).toEqual(expected);
    expect(rows.slice(1).map((r) => r[1])).toEqual(expect.arrayContaining(["SI-2", "RA-5", "7.3", "Assess", "Deploy"]));
    expect(rows.find((r) => r[1] === "SI-2" && r[6]?.endsWith("install-summary.jsonl"))).toEqual([
      "NIST SP 800-53r5",
      "SI-2",
      "Flaw Remediation",
      "acme",
      "WIN-SERVER01",
      "r20260120-0001",
      "runs/acme/WIN-SERVER01/r20260120-0001/05-install/install-summary.jsonl",
      "b".repeat(64),
      "hash-mismatch",
    ]);
  });

  it("lists exactly COMPLIANCE_MAP (the run report's mapping), ordered by framework, lifecycle and id", () => {
    expect(MATRIX_CONTROLS).toHaveLength(COMPLIANCE_MAP.length);
    expect(MATRIX_CONTROLS.map((c) => `${c.framework}|${c.id}`)).toEqual([
      "NIST SP 800-40r4|Plan",
      "NIST SP 800-40r4|Assess",
      "NIST SP 800-40r4|Deploy",
      "NIST SP 800-40r4|Verify",
      "NIST SP 800-53r5|AU-9",
      "NIST SP 800-53r5|CM-2",
      "NIST SP 800-53r5|CM-3",
      "NIST SP 800-53r5|CM-8",
      "NIST SP 800-53r5|RA-5",
      "NIST SP 800-53r5|SI-2",
      "NIST SP 800-53r5|SI-7",
      "CIS Controls v8|7.3",
      "CIS Controls v8|8.2",
      "CIS Controls v8|12",
      "CIS Controls v8|16",
    ]);
  });
});

describe("compliance matrix HTML", () => {
  it("escapes every value and carries no script", () => {
    const html = [
      ...matrixHtml([run({ device: "<script>alert(1)</script>", runId: "r\"&'" })], {
        tenant: "t<b>",
        exportId: "x20260101-00",
        createdAt: "2026-01-01T00:00:00.000Z",
        from: "a",
        to: "b",
      }),
    ].join("");
    expect(html).not.toContain("<script>");
    expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).toContain("r&#34;&#38;&#39;");
    expect(html).toContain("t&#60;b&#62;");
    expect(html).toContain("default-src 'none'");
    expect(html).toContain("@media print");
    expect(html).toContain('<span class="bad">hash-mismatch</span>');
  });
});

describe("export.json tool version", () => {
  it("is package.json's version", () => {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, "../../../package.json"), "utf8")) as {
      name: string;
      version: string;
    };
    expect(EXPORT_TOOL).toEqual({ name: pkg.name, version: pkg.version });
  });
});
