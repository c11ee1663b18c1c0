import path from "node:path";
import type { HostChildArgs } from "../../fixtures/window/hostChildArgs";
import { spawnTsChild } from "../../harness/tsChild";

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
  const child = spawnTsChild(CHILD, [JSON.stringify(args)]);
  return {
    kill: () => child.kill(),
    exited: child.exited,
    waitForLine: async (prefix) => (await child.waitForLine((line) => line.startsWith(prefix))).slice(prefix.length),
  };
}
