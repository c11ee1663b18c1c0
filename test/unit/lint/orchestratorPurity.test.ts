import { lint, type LintMessage, type Probe, type ProbeResult } from "./lintProbes";

// Proves the purity rules in eslint.config.mjs fire (and stay quiet on clean code) by linting in-memory
// probe files with the project's real config (./lintProbes.ts says how).

const ORCH = "orchestrators/__probe__.ts";
const EVIDENCE = "lib/evidence/__probe__.ts";
const CONFIG = "lib/config/__probe__.ts";
const FUNCTIONS = "functions/__probe__.ts";

const IMPORTS = "@typescript-eslint/no-restricted-imports";
const GLOBALS = "no-restricted-globals";
const PROPERTIES = "no-restricted-properties";
const SYNTAX = "no-restricted-syntax";
const PURITY_RULES = new Set([IMPORTS, "no-restricted-imports", GLOBALS, PROPERTIES, SYNTAX]);

const CONFIG_MSG = "config is parsed once in lib/config and passed in";
const REPLAY = /orchestrators replay/;

// `context` stands in for the durable-functions OrchestrationContext; no types are needed (no type info).
const CLEAN_ORCHESTRATOR = `
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import type { BlobStore } from "../lib/evidence/blobStore";
import { type EvidenceRef } from "../lib/evidence/refs";
import type { StorageClients } from "../lib/azure/storageClients";
import type { collectSnapshot } from "../functions/activities/collectSnapshot";

export type Deps = { store: BlobStore; ref: EvidenceRef; clients: StorageClients; activity: typeof collectSnapshot };

df.app.orchestration("probe", function* (context: OrchestrationContext) {
  const startedAt = new Date(context.df.currentUtcDateTime);
  const deadline = new Date(startedAt.getTime() + 60_000);
  const id = context.df.newGuid("probe");
  const stamp = Date.UTC(2024, 0, 1);
  const jitter = Math.max(1, Math.floor(stamp / 1000));
  yield context.df.createTimer(deadline);
  const out: unknown = yield context.df.callActivity("collectSnapshot", { id, jitter });
  return out;
});
`;

/** Orchestrator probes that must each trip exactly the named rule with a message matching `message`. */
const VIOLATIONS: Array<{ name: string; code: string; ruleId: string; message: RegExp | string }> = [
  {
    name: "import from node:fs",
    code: `import { readFileSync } from "node:fs";\nexport const r = readFileSync;`,
    ruleId: IMPORTS,
    message: /Node built-ins/,
  },
  {
    name: "import from fs (bare)",
    code: `import fs from "fs";\nexport const r = fs;`,
    ruleId: IMPORTS,
    message: /Node built-ins/,
  },
  {
    name: "type import from node:fs",
    code: `import type { Stats } from "node:fs";\nexport type S = Stats;`,
    ruleId: IMPORTS,
    message: /Node built-ins/,
  },
  {
    name: "import from node:fs/promises",
    code: `import { readFile } from "node:fs/promises";\nexport const r = readFile;`,
    ruleId: IMPORTS,
    message: /Node built-ins/,
  },
  {
    name: "import = require('fs')",
    code: `import fs = require("fs");\nexport const r = fs;`,
    ruleId: IMPORTS,
    message: /Node built-ins/,
  },
  {
    name: "import from @azure/storage-blob",
    code: `import { BlobServiceClient } from "@azure/storage-blob";\nexport const c = BlobServiceClient;`,
    ruleId: IMPORTS,
    message: /Azure SDK/,
  },
  {
    name: "import from @azure/functions",
    code: `import { app } from "@azure/functions";\nexport const a = app;`,
    ruleId: IMPORTS,
    message: /Azure SDK/,
  },
  {
    name: "value import from ../lib/evidence/blobStore",
    code: `import { BlobStore } from "../lib/evidence/blobStore";\nexport const s = BlobStore;`,
    ruleId: IMPORTS,
    message: /import type/,
  },
  {
    name: "value import from ../lib/evidence (index)",
    code: `import { BlobStore } from "../lib/evidence";\nexport const s = BlobStore;`,
    ruleId: IMPORTS,
    message: /import type/,
  },
  {
    name: "value import from ../lib/azure/storageClients",
    code: `import { makeClients } from "../lib/azure/storageClients";\nexport const m = makeClients;`,
    ruleId: IMPORTS,
    message: /import type/,
  },
  {
    name: "value import from ../functions/activities/x",
    code: `import { run } from "../functions/activities/x";\nexport const r = run;`,
    ruleId: IMPORTS,
    message: /import type/,
  },
  {
    name: "value import from ../local/azurite",
    code: `import { startAzurite } from "../local/azurite";\nexport const s = startAzurite;`,
    ruleId: IMPORTS,
    message: /import type/,
  },
  {
    name: "side-effect import of ../lib/azure/x",
    code: `import "../lib/azure/x";`,
    ruleId: IMPORTS,
    message: /import type/,
  },
  {
    name: "value re-export from ../lib/evidence/blobStore",
    code: `export { BlobStore } from "../lib/evidence/blobStore";`,
    ruleId: IMPORTS,
    message: /import type/,
  },
  {
    name: "Date.now()",
    code: `export const t = Date.now();`,
    ruleId: PROPERTIES,
    message: /context\.df\.currentUtcDateTime/,
  },
  {
    name: "new Date()",
    code: `export const t = new Date();`,
    ruleId: SYNTAX,
    message: /context\.df\.currentUtcDateTime/,
  },
  { name: "Date()", code: `export const t = Date();`, ruleId: SYNTAX, message: /context\.df\.currentUtcDateTime/ },
  { name: "Math.random()", code: `export const r = Math.random();`, ruleId: PROPERTIES, message: REPLAY },
  {
    name: "process.env.X (config rule)",
    code: `export const x = process.env.X;`,
    ruleId: PROPERTIES,
    message: CONFIG_MSG,
  },
  { name: "process.env.X (process global)", code: `export const x = process.env.X;`, ruleId: GLOBALS, message: REPLAY },
  {
    name: "setTimeout",
    code: `setTimeout(() => undefined, 10);`,
    ruleId: GLOBALS,
    message: /context\.df\.createTimer/,
  },
  {
    name: "setInterval",
    code: `setInterval(() => undefined, 10);`,
    ruleId: GLOBALS,
    message: /context\.df\.createTimer/,
  },
  {
    name: "setImmediate",
    code: `setImmediate(() => undefined);`,
    ruleId: GLOBALS,
    message: /context\.df\.createTimer/,
  },
  {
    name: "globalThis.setTimeout",
    code: `globalThis.setTimeout(() => undefined, 10);`,
    ruleId: PROPERTIES,
    message: /context\.df\.createTimer/,
  },
  { name: "crypto.randomUUID()", code: `export const id = crypto.randomUUID();`, ruleId: GLOBALS, message: /newGuid/ },
  { name: "Buffer", code: `export const b = Buffer.from("x");`, ruleId: GLOBALS, message: REPLAY },
  {
    name: "fetch",
    code: `export const p = fetch("https://example.invalid");`,
    ruleId: GLOBALS,
    message: /callActivity/,
  },
  { name: "require()", code: `export const m: unknown = require("fs");`, ruleId: GLOBALS, message: REPLAY },
  {
    name: "performance.now()",
    code: `export const t = performance.now();`,
    ruleId: GLOBALS,
    message: /context\.df\.currentUtcDateTime/,
  },
];

