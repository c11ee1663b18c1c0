import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

// Import graphs of the production code, read by the TypeScript compiler:
//   - every import: the specifiers ts.preProcessFile finds (import, import type, export … from, import("…")),
//     which is how the modules depend on each other, at the type level included;
//   - run-time imports: each file transpiled to CommonJS (ts.transpileModule) and its require() calls. The compiler
//     erases `import type` and names used only as types, so these are the loads Node performs, where a cycle makes one
//     module see another half-initialised.

/** Repository-relative paths (forward slashes) of every .ts file under the folders, sorted. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const files: string[] = [];
  for (const folder of folders) {
    const dir = path.join(root, folder);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
      if (f.endsWith(".ts") && !f.endsWith(".d.ts")) files.push(`${folder}/${f.split(path.sep).join("/")}`);
    }
  }
  return files.sort();
}

/** How a file's imports are read: every specifier it names, or only those its CommonJS output require()s. */
export type SpecifierReader = (source: string, fileName: string) => string[];

export const everyImport: SpecifierReader = (source) =>
  ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);

export const runtimeImports: SpecifierReader = (source, fileName) => {
  const { outputText } = ts.transpileModule(source, {
    fileName,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  return [...outputText.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1] ?? "");
};

/** The repository file a relative specifier resolves to (Node's rules for .ts sources), or undefined. */
function resolve(root: string, from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = path.join(path.dirname(path.join(root, from)), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) {
      return path.relative(root, candidate).split(path.sep).join("/");
    }
  }
  return undefined;
}

export type Graph = ReadonlyMap<string, readonly string[]>;

/** file → the files of the set it imports (sorted, once each); imports of packages or of files outside are dropped. */
export function importGraph(root: string, files: readonly string[], read: SpecifierReader): Graph {
  const inSet = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = read(readFileSync(path.join(root, file), "utf8"), file)
      .map((s) => resolve(root, file, s))
      .filter((t): t is string => t !== undefined && inSet.has(t));
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/**
 * The graph between folders: `lib/<name>` for lib/, the top folder otherwise (`functions`, `orchestrators`). A file in
 * `standAlone` stays its own node instead of joining its folder: meant for files that import nothing at all, which
 * belong to no layer (lib/schemas reads the exit-code table, such a file in lib/domain, without depending on it).
 */
export function folderGraph(files: Graph, standAlone: ReadonlySet<string> = new Set()): Graph {
  const folderOf = (file: string): string => {
    if (standAlone.has(file)) return file;
    const parts = file.split("/");
    return parts[0] === "lib" && parts.length > 2 ? `lib/${parts[1] ?? ""}` : (parts[0] ?? file);
  };
  const graph = new Map<string, Set<string>>();
  for (const [file, targets] of files) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const target of targets) if (folderOf(target) !== from) edges.add(folderOf(target));
  }
  return new Map([...graph].map(([k, v]) => [k, [...v].sort()]));
}

/** The files that import nothing at all: no file, no package, no Node built-in. */
export function importFreeFiles(root: string, files: readonly string[]): Set<string> {
  return new Set(files.filter((f) => everyImport(readFileSync(path.join(root, f), "utf8"), f).length === 0));
}

/**
 * The import cycles: strongly connected components with more than one node, or a node that imports itself (Tarjan's
 * algorithm). A component is its nodes, sorted; components are sorted by their first node. A new cycle either adds a
 * component or grows one, so comparing these lists catches it.
 */
export function importCycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      component.push(w);
    }
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return components.sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
}

/** A shortest cycle through a component's first node (first node repeated at the end), for a failure message. */
export function exampleCycle(graph: Graph, component: readonly string[]): string[] {
  const start = component[0];
  if (start === undefined) return [];
  const members = new Set(component);
  const previous = new Map<string, string>();
  const queue = [start];
  for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const cycle = [v];
        while (cycle[0] !== start) cycle.unshift(previous.get(cycle[0] ?? "") ?? start);
        return [...cycle, start];
      }
      if (members.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [];
}
