import { spawn } from "node:child_process";
import path from "node:path";

const HOOK = path.join(__dirname, "../fixtures/durable/transpileHook.js");

/** A child process running a TypeScript file from source (through the transpile hook, never dist/). */
export interface TsChild {
  /** SIGKILL: no clean-up, no flush, as a crashed host. */
  kill(): void;
  /** Resolves with the first stdout line matching, or rejects when the child exits first. */
  waitForLine(test: (line: string) => boolean): Promise<string>;
  /** Resolves with the exit code (null when killed). */
  exited: Promise<number | null>;
}

/** Spawns `node -r transpileHook <script> ...args`, collecting stdout lines and stderr. */
export function spawnTsChild(script: string, args: readonly string[]): TsChild {
  const child = spawn(process.execPath, ["-r", HOOK, script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines: string[] = [];
  const listeners: (() => void)[] = [];
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    kill: () => child.kill("SIGKILL"),
    exited,
    waitForLine: (test) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(test);
          if (found !== undefined) resolve(found);
        };
        listeners.push(check);
        check();
        void exited.then((code) =>
          reject(new Error(`${path.basename(script)} exited (${String(code)}) first: ${stderr}`)),
        );
      }),
  };
}
