import {
  GLOBALS,
  IMPORTS,
  PROPERTIES,
  SYNTAX,
  errorsFrom,
  expectError,
  lintBeforeAll,
  type ExpectedError,
  type Probe,
} from "./lintProbes";

// Proves the purity rules in eslint.config.mjs fire (and stay quiet on clean code) by linting in-memory
// probe files with the project's real config (./lintProbes.ts says how).

const ORCH = "orchestrators/__probe__.ts";
const EVIDENCE = "lib/evidence/__probe__.ts";
const CONFIG = "lib/config/__probe__.ts";
const FUNCTIONS = "functions/__probe__.ts";

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

/** Probes that must each trip the rule `ruleId` with a message matching `message`. */
const errorsOf = (ruleId: string, message: RegExp, cases: Array<[name: string, code: string]>) =>
  cases.map(([name, code]) => ({ name, code, ruleId, message }));

/** Orchestrator probes that must each trip exactly the named rule with a message matching `message`. */
const VIOLATIONS: Array<ExpectedError & { name: string; code: string }> = [
  ...errorsOf(IMPORTS, /Node built-ins/, [
    ["import from node:fs", `import { readFileSync } from "node:fs";\nexport const r = readFileSync;`],
    ["import from fs (bare)", `import fs from "fs";\nexport const r = fs;`],
    ["type import from node:fs", `import type { Stats } from "node:fs";\nexport type S = Stats;`],
    ["import from node:fs/promises", `import { readFile } from "node:fs/promises";\nexport const r = readFile;`],
    ["import = require('fs')", `import fs = require("fs");\nexport const r = fs;`],
  ]),
  ...errorsOf(IMPORTS, /Azure SDK/, [
    [
      "import from @azure/storage-blob",
      `import { BlobServiceClient } from "@azure/storage-blob";\nexport const c = BlobServiceClient;`,
    ],
    ["import from @azure/functions", `import { app } from "@azure/functions";\nexport const a = app;`],
  ]),
  ...errorsOf(IMPORTS, /import type/, [
    [
      "value import from ../lib/evidence/blobStore",
      `import { BlobStore } from "../lib/evidence/blobStore";\nexport const s = BlobStore;`,
    ],
    [
      "value import from ../lib/evidence (index)",
      `import { BlobStore } from "../lib/evidence";\nexport const s = BlobStore;`,
    ],
    [
      "value import from ../lib/azure/storageClients",
      `import { makeClients } from "../lib/azure/storageClients";\nexport const m = makeClients;`,
    ],
    [
      "value import from ../functions/activities/x",
      `import { run } from "../functions/activities/x";\nexport const r = run;`,
    ],
    [
      "value import from ../local/azurite",
      `import { startAzurite } from "../local/azurite";\nexport const s = startAzurite;`,
    ],
    ["side-effect import of ../lib/azure/x", `import "../lib/azure/x";`],
    ["value re-export from ../lib/evidence/blobStore", `export { BlobStore } from "../lib/evidence/blobStore";`],
  ]),
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
  ...errorsOf(GLOBALS, /context\.df\.createTimer/, [
    ["setTimeout", `setTimeout(() => undefined, 10);`],
    ["setInterval", `setInterval(() => undefined, 10);`],
    ["setImmediate", `setImmediate(() => undefined);`],
  ]),
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
const resultFor = lintBeforeAll(probes);

describe("orchestrator purity rules (orchestrators/**)", () => {
  test.each(VIOLATIONS.map((v, i) => [v.name, i, v] as const))("%s is an error", (_name, index, v) =>
    expectError(resultFor(index), v),
  );

  test("clean orchestrator (durable-functions, type-only imports, new Date(currentUtcDateTime)) has no purity errors", () => {
    const result = resultFor(VIOLATIONS.length);
    expect(errorsFrom(result, PURITY_RULES)).toEqual([]);
  });
});

describe("process.env outside lib/config", () => {
  const base = VIOLATIONS.length + 1;

  test.each([
    ["process.env in lib/evidence", base, PROPERTIES],
    ["destructuring env from process in lib/evidence", base + 1, PROPERTIES],
    ['import { env } from "node:process" in lib/evidence', base + 2, IMPORTS],
    ["process.env in functions", base + 3, PROPERTIES],
  ] as const)("%s is an error", (_name, index, ruleId) => {
    expect(resultFor(index).messages).toContainEqual(
      expect.objectContaining({
        ruleId,
        severity: 2,
        message: expect.stringContaining(CONFIG_MSG) as unknown,
      }),
    );
  });

  test("process.env in lib/config is allowed", () => {
    expect(errorsFrom(resultFor(base + 4), PURITY_RULES)).toEqual([]);
  });
});
