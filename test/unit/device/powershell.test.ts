import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseScriptHeader } from "../../../lib/device/header";
import { ScriptIdSchema } from "../../../lib/schemas/device";
import { checkPowerShell51 } from "./powershell51";

const SCRIPTS = path.resolve(__dirname, "../../../lib/device/windows");
const FIXTURES = path.resolve(__dirname, "../../fixtures/device");
const read = (file: string): string => readFileSync(file, "utf8");
const scriptFiles = readdirSync(SCRIPTS)
  .filter((f) => f.endsWith(".ps1"))
  .sort();

describe("Windows PowerShell 5.1 scripts", () => {
  it("has one script per job", () => {
    expect(scriptFiles).toEqual(ScriptIdSchema.options.map((id) => `${id}.ps1`).sort());
  });

  it.each(scriptFiles)("%s parses with the PowerShell grammar and uses nothing PowerShell 7-only", async (file) => {
    expect(await checkPowerShell51(read(path.join(SCRIPTS, file)))).toEqual([]);
  });

  it.each(scriptFiles)("%s starts with its header, strict mode and a param() block", (file) => {
    const text = read(path.join(SCRIPTS, file));
    expect(parseScriptHeader(text)).toEqual({ id: file.replace(/\.ps1$/, ""), version: "1.0.0" });
    expect(text).toMatch(/^param\(/m);
    expect(text).toContain("Set-StrictMode -Version Latest");
    expect(text).toContain("ConvertTo-Json -InputObject $document -Depth 10 -Compress");
  });

  // Windows PowerShell 5.1 reads a .ps1 without a byte-order mark in the ANSI code page, PowerShell 7 as UTF-8:
  // only ASCII reads the same in both (and hashes the same however an agent stores the file).
  it.each([...scriptFiles.map((f) => path.join(SCRIPTS, f)), path.resolve(SCRIPTS, "../rmm/Invoke-PatchPilotRun.ps1")])(
    "%s is ASCII only",
    (file) => {
      const nonAscii = read(file)
        .split("\n")
        .map((line, i) => ({ line: i + 1, text: line }))
        .filter((l) => /[^\t -~]/.test(l.text.replace(/\r$/, "")));
      expect(nonAscii).toEqual([]);
    },
  );

  it("copies the common helpers byte for byte into every script", () => {
    const block = (text: string): string => {
      const start = text.indexOf("# --- patchpilot common");
      const end = text.indexOf("# --- end patchpilot common ---");
      expect(start).toBeGreaterThanOrEqual(0);
      expect(end).toBeGreaterThan(start);
      return text.slice(start, end);
    };
    const blocks = new Set(scriptFiles.map((f) => block(read(path.join(SCRIPTS, f)))));
    expect(blocks.size).toBe(1);
  });
});

describe("the PowerShell 5.1 check", () => {
  const fixture = read(path.join(FIXTURES, "ps7-constructs.ps1"));
  const expectations = fixture
    .split("\n")
    .map((text, i) => ({ line: i + 1, text, rule: /# expect: ([a-z0-9-]+)$/.exec(text)?.[1] }))
    .filter((e): e is { line: number; text: string; rule: string } => e.rule !== undefined);

  it("covers every rule with a fixture line", () => {
    expect(new Set(expectations.map((e) => e.rule)).size).toBeGreaterThanOrEqual(12);
  });

  it.each(expectations.map((e) => [e.line, e.rule, e.text] as const))(
    "fires on fixture line %i (%s)",
    async (line, rule, text) => {
      const alone = await checkPowerShell51(`${text}\n`);
      expect(alone.map((f) => f.rule)).toContain(rule);
      const inFile = await checkPowerShell51(fixture);
      expect(inFile.filter((f) => f.line === line).map((f) => f.rule)).toContain(rule);
    },
  );

  it("reports a grammar error for broken syntax", async () => {
    const findings = await checkPowerShell51("if ($a { Write-Output 1 }\n");
    expect(findings.map((f) => f.rule)).toContain("parse-error");
  });

  it("does not fire on look-alikes in comments, strings, the ? alias or wildcards", async () => {
    expect(await checkPowerShell51(read(path.join(FIXTURES, "ps51-clean.ps1")))).toEqual([]);
  });
});
