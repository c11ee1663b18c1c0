import path from "node:path";
import {
  everyImport,
  exampleCycle,
  folderGraph,
  importCycles,
  importFreeFiles,
  importGraph,
  runtimeImports,
  sourceFiles,
  type Graph,
} from "./importGraph";

// Import cycles among the production files (functions/, orchestrators/, lib/). The expected lists are exact: a new
// cycle, or a file joining an old one, fails here with one path through it; a cycle removed fails too, so the list
// is kept true. See ./importGraph.ts for how the graphs are read.

const ROOT = path.resolve(__dirname, "../../..");
const PRODUCTION = ["functions", "orchestrators", "lib"];

/**
 * File-level cycles counting every import, `import type` included: the modules cannot be understood (or moved to
 * another layer) one without the other. To be emptied: the lead removes each entry as the helpers breaking it merge.
 */
// Emptied when issue 15a merged: functions/definitions.ts is a leaf (types and app deps), the list of definitions is
// functions/functionList.ts, so the routes importing the types no longer lead back to every handler.
const ALLOWED_FILE_CYCLES: string[][] = [];

/**
 * Folder-level cycles (lib/<name>, functions, orchestrators), every import counted. A file that imports nothing at all
 * (no file, no package) stands alone instead of joining its folder: it belongs to no layer, so lib/schemas reading
 * the exit-code table (lib/domain/exitCode/exitCodeTable.ts) is no lib/schemas <-> lib/domain cycle. To be emptied:
 * the lead removes each entry as the helpers breaking it merge.
 */
// Emptied when issue 15b merged: lib/azure depends on lib/evidence, never the reverse.
const ALLOWED_FOLDER_CYCLES: string[][] = [];

/** The cycles, each with one path through it, so a failure says where to look. */
function describeCycles(graph: Graph): Array<{ members: string[]; example: string }> {
  return importCycles(graph).map((members) => ({ members, example: exampleCycle(graph, members).join(" -> ") }));
}

/** Compares the cycles with the allowed list; a cycle not allowed is shown with its path. */
function expectCycles(graph: Graph, allowed: readonly string[][]): void {
  const cycles = describeCycles(graph);
  const known = new Set(allowed.map((c) => c.join("|")));
  expect({
    cycles: cycles.map((c) => c.members),
    notAllowed: cycles.filter((c) => !known.has(c.members.join("|"))),
  }).toEqual({ cycles: allowed, notAllowed: [] });
}

const files = sourceFiles(ROOT, PRODUCTION);

describe("import cycles among production files", () => {
  const every = importGraph(ROOT, files, everyImport);

  it("reads the whole production tree", () => {
    expect(files.length).toBeGreaterThan(150);
    expect([...every.values()].reduce((n, targets) => n + targets.length, 0)).toBeGreaterThan(files.length);
  });

  it("has no cycle at run time (the imports the compiler keeps)", () => {
    expectCycles(importGraph(ROOT, files, runtimeImports), []);
  });

  it("has only the allowed file cycles, every import counted", () => {
    expectCycles(every, ALLOWED_FILE_CYCLES);
  });

  it("has only the allowed folder cycles, every import counted", () => {
    expectCycles(folderGraph(every, importFreeFiles(ROOT, files)), ALLOWED_FOLDER_CYCLES);
  });
});

describe("the import graph (the walker itself)", () => {
  it("counts type-only imports as imports, and not as run-time imports", () => {
    const source = [
      `import type { A } from "./a";`,
      `import { type B } from "./b";`,
      `import { C } from "./c";`,
      `import { D } from "./d";`,
      `export { E } from "./e";`,
      `export type { F } from "./f";`,
      `export const c = C;`,
      `export type G = D;`,
    ].join("\n");
    expect(everyImport(source, "x.ts")).toEqual(["./a", "./b", "./c", "./d", "./e", "./f"]);
    // The compiler erases ./a, ./b and ./f (type-only), and ./d (used only as a type).
    expect(runtimeImports(source, "x.ts")).toEqual(["./c", "./e"]);
  });

  it("finds each cycle once, with a path through it, and leaves chains alone", () => {
    const graph: Graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", ["e"]],
      ["e", []],
      ["f", ["f"]],
    ]);
    expect(importCycles(graph)).toEqual([["a", "b", "c"], ["f"]]);
    expect(exampleCycle(graph, ["a", "b", "c"])).toEqual(["a", "b", "c", "a"]);
  });

  it("groups files by folder, a file named to stand alone kept apart", () => {
    const graph: Graph = new Map([
      ["lib/x/one.ts", ["lib/y/two.ts"]],
      ["lib/y/two.ts", ["lib/x/table.ts"]],
      ["lib/x/table.ts", []],
      ["functions/f.ts", ["lib/x/one.ts"]],
    ]);
    const table = new Set(["lib/x/table.ts"]);
    expect(folderGraph(graph, table)).toEqual(
      new Map([
        ["lib/x", ["lib/y"]],
        ["lib/y", ["lib/x/table.ts"]],
        ["lib/x/table.ts", []],
        ["functions", ["lib/x"]],
      ]),
    );
    expect(importCycles(folderGraph(graph, table))).toEqual([]);
    // Folded into lib/x, the table would make lib/x and lib/y a cycle.
    expect(importCycles(folderGraph(graph))).toEqual([["lib/x", "lib/y"]]);
    // A second, real path back is a cycle whatever stands alone.
    const back = new Map([...graph, ["lib/y/three.ts", ["lib/x/one.ts"]]]);
    expect(importCycles(folderGraph(back, table))).toEqual([["lib/x", "lib/y"]]);
  });

  it("stands alone only the production files that import nothing at all", () => {
    const free = importFreeFiles(ROOT, files);
    expect(free.has("lib/domain/exitCode/exitCodeTable.ts")).toBe(true);
    // sha256.ts imports node:crypto: it has a layer.
    expect(free.has("lib/evidence/sha256.ts")).toBe(false);
  });
});
