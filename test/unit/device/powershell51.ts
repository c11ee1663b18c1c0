// Checks that a script is Windows PowerShell 5.1: it parses with a real PowerShell grammar (tree-sitter-powershell,
// loaded offline as WebAssembly) and uses none of the PowerShell 6/7-only constructs below. Test helper, not a test.
import { readFileSync } from "node:fs";
import type { Node as SyntaxNode, Parser as ParserType } from "web-tree-sitter";

/** One reason a script would not run on Windows PowerShell 5.1 (or breaks a safety rule). */
export interface PowerShellFinding {
  rule: string;
  line: number;
  text: string;
}

interface TextRule {
  rule: string;
  pattern: RegExp;
}

// Matched against the code with comments and string contents blanked out (code inside "$(...)" is kept).
const TEXT_RULES: readonly TextRule[] = [
  { rule: "null-coalescing", pattern: /\?\?/ },
  { rule: "null-conditional", pattern: /\?\.(?!\.)|\?\[/ },
  // A lone "?" between operands; "| ?" (the Where-Object alias) is allowed.
  { rule: "ternary", pattern: /(?<![|?\s])\s+\?\s/ },
  { rule: "pipeline-chain", pattern: /&&|\|\|/ },
  { rule: "as-hashtable", pattern: /-AsHashtable\b/i },
  { rule: "foreach-parallel", pattern: /-Parallel\b/i },
  { rule: "convertfrom-json-depth", pattern: /ConvertFrom-Json\b[^\n|]*-(Depth|NoEnumerate)\b/i },
  {
    rule: "ps7-parameter",
    pattern:
      /-(SkipCertificateCheck|SkipHttpErrorCheck|StatusCodeVariable|ResponseHeadersVariable|EnumsAsStrings|AsArray|SslProtocol)\b/i,
  },
  {
    rule: "ps7-command",
    pattern: /\b(Get-Error|Join-String|Test-Json|Get-Uptime|ConvertFrom-Markdown|Remove-Alias|Remove-Service)\b/i,
  },
  { rule: "ps7-variable", pattern: /\$(PSStyle|IsWindows|IsLinux|IsMacOS|IsCoreCLR)\b/i },
  { rule: "clean-block", pattern: /(^|[\s;{])clean\s*\{/im },
  { rule: "invoke-expression", pattern: /\b(Invoke-Expression|iex)\b/i },
];

const BLANKED_NODE_TYPES = new Set(["comment", "string_literal"]);

let parser: Promise<ParserType> | undefined;

async function createParser(): Promise<ParserType> {
  // The .cjs build: jest runs CommonJS, and web-tree-sitter's default export is ESM.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Parser, Language } = require("web-tree-sitter") as typeof import("web-tree-sitter");
  await Parser.init();
  // Bytes, not a path: loading by path does a dynamic import, which jest's CommonJS sandbox refuses.
  const language = await Language.load(
    readFileSync(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm")),
  );
  const p = new Parser();
  p.setLanguage(language);
  return p;
}

function collect(node: SyntaxNode, visit: (n: SyntaxNode) => boolean): void {
  if (!visit(node)) return;
  for (const child of node.children) if (child !== null) collect(child, visit);
}

/** The source with comments and string literals replaced by spaces, keeping line breaks and code in "$(...)". */
function blankLiterals(source: string, root: SyntaxNode): string {
  // tree-sitter indexes UTF-8 bytes; work on a byte buffer and map back.
  const bytes = Buffer.from(source, "utf8");
  const keep = new Uint8Array(bytes.length).fill(1);
  collect(root, (n) => {
    if (BLANKED_NODE_TYPES.has(n.type)) {
      keep.fill(0, n.startIndex, n.endIndex);
      collect(n, (inner) => {
        if (inner.type === "sub_expression") keep.fill(1, inner.startIndex, inner.endIndex);
        return inner.type !== "sub_expression";
      });
      return false;
    }
    return true;
  });
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) if (keep[i] === 0 && out[i] !== 0x0a) out[i] = 0x20;
  return out.toString("utf8");
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/** Every finding for one script: grammar errors, PowerShell 7-only syntax and constructs, Invoke-Expression. */
export async function checkPowerShell51(source: string): Promise<PowerShellFinding[]> {
  parser ??= createParser();
  const tree = (await parser).parse(source);
  if (tree === null) return [{ rule: "parse-error", line: 1, text: "parser returned no tree" }];
  const findings: PowerShellFinding[] = [];
  const bytes = Buffer.from(source, "utf8");
  collect(tree.rootNode, (n) => {
    if (n.type === "ERROR" || n.isMissing) {
      findings.push({
        rule: "parse-error",
        line: n.startPosition.row + 1,
        text: bytes.subarray(n.startIndex, n.endIndex).toString("utf8").slice(0, 80),
      });
      return false;
    }
    if (n.type === "pipeline_chain_tail")
      findings.push({ rule: "pipeline-chain", line: n.startPosition.row + 1, text: n.text.slice(0, 80) });
    return true;
  });
  const code = blankLiterals(source, tree.rootNode);
  for (const { rule, pattern } of TEXT_RULES) {
    const global = new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`);
    for (const match of code.matchAll(global)) {
      findings.push({ rule, line: lineOf(code, match.index), text: match[0].trim() });
    }
  }
  tree.delete();
  return findings;
}
