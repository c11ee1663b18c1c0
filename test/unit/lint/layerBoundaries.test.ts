import { GLOBALS, IMPORTS, PROPERTIES, SYNTAX, errorsFrom, expectError, lintBeforeAll, type Probe } from "./lintProbes";

// Proves the layer rules in eslint.config.mjs fire, and stay quiet on allowed imports, by linting in-memory probe
// files with the project's real config (./lintProbes.ts says how):
//   - lib/domain is pure: no Node built-ins, no @azure/*, nothing from the I/O folders, functions/, orchestrators/ or
//     local/, no process, Date.now, Math.random or new Date();
//   - production code (functions/, orchestrators/, lib/, scripts/) never imports local/;
//   - lib/schemas imports nothing from lib/domain but the exit-code table, a leaf.

const DOMAIN = "lib/domain/exitCode/__probe__.ts";
const DOMAIN_TOP = "lib/domain/__probe__.ts";

const FOLDERS = "patchpilot/no-import-from-folders";
const LAYER_RULES = new Set([IMPORTS, "no-restricted-imports", FOLDERS, GLOBALS, PROPERTIES, SYNTAX]);

const PURE = /lib\/domain is pure logic/;
const LOCAL = /never imports local\//;

interface Violation {
  name: string;
  filePath: string;
  code: string;
  ruleId: string;
  message: RegExp;
}

