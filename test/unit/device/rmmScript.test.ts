import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Node as SyntaxNode } from "web-tree-sitter";
import { checkPowerShell51 } from "./powershell51";

const SCRIPT = path.resolve(__dirname, "../../../lib/device/rmm/Invoke-PatchPilotRun.ps1");
const source = readFileSync(SCRIPT, "utf8");

/** The exit codes DESIGN.md defines; an RMM condition exists for each. */
const EXIT_CODES = [0, 150, 170, 210, 220, 230, 240];

/** Every `exit …` statement of the script as written (comments and strings are not statements). */
async function exitStatements(text: string): Promise<string[]> {
  // The .cjs build: jest runs CommonJS (as in powershell51.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Parser, Language } = require("web-tree-sitter") as typeof import("web-tree-sitter");
  await Parser.init();
  const language = await Language.load(
    readFileSync(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm")),
  );
  const parser = new Parser();
  parser.setLanguage(language);
  const tree = parser.parse(text);
  if (tree === null) throw new Error("no parse tree");
  const found: string[] = [];
  const visit = (node: SyntaxNode): void => {
    if (node.type === "flow_control_statement" && node.firstChild?.type === "exit") found.push(node.text);
    for (const child of node.children) if (child !== null) visit(child);
  };
  visit(tree.rootNode);
  tree.delete();
  parser.delete();
  return found;
}

describe("Invoke-PatchPilotRun.ps1 (the RMM script)", () => {
  it("parses with the PowerShell grammar and uses nothing PowerShell 7-only", async () => {
    expect(await checkPowerShell51(source)).toEqual([]);
  });

  it("exits only with literal, documented exit codes", async () => {
    const exits = await exitStatements(source);
    expect(exits.length).toBeGreaterThanOrEqual(EXIT_CODES.length);
    const codes = exits.map((e) => /^exit\s+(\d+)$/.exec(e.trim())?.[1]);
    expect(codes.filter((c) => c === undefined)).toEqual([]);
    expect([...new Set(codes.map(Number))].sort((a, b) => a - b)).toEqual(EXIT_CODES);
  });

  it("finds exit statements and not look-alikes (the scan itself)", async () => {
    expect(await exitStatements("# exit 5\n$s = 'exit 3'\nfunction F { exit 0 }\nexit $code\n")).toEqual([
      "exit 0",
      "exit $code",
    ]);
  });

  it("sends the API key in x-api-key to the tenant's runs route, over TLS 1.2", () => {
    expect(source).toContain("'x-api-key' = $ApiKey");
    expect(source).toContain("/api/v1/tenants/");
    expect(source).toMatch(/\/runs"/);
    expect(source).toContain("[Net.SecurityProtocolType]::Tls12");
    expect(source).toMatch(/UseBasicParsing\s*=\s*\$true/);
    expect(source).toContain("?waitSeconds=");
  });

  it("documents itself with comment-based help and reads the key from the environment by default", () => {
    for (const section of [".SYNOPSIS", ".PARAMETER BaseUrl", ".PARAMETER ApiKey", ".EXAMPLE"])
      expect(source).toContain(section);
    for (const rmm of ["NinjaOne", "N-able", "Datto RMM"]) expect(source).toContain(rmm);
    expect(source).toMatch(/\[string\]\$ApiKey = \$env:PATCHPILOT_API_KEY/);
    expect(source).toMatch(/\[string\]\$Device = \$env:COMPUTERNAME/);
    expect(source).toMatch(/\[int\]\$WaitSeconds = 60/);
    expect(source).toMatch(/\[double\]\$TimeoutMinutes = 240/);
    // Ranges are checked in the script (exit 240), never by [ValidateRange], whose binding failure exits 1.
    expect(source).not.toMatch(/^\s*\[ValidateRange/m);
  });
});

describe("patchpilot-run.sh (the RMM script for Linux)", () => {
  const SH = path.resolve(__dirname, "../../../lib/device/rmm/patchpilot-run.sh");
  const text = readFileSync(SH, "utf8");
  const code = text
    .split("\n")
    .map((line) => line.replace(/(^|\s)#.*$/, ""))
    .join("\n");

  it("is valid bash that needs only curl: no jq, Node, Python, awk or eval", () => {
    execFileSync("bash", ["-n", SH]);
    expect(text.startsWith("#!/bin/bash\n")).toBe(true);
    for (const tool of [/\bjq\b/, /\bnode\b/, /\bpython3?\b/, /\bawk\b/, /\beval\b/]) expect(code).not.toMatch(tool);
    expect(code).toMatch(/\bcurl\b/);
  });

  it("exits only with the documented codes", () => {
    // exit statements: at the start of a line or after a case pattern (not "exit" inside a message).
    const exits = [...code.matchAll(/(?:^\s*|\)\s+)exit\s+(\S+)/gm)].map((m) => m[1]);
    expect(exits).toEqual(['"$code"', "240"]);
    expect(code).toMatch(/0 \| 150 \| 170 \| 210 \| 220 \| 230\) exit "\$code"/);
  });

  it("never puts the API key on a command line", () => {
    expect(code).toContain('-H @"$WORK/key"');
    expect(code).not.toMatch(/-H ["']?x-api-key/);
  });
});
