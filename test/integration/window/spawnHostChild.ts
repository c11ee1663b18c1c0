import { spawn } from "node:child_process";
import path from "node:path";
import type { HostChildArgs } from "../../fixtures/window/hostChildArgs";

const HOOK = path.join(__dirname, "../../fixtures/durable/transpileHook.js");
const CHILD = path.join(__dirname, "../../fixtures/window/windowHostChild.ts");

/** A running window host child. */
export interface HostChild {
  /** SIGKILL: no clean-up, no flush, as a crashed host. */
  kill(): void;
  /** Resolves with the first stdout line starting with `prefix`, minus the prefix; rejects when the child exits first. */
  waitForLine(prefix: string): Promise<string>;
  /** Resolves with the exit code (null when killed). */
  exited: Promise<number | null>;
}

/** Spawns windowHostChild.ts from the TypeScript sources (through the transpile hook, no dist/). */
export function spawnHostChild(args: HostChildArgs): HostChild {
  const child = spawn(process.execPath, ["-r", HOOK, CHILD, JSON.stringify(args)], { stdio: ["ignore", "pipe", "pipe"] });
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
    waitForLine: (prefix) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find((line) => line.startsWith(prefix));
          if (found !== undefined) resolve(found.slice(prefix.length));
        };
        listeners.push(check);
        check();
        void exited.then((code) => reject(new Error(`window host child exited (${String(code)}) before "${prefix}": ${stderr}`)));
      }),
  };
}