const DOMAIN_VIOLATIONS: Violation[] = [
  [
    "import from node:fs",
    `import { readFileSync } from "node:fs";\nexport const r = readFileSync;`,
    IMPORTS,
    /Node built-ins/,
  ],
  ["type import from fs (bare)", `import type { Stats } from "fs";\nexport type S = Stats;`, IMPORTS, /Node built-ins/],
  ["import from node:crypto", `import { randomUUID } from "node:crypto";\nexport const r = randomUUID;`, IMPORTS, PURE],
  [
    "import from @azure/storage-blob",
    `import { BlobClient } from "@azure/storage-blob";\nexport const c = BlobClient;`,
    IMPORTS,
    /Azure SDK/,
  ],
  [
    "import from lib/evidence",
    `import { x } from "../../evidence/blobStore";\nexport const y = x;`,
    FOLDERS,
    /lib\/evidence\//,
  ],
  ["re-export of lib/evidence (index)", `export * from "../../evidence";`, FOLDERS, /lib\/evidence\//],
  [
    "type import from lib/azure",
    `import type { X } from "../../azure/runCommand/client";\nexport type Y = X;`,
    FOLDERS,
    /lib\/azure\//,
  ],
  ["import from lib/api", `import { x } from "../../api/auth";\nexport const y = x;`, FOLDERS, /lib\/api\//],
  [
    "import from lib/export",
    `import { x } from "../../export/buildPackage";\nexport const y = x;`,
    FOLDERS,
    /lib\/export\//,
  ],
  [
    "import from lib/locks",
    `import { x } from "../../locks/deviceLock";\nexport const y = x;`,
    FOLDERS,
    /lib\/locks\//,
  ],
  [
    "import from lib/policy",
    `import { x } from "../../policy/policyStore";\nexport const y = x;`,
    FOLDERS,
    /lib\/policy\//,
  ],
  ["dynamic import of lib/locks", `export const m = import("../../locks/deviceLock");`, FOLDERS, /lib\/locks\//],
  ["require of lib/azure", `export const m: unknown = require("../../azure/x");`, FOLDERS, /lib\/azure\//],
  [
    "import from functions/",
    `import { x } from "../../../functions/activities/x";\nexport const y = x;`,
    FOLDERS,
    /functions\//,
  ],
  [
    "import from orchestrators/",
    `import { x } from "../../../orchestrators/devicePatchRun";\nexport const y = x;`,
    FOLDERS,
    /orchestrators\//,
  ],
  ["import from local/", `import { x } from "../../../local/azurite";\nexport const y = x;`, FOLDERS, /local\//],
  ["process.env.X", `export const x = process.env.X;`, PROPERTIES, /lib\/config/],
  ["process.platform", `export const p = process.platform;`, GLOBALS, PURE],
  ["Date.now()", `export const t = Date.now();`, PROPERTIES, /take the time as an argument/],
  ["new Date()", `export const t = new Date();`, SYNTAX, /wall clock/],
  ["Math.random()", `export const r = Math.random();`, PROPERTIES, PURE],
  ["fetch", `export const p = fetch("https://example.invalid");`, GLOBALS, PURE],
].map(([name, code, ruleId, message]) => ({
  name: name as string,
  filePath: DOMAIN,
  code: code as string,
  ruleId: ruleId as string,
  message: message as RegExp,
}));

const LOCAL_VIOLATIONS: Violation[] = [
  ["functions/ imports local/", "functions/__probe__.ts", `import { x } from "../local/azurite";\nexport const y = x;`],
  [
    "functions/http imports local/",
    "functions/http/__probe__.ts",
    `import { x } from "../../local/cli";\nexport const y = x;`,
  ],
  [
    "orchestrators/ type-imports local/",
    "orchestrators/__probe__.ts",
    `import type { X } from "../local/fleet/x";\nexport type Y = X;`,
  ],
  [
    "lib/evidence type-imports local/",
    "lib/evidence/__probe__.ts",
    `import type { X } from "../../local/durable/x";\nexport type Y = X;`,
  ],
  ["lib/azure re-exports local/", "lib/azure/__probe__.ts", `export { x } from "../../local/fleet/x";`],
  [
    "lib/ import = require(local/)",
    "lib/azure/__probe__.ts",
    `import x = require("../../local/x");\nexport const y = x;`,
  ],
  ["scripts/ imports local/", "scripts/__probe__.ts", `import { x } from "../local/cli";\nexport const y = x;`],
].map(([name, filePath, code]) => ({
  name: name as string,
  filePath: filePath as string,
  code: code as string,
  ruleId: FOLDERS,
  message: LOCAL,
}));

const SCHEMA_VIOLATIONS: Violation[] = [
  [
    "lib/schemas imports lib/domain",
    "lib/schemas/__probe__.ts",
    `import { isKnownTimeZone } from "../domain/window/zonedTime";\nexport const k = isKnownTimeZone;`,
  ],
  [
    "lib/schemas/artifacts imports lib/domain/exitCode/decideExitCode",
    "lib/schemas/artifacts/__probe__.ts",
    `import { EXIT_CODE_PRIORITY } from "../../domain/exitCode/decideExitCode";\nexport const p = EXIT_CODE_PRIORITY;`,
  ],
].map(([name, filePath, code]) => ({
  name: name as string,
  filePath: filePath as string,
  code: code as string,
  ruleId: FOLDERS,
  message: /must not depend on domain logic/,
}));

/** Probes that must raise no layer error: each allowed neighbour of a forbidden import. */
const CLEAN: Array<{ name: string; filePath: string; code: string }> = [
  {
    name: "lib/domain: zod, lib/schemas, other lib/domain folders (lib/domain/policy is not lib/policy), new Date(x)",
    filePath: DOMAIN,
    code: `
import { z } from "zod";
import type { RunRef } from "../../schemas/common";
import { overlay } from "../policy/overlay";
import { ARTIFACTS } from "../artifacts";
export type R = RunRef;
export const s = z.string();
export const o = overlay;
export const a = ARTIFACTS;
export const t = new Date(Date.UTC(2026, 0, 1)).toISOString();
`,
  },
  {
    name: "lib/domain/__probe__.ts: ./policy/overlay is lib/domain/policy",
    filePath: DOMAIN_TOP,
    code: `import { overlay } from "./policy/overlay";\nexport const o = overlay;`,
  },
  {
    name: "lib/: a sibling whose name starts with local (lib/localStore is not local/)",
    filePath: "lib/evidence/__probe__.ts",
    code: `import { x } from "../localStore";\nimport { y } from "./local";\nexport const z = [x, y];`,
  },
  {
    name: "lib/schemas imports the exit-code table (a leaf) and other schemas",
    filePath: "lib/schemas/artifacts/__probe__.ts",
    code: `import { EXIT_CODE_TABLE } from "../../domain/exitCode/exitCodeTable";\nimport { RunRefSchema } from "../common";\nexport const t = [EXIT_CODE_TABLE, RunRefSchema];`,
  },
  {
    name: "local/ imports lib/ and itself",
    filePath: "local/__probe__.ts",
    code: `import { x } from "../lib/evidence/blobStore";\nimport { y } from "./azurite";\nexport const z = [x, y];`,
  },
  {
    name: "tests import local/",
    filePath: "test/unit/__probe__.test.ts",
    code: `import { x } from "../../local/azurite";\nexport const y = x;`,
  },
];

const probes: Probe[] = [...DOMAIN_VIOLATIONS, ...LOCAL_VIOLATIONS, ...SCHEMA_VIOLATIONS, ...CLEAN].map(
  ({ filePath, code }) => ({
    filePath,
    code,
  }),
);
const resultFor = lintBeforeAll(probes);

const expectViolation = (index: number, v: Violation): void => expectError(resultFor(index), v);

describe("lib/domain stays pure (lib/domain/**)", () => {
  test.each(DOMAIN_VIOLATIONS.map((v, i) => [v.name, i, v] as const))("%s is an error", (_name, index, v) =>
    expectViolation(index, v),
  );
});

describe("production code never imports local/", () => {
  const base = DOMAIN_VIOLATIONS.length;
  test.each(LOCAL_VIOLATIONS.map((v, i) => [v.name, base + i, v] as const))("%s is an error", (_name, index, v) =>
    expectViolation(index, v),
  );
});

describe("lib/schemas does not depend on domain logic", () => {
  const base = DOMAIN_VIOLATIONS.length + LOCAL_VIOLATIONS.length;
  test.each(SCHEMA_VIOLATIONS.map((v, i) => [v.name, base + i, v] as const))("%s is an error", (_name, index, v) =>
    expectViolation(index, v),
  );
});

describe("allowed imports raise no layer error", () => {
  const base = DOMAIN_VIOLATIONS.length + LOCAL_VIOLATIONS.length + SCHEMA_VIOLATIONS.length;
  test.each(CLEAN.map((c, i) => [c.name, base + i] as const))("%s", (_name, index) => {
    expect(errorsFrom(resultFor(index), LAYER_RULES)).toEqual([]);
  });
});
