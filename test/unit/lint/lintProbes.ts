import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

// Lints in-memory probe files with the project's real eslint.config.mjs through the ESLint class.
//
// The ESLint class runs in a child Node process (test/fixtures/lint/lintProbes.mjs): ESLint loads
// eslint.config.mjs with a dynamic import(), which Jest's CommonJS VM rejects without
// --experimental-vm-modules. Probe files are not on disk and so belong to no TS project; the runner
// applies typescript-eslint's `disableTypeChecked` to exactly the probe paths. The rules under test are
// all syntactic, so they run unchanged.

export const ROOT = path.resolve(__dirname, "../../..");
const RUNNER = path.join(ROOT, "test/fixtures/lint/lintProbes.mjs");

export interface LintMessage {
  ruleId: string | null;
  severity: number;
  message: string;
  line: number;
  column: number;
  fatal: boolean;
}
export interface ProbeResult {
  filePath: string;
  messages: LintMessage[];
}
export interface Probe {
  filePath: string;
  code: string;
}

/** The lint messages of each probe, in order. */
export async function lint(probes: Probe[]): Promise<ProbeResult[]> {
  const child = promisify(execFile)(process.execPath, [RUNNER], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  child.child.stdin?.end(JSON.stringify({ cwd: ROOT, probes }));
  const { stdout } = await child;
  return JSON.parse(stdout) as ProbeResult[];
}

// Rule ids the lint-rule suites assert on.
export const IMPORTS = "@typescript-eslint/no-restricted-imports";
export const GLOBALS = "no-restricted-globals";
export const PROPERTIES = "no-restricted-properties";
export const SYNTAX = "no-restricted-syntax";

/** A probe's expected error: the rule that must fire and what its message must say. */
export interface ExpectedError {
  ruleId: string;
  message: RegExp | string;
}

/**
 * Lints `probes` once before the file's tests run and returns a lookup of each probe's result by index. The lookup
 * fails a test whose probe did not parse: a parse error would make every "no errors" assertion vacuous.
 */
export function lintBeforeAll(probes: Probe[]): (index: number) => ProbeResult {
  let results: ProbeResult[] = [];
  beforeAll(async () => {
    results = await lint(probes);
    expect(results).toHaveLength(probes.length);
  }, 60_000);
  return (index) => {
    const result = results[index];
    if (!result) throw new Error(`no lint result for probe ${index}`);
    expect(result.messages.filter((m) => m.fatal || m.ruleId === null)).toEqual([]);
    return result;
  };
}

/** Asserts the expected rule fired as an error with a matching message, and that each of its messages explains. */
export function expectError(result: ProbeResult, expected: ExpectedError): void {
  const hits = result.messages.filter((m) => m.ruleId === expected.ruleId);
  expect(hits).toContainEqual(
    expect.objectContaining({
      ruleId: expected.ruleId,
      severity: 2,
      message: expect.stringMatching(expected.message) as unknown,
    }),
  );
  for (const hit of hits) expect(hit.message.length).toBeGreaterThan(20);
}

/** The errors `result` has from any of `rules`. */
export const errorsFrom = (result: ProbeResult, rules: ReadonlySet<string>): LintMessage[] =>
  result.messages.filter((m) => m.severity === 2 && m.ruleId !== null && rules.has(m.ruleId));
