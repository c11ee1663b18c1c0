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
