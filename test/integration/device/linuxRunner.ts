// Runs the Linux device scripts for real, as Run Command would: parameters as environment variables, stdout read
// back. Test helper, not a test.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const LINUX_SCRIPTS = path.resolve(__dirname, "../../../lib/device/linux");

/** What one script run printed and returned. */
export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options for one run: the interpreter Run Command uses (sh or bash) and a PATH (stubs first). */
export interface RunOptions {
  shell?: "sh" | "bash";
  path?: string;
  timeoutMs?: number;
}

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Runs lib/device/linux/<id>.sh with only PATH, HOME and the given parameters in its environment. */
export function runLinuxScript(
  id: string,
  params: Record<string, string>,
  options: RunOptions = {},
): Promise<ScriptRun> {
  const env = { PATH: options.path ?? SYSTEM_PATH, HOME: os.tmpdir(), ...params };
  return new Promise((resolve) => {
    execFile(
      options.shell ?? "bash",
      [path.join(LINUX_SCRIPTS, `${id}.sh`)],
      { env, timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A fresh temporary directory (under parent when given, so one rm cleans up a whole test file). */
export function makeTempDir(prefix: string, parent: string = os.tmpdir()): string {
  return mkdtempSync(path.join(parent, `patchpilot-${prefix}-`));
}

/** Writes an executable stub (a bash script) into dir. */
export function writeStub(dir: string, name: string, body: string): void {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/bash\n${body}\n`);
  chmodSync(file, 0o755);
}

/** The text of one Linux script. */
export function readLinuxScript(id: string): string {
  return readFileSync(path.join(LINUX_SCRIPTS, `${id}.sh`), "utf8");
}

/** The shared helper block every Linux script carries. */
export function commonBlock(text: string): string {
  const start = text.indexOf("# --- patchpilot common");
  const end = text.indexOf("# --- end patchpilot common ---");
  if (start < 0 || end < start) throw new Error("no common block");
  return text.slice(start, end);
}

/** The text of one top-level bash function (`name() {` ... `}` at column 0). */
export function bashFunction(text: string, name: string): string {
  const match = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?\\n\\}\\n`, "m").exec(text);
  if (match === null) throw new Error(`no function ${name}`);
  return match[0];
}