const probes: Probe[] = [
  ...VIOLATIONS.map(({ code }) => ({ filePath: ORCH, code })),
  { filePath: ORCH, code: CLEAN_ORCHESTRATOR },
  { filePath: EVIDENCE, code: `export const x = process.env.X;` },
  { filePath: EVIDENCE, code: `const { env } = process;\nexport const x = env.X;` },
  { filePath: EVIDENCE, code: `import { env } from "node:process";\nexport const x = env.X;` },
  { filePath: FUNCTIONS, code: `export const x = process.env.X;` },
  { filePath: CONFIG, code: `export const x = process.env.X;` },
];
let results: ProbeResult[] = [];

function resultFor(index: number): ProbeResult {
  const result = results[index];
  if (!result) throw new Error(`no lint result for probe ${index}`);
  // A parse error would make every "no errors" assertion vacuous.
  expect(result.messages.filter((m) => m.fatal || m.ruleId === null)).toEqual([]);
  return result;
}
const purityErrors = (r: ProbeResult): LintMessage[] =>
  r.messages.filter((m) => m.severity === 2 && m.ruleId !== null && PURITY_RULES.has(m.ruleId));

beforeAll(async () => {
  results = await lint(probes);
  expect(results).toHaveLength(probes.length);
}, 60_000);

describe("orchestrator purity rules (orchestrators/**)", () => {
  test.each(VIOLATIONS.map((v, i) => [v.name, i, v] as const))("%s is an error", (_name, index, v) => {
    const hits = resultFor(index).messages.filter((m) => m.ruleId === v.ruleId);
    expect(hits).toContainEqual(
      expect.objectContaining({ ruleId: v.ruleId, severity: 2, message: expect.stringMatching(v.message) as unknown }),
    );
    for (const hit of hits) expect(hit.message.length).toBeGreaterThan(20);
  });

  test("clean orchestrator (durable-functions, type-only imports, new Date(currentUtcDateTime)) has no purity errors", () => {
    const result = resultFor(VIOLATIONS.length);
    expect(purityErrors(result)).toEqual([]);
  });
});

describe("process.env outside lib/config", () => {
  const base = VIOLATIONS.length + 1;

  test("process.env in lib/evidence is an error", () => {
    expect(resultFor(base).messages).toContainEqual(
      expect.objectContaining({
        ruleId: PROPERTIES,
        severity: 2,
        message: expect.stringContaining(CONFIG_MSG) as unknown,
      }),
    );
  });

  test("destructuring env from process in lib/evidence is an error", () => {
    expect(resultFor(base + 1).messages).toContainEqual(
      expect.objectContaining({
        ruleId: PROPERTIES,
        severity: 2,
        message: expect.stringContaining(CONFIG_MSG) as unknown,
      }),
    );
  });

  test('import { env } from "node:process" in lib/evidence is an error', () => {
    expect(resultFor(base + 2).messages).toContainEqual(
      expect.objectContaining({
        ruleId: IMPORTS,
        severity: 2,
        message: expect.stringContaining(CONFIG_MSG) as unknown,
      }),
    );
  });

  test("process.env in functions is an error", () => {
    expect(resultFor(base + 3).messages).toContainEqual(
      expect.objectContaining({
        ruleId: PROPERTIES,
        severity: 2,
        message: expect.stringContaining(CONFIG_MSG) as unknown,
      }),
    );
  });

  test("process.env in lib/config is allowed", () => {
    expect(purityErrors(resultFor(base + 4))).toEqual([]);
  });
});
