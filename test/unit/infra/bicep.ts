// A small reader of Bicep source text for the infra tests: enough structure (comments, strings with
// interpolation, brace depth, resource blocks, object-literal keys) to check the templates without the Bicep CLI.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** A Bicep file as text: with comments blanked, and additionally with string contents blanked (same offsets). */
export interface BicepText {
  path: string;
  /** The source with comments replaced by spaces (newlines kept). */
  code: string;
  /** `code` with the contents of string literals (and their interpolations) replaced by spaces. */
  skeleton: string;
}

type Frame = { kind: "code" } | { kind: "string" } | { kind: "interp"; depth: number };

/** Blanks comments, and (in the skeleton) string contents, keeping every offset and newline. */
export function scanBicep(source: string, path = "(inline)"): BicepText {
  const code = source.split("");
  const skeleton = source.split("");
  const blank = (from: number, to: number, both: boolean): void => {
    for (let k = from; k < to && k < source.length; k++) {
      if (source[k] === "\n") continue;
      skeleton[k] = " ";
      if (both) code[k] = " ";
    }
  };
  const stack: Frame[] = [{ kind: "code" }];
  let i = 0;
  while (i < source.length) {
    const frame = stack[stack.length - 1] ?? { kind: "code" };
    const ch = source[i];
    if (frame.kind === "string") {
      if (ch === "\\") {
        blank(i, i + 2, false);
        i += 2;
      } else if (source.startsWith("${", i)) {
        blank(i, i + 2, false);
        stack.push({ kind: "interp", depth: 0 });
        i += 2;
      } else if (ch === "'") {
        stack.pop();
        // A string nested in an interpolation is string contents of the outer string: blank its closing quote too.
        if (stack[stack.length - 1]?.kind === "interp") blank(i, i + 1, false);
        i += 1;
      } else {
        blank(i, i + 1, false);
        i += 1;
      }
      continue;
    }
    // code or interpolation
    const inInterp = frame.kind === "interp";
    if (source.startsWith("//", i)) {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? source.length : end;
      blank(i, stop, true);
      i = stop;
    } else if (source.startsWith("/*", i)) {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop, true);
      i = stop;
    } else if (source.startsWith("'''", i)) {
      const end = source.indexOf("'''", i + 3);
      const stop = end === -1 ? source.length : end + 3;
      blank(inInterp ? i : i + 3, inInterp ? stop : stop - 3, false);
      i = stop;
    } else if (ch === "'") {
      if (inInterp) blank(i, i + 1, false);
      stack.push({ kind: "string" });
      i += 1;
    } else {
      if (frame.kind === "interp") {
        if (ch === "{") frame.depth += 1;
        if (ch === "}") {
          if (frame.depth === 0) stack.pop();
          else frame.depth -= 1;
        }
        blank(i, i + 1, false);
      }
      i += 1;
    }
  }
  return { path, code: code.join(""), skeleton: skeleton.join("") };
}

export function readBicep(path: string): BicepText {
  return scanBicep(readFileSync(path, "utf8"), path);
}

/** Every *.bicep file under a folder, recursively. */
export function bicepFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...bicepFiles(full));
    else if (entry.name.endsWith(".bicep")) out.push(full);
  }
  return out.sort();
}

const OPEN = new Set(["{", "[", "("]);
const CLOSE = new Set(["}", "]", ")"]);

