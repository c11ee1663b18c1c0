// Temporary folders of a local run (patchpilot-* in the OS temp directory): removed when the stack stops, and in
// any case when the process exits (also after Ctrl-C, which runScenarioCommand turns into a normal exit).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const live = new Set<string>();
let hooked = false;

/** Creates `patchpilot-<name>-XXXXXX` in the temp directory; it is removed by removeTempDir or at process exit. */
export function makeTempDir(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `patchpilot-${name}-`));
  live.add(dir);
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const d of live) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}
