import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

// lib/azure may use lib/evidence (the event builder reads evidence through the run's session, the logs ledger hashes
// with it); lib/evidence must never reach lib/azure, directly or through another module, or the two form a circle
// again. Imports are taken by the TypeScript compiler's own pre-processor, not by a pattern of ours.

const ROOT = path.resolve(__dirname, "../../..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** The project files a file imports (relative specifiers resolved as TypeScript resolves them here). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return info.importedFiles
    .map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith("."))
    .flatMap((spec) => {
      const base = path.resolve(path.dirname(file), spec);
      const found = [`${base}.ts`, path.join(base, "index.ts")].find((candidate) => existsSync(candidate));
      return found === undefined ? [] : [found];
    });
}

/** Every project file reachable from `start`, with the chain that reaches it. */
function reachable(start: readonly string[]): Map<string, string[]> {
  const chains = new Map<string, string[]>(start.map((f) => [f, [f]]));
  const queue = [...start];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const next of importsOf(file)) {
      if (chains.has(next)) continue;
      chains.set(next, [...(chains.get(file) ?? []), next]);
      queue.push(next);
    }
  }
  return chains;
}

describe("import direction between lib/evidence and lib/azure", () => {
  it("lib/evidence reaches no file of lib/azure, directly or transitively", () => {
    const azure = `${path.join(ROOT, "lib", "azure")}${path.sep}`;
    const chains = reachable(tsFiles(path.join(ROOT, "lib", "evidence")));
    const intoAzure = [...chains.entries()]
      .filter(([file]) => file.startsWith(azure))
      .map(([, chain]) => chain.map((f) => path.relative(ROOT, f)).join(" -> "));
    expect(intoAzure).toEqual([]);
  });

  it("sees imports at all (a resolver that found nothing would pass the test above vacuously)", () => {
    const chains = reachable([path.join(ROOT, "lib", "azure", "events", "readRunEventData.ts")]);
    expect([...chains.keys()]).toContain(path.join(ROOT, "lib", "evidence", "evidenceSession.ts"));
  });
});