/** Index of the bracket that closes the one at `open` (any of {[( ), judged on the skeleton. */
export function matchingClose(text: BicepText, open: number): number {
  let depth = 0;
  for (let i = open; i < text.skeleton.length; i++) {
    const ch = text.skeleton[i] ?? "";
    if (OPEN.has(ch)) depth += 1;
    else if (CLOSE.has(ch)) {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  throw new Error(`${text.path}: unbalanced bracket at offset ${open}`);
}

/** The top-level keys of an object literal whose `{` is at `open`, in order. */
export function objectKeysAt(text: BicepText, open: number): string[] {
  const close = matchingClose(text, open);
  const keys: string[] = [];
  let depth = 0;
  let entryStart = true;
  for (let i = open; i <= close; i++) {
    const ch = text.skeleton[i] ?? "";
    if (depth === 1 && entryStart && !/\s/.test(ch)) {
      entryStart = false;
      const rest = text.code.slice(i, close);
      const match = /^(?:([A-Za-z_][A-Za-z0-9_]*)|'((?:[^'\\]|\\.)*)')\s*:/.exec(rest);
      if (match !== null) keys.push(match[1] ?? match[2] ?? "");
    }
    if (OPEN.has(ch)) depth += 1;
    else if (CLOSE.has(ch)) depth -= 1;
    if (depth === 1 && (ch === "\n" || ch === "," || (ch === "{" && i === open))) entryStart = true;
  }
  return keys;
}

/** Offset of the `{` / `[` that starts the value of `var <name> =`, or throws. */
export function varValueStart(text: BicepText, name: string): number {
  const match = new RegExp(`(^|\\n)\\s*var\\s+${name}\\s*=\\s*`).exec(text.code);
  if (match === null) throw new Error(`${text.path}: no var ${name}`);
  return match.index + match[0].length;
}

/** Top-level keys of `var <name> = { ... }`. */
export function varObjectKeys(text: BicepText, name: string): string[] {
  const start = varValueStart(text, name);
  if (text.code[start] !== "{") throw new Error(`${text.path}: var ${name} is not an object literal`);
  return objectKeysAt(text, start);
}

/** Top-level `key: 'literal'` pairs of `var <name> = { ... }` (values that are plain string literals only). */
export function varObjectStrings(text: BicepText, name: string): Record<string, string> {
  const start = varValueStart(text, name);
  const body = text.code.slice(start, matchingClose(text, start) + 1);
  const out: Record<string, string> = {};
  for (const match of body.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*'([^'\\]*)'\s*$/gm)) {
    out[match[1] ?? ""] = match[2] ?? "";
  }
  return out;
}

/** The string literals of `var <name> = [ ... ]`. */
export function varStringArray(text: BicepText, name: string): string[] {
  const start = varValueStart(text, name);
  if (text.code[start] !== "[") throw new Error(`${text.path}: var ${name} is not an array literal`);
  const body = text.code.slice(start, matchingClose(text, start) + 1);
  return [...body.matchAll(/'([^'\\]*)'/g)].map((m) => m[1] ?? "");
}

/** A `resource` declaration: symbol, type (with api version), whether `existing`, and its body text. */
export interface ResourceBlock {
  file: string;
  symbol: string;
  type: string;
  existing: boolean;
  /** From the `=` to the end of the closing brace (code text, comments blanked). */
  body: string;
  /** The body's opening `{` offset in the file. */
  open: number;
}

/** Every resource declaration of a file. */
export function resources(text: BicepText): ResourceBlock[] {
  const out: ResourceBlock[] = [];
  for (const match of text.code.matchAll(
    /(^|\n)[ \t]*resource\s+([A-Za-z_][A-Za-z0-9_]*)\s+'([^']+)'\s*(existing)?\s*=/g,
  )) {
    const after = (match.index ?? 0) + match[0].length;
    const open = text.skeleton.indexOf("{", after);
    const close = matchingClose(text, open);
    out.push({
      file: text.path,
      symbol: match[2] ?? "",
      type: match[3] ?? "",
      existing: match[4] !== undefined,
      body: text.code.slice(after, close + 1),
      open,
    });
  }
  return out;
}

/** The value text of the first top-level `key:` inside a resource body (one line). */
export function propertyLine(body: string, key: string): string | undefined {
  const match = new RegExp(`(^|\\n)\\s*${key}\\s*:\\s*(.*)`).exec(body);
  return match?.[2]?.trim();
}

export function rel(root: string, path: string): string {
  return relative(root, path);
}
