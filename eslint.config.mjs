// @ts-check
// Flat ESLint config. Type-aware (typescript-eslint projectService over tsconfig.json) for all *.ts.
//
// Layering of restrictions (flat config *replaces* a rule's options when a later block sets the same
// rule, so the orchestrator block re-states the process.env rules instead of relying on merging):
//   - everywhere:                 floating/misused promises are errors
//   - functions/, orchestrators/, lib/ (not lib/config/): no process.env — config is parsed once
//   - orchestrators/:             no Node built-ins, no @azure/*, value imports only from pure code,
//                                 no clock / randomness / timers / I/O globals (replay determinism)
//   - lib/domain/:                pure logic: no Node built-ins, no @azure/*, nothing from the I/O folders
//                                 (lib/evidence, lib/azure, lib/api, lib/export, lib/locks, lib/policy),
//                                 functions/, orchestrators/ or local/; no process, Date.now, Math.random, new Date()
//   - functions/, orchestrators/, lib/, scripts/: nothing from local/ (the stand-ins never ship)
//   - lib/schemas/:               nothing from lib/domain but the exit-code table (a leaf)
//   - test/:                      no-unsafe-* off
import { builtinModules } from "node:module";
import path from "node:path";
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

const TS_FILES = ["**/*.ts"];
const ORCHESTRATOR_FILES = ["orchestrators/**/*.ts"];

// ---------------------------------------------------------------------------------------------
// process.env: only lib/config may read it.
// ---------------------------------------------------------------------------------------------
const CONFIG_MSG = "config is parsed once in lib/config and passed in";

/** no-restricted-properties entries shared by every non-config production folder. */
const processEnvProperties = [{ object: "process", property: "env", message: CONFIG_MSG }];

/** `import { env } from "node:process"` is the same thing as process.env. */
const processEnvImportPaths = ["process", "node:process"].map((name) => ({
  name,
  importNames: ["env"],
  message: CONFIG_MSG,
}));

// ---------------------------------------------------------------------------------------------
// Orchestrators: deterministic, replay-safe code only.
// ---------------------------------------------------------------------------------------------
const REPLAY = "orchestrators replay from history and must be deterministic";

// Every built-in, bare and `node:`-prefixed (plus the `node:`-only ones Node 20 leaves out of builtinModules).
const bareBuiltins = builtinModules.filter((m) => !m.startsWith("node:"));
const builtinNames = [
  ...new Set([
    ...bareBuiltins,
    ...bareBuiltins.map((m) => `node:${m}`),
    ...builtinModules.filter((m) => m.startsWith("node:")),
    "node:test",
    "node:test/reporters",
    "node:sea",
    "node:sqlite",
  ]),
];

const orchestratorImportRestrictions = {
  paths: builtinNames.map((name) => ({
    name,
    message: `${REPLAY}: Node built-ins do I/O or read the clock/environment; do it in an activity (functions/activities) and call it with context.df.callActivity.`,
  })),
  patterns: [
    {
      group: ["@azure/*", "@azure/**"],
      message: `${REPLAY}: Azure SDK calls are I/O; do them in an activity and call it with context.df.callActivity (durable-functions itself is allowed).`,
    },
    {
      group: [
        "**/lib/evidence",
        "**/lib/evidence/**",
        "**/lib/azure",
        "**/lib/azure/**",
        "**/functions",
        "**/functions/**",
        "**/local",
        "**/local/**",
      ],
      allowTypeImports: true,
      message: `${REPLAY}: storage, Azure, function and local modules are side-effecting; use \`import type\` for their types and call the work as an activity (context.df.callActivity).`,
    },
  ],
};

const CLOCK = `${REPLAY}: use context.df.currentUtcDateTime`;
const RANDOM = `${REPLAY}: use context.df.newGuid(name) for ids, or generate random values in an activity`;
const TIMER = `${REPLAY}: use context.df.createTimer(fireAt) for durable timers`;
const IO = `${REPLAY}: do I/O in an activity and call it with context.df.callActivity`;
const PROCESS = `${REPLAY}: process state differs between replays and hosts; ${CONFIG_MSG} (as orchestrator input)`;

/** Non-deterministic globals, with why. */
const orchestratorGlobals = [
  { name: "crypto", message: RANDOM },
  { name: "setTimeout", message: TIMER },
  { name: "setInterval", message: TIMER },
  { name: "setImmediate", message: TIMER },
  { name: "process", message: PROCESS },
  {
    name: "Buffer",
    message: `${REPLAY}: Buffer is a Node built-in; keep orchestrator state JSON-serialisable and move byte handling into an activity`,
  },
  { name: "fetch", message: IO },
  {
    name: "require",
    message: `${REPLAY}: dynamic require bypasses the import restrictions; use a static import of deterministic code`,
  },
  { name: "performance", message: CLOCK },
];

const orchestratorProperties = [
  ...processEnvProperties,
  { object: "Date", property: "now", message: CLOCK },
  { object: "Math", property: "random", message: RANDOM },
  // The same globals reached through the global object.
  ...["globalThis", "global"].flatMap((object) =>
    orchestratorGlobals.map(({ name, message }) => ({ object, property: name, message })),
  ),
];

const orchestratorSyntax = [
  {
    selector: "NewExpression[callee.type='Identifier'][callee.name='Date'][arguments.length=0]",
    message: `${CLOCK} (new Date() reads the wall clock; new Date(context.df.currentUtcDateTime) is fine)`,
  },
  {
    selector: "CallExpression[callee.type='Identifier'][callee.name='Date']",
    message: `${CLOCK} (Date() reads the wall clock)`,
  },
];

// ---------------------------------------------------------------------------------------------
// Import boundaries between folders, by the file an import resolves to. A pattern over the import string cannot
// tell lib/policy from lib/domain/policy ("../policy/x" is either, depending on where the importer sits), so this
// rule resolves relative specifiers against the importing file and compares repository paths.
// ---------------------------------------------------------------------------------------------

/** Repository-relative folder of a relative import specifier, or undefined for a package import. */
function resolveSpecifier(filename, cwd, specifier) {
  if (!specifier.startsWith(".")) return undefined;
  return path
    .relative(cwd, path.resolve(path.dirname(filename), specifier))
    .split(path.sep)
    .join("/");
}

/** @type {import("eslint").Rule.RuleModule} */
const noImportFromFolders = {
  meta: {
    type: "problem",
    docs: { description: "forbid imports that resolve into the named folders" },
    schema: [
      {
        type: "object",
        properties: {
          folders: {
            type: "array",
            items: {
              type: "object",
              properties: {
                folder: { type: "string" },
                message: { type: "string" },
                /** Files inside the folder that may be imported (repository paths without extension). */
                except: { type: "array", items: { type: "string" } },
              },
              required: ["folder", "message"],
              additionalProperties: false,
            },
          },
        },
        required: ["folders"],
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const { folders } = /** @type {{ folders: { folder: string; message: string; except?: string[] }[] }} */ (
      context.options[0]
    );
    const check = (/** @type {any} */ source) => {
      if (source?.type !== "Literal" || typeof source.value !== "string") return;
      const target = resolveSpecifier(context.filename, context.cwd, source.value);
      if (target === undefined) return;
      const file = target.replace(/\.(ts|js|mjs|cjs)$/, "");
      const hit = folders.find(
        ({ folder, except = [] }) => (target === folder || target.startsWith(`${folder}/`)) && !except.includes(file),
      );
      if (hit) context.report({ node: source, message: `${source.value} is in ${hit.folder}/: ${hit.message}` });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      "TSImportEqualsDeclaration > TSExternalModuleReference": (/** @type {any} */ node) => check(node.expression),
      "CallExpression[callee.type='Identifier'][callee.name='require']": (node) => check(node.arguments[0]),
    };
  },
};

const boundaries = { plugins: { patchpilot: { rules: { "no-import-from-folders": noImportFromFolders } } } };

// ---------------------------------------------------------------------------------------------
// lib/domain: pure logic. Same input, same output; orchestrators call it during replay.
// ---------------------------------------------------------------------------------------------
const PURE = "lib/domain is pure logic (orchestrators call it during replay)";
const DOMAIN_IO = `${PURE}: do the I/O in an activity or a lib/ module above it and pass the result in`;

const domainImportRestrictions = {
  paths: [
    ...processEnvImportPaths,
    ...builtinNames.map((name) => ({
      name,
      message: `${PURE}: Node built-ins do I/O or read the clock/environment; take the data as an argument.`,
    })),
  ],
  patterns: [{ group: ["@azure/*", "@azure/**"], message: `${PURE}: Azure SDK calls are I/O.` }],
};

const domainForbiddenFolders = [
  ...["lib/evidence", "lib/azure", "lib/api", "lib/export", "lib/locks", "lib/policy"].map((folder) => ({
    folder,
    message: `${DOMAIN_IO} (type imports included: lib/domain is the bottom layer).`,
  })),
  { folder: "functions", message: `${DOMAIN_IO}; functions/ is the thin layer on top.` },
  { folder: "orchestrators", message: `${DOMAIN_IO}; orchestrators call lib/domain, not the other way round.` },
  { folder: "local", message: `${DOMAIN_IO}; local/ holds the stand-ins for Azure and never ships.` },
];

const domainProperties = [
  ...processEnvProperties,
  { object: "Date", property: "now", message: `${PURE}: take the time as an argument` },
  { object: "Math", property: "random", message: `${PURE}: take random values (or ids) as arguments` },
];

const domainGlobals = [
  { name: "process", message: `${PURE}: process state differs between hosts; ${CONFIG_MSG}` },
  { name: "fetch", message: DOMAIN_IO },
  { name: "setTimeout", message: `${PURE}: no timers` },
  { name: "setInterval", message: `${PURE}: no timers` },
];

const domainSyntax = [
  {
    selector: "NewExpression[callee.type='Identifier'][callee.name='Date'][arguments.length=0]",
    message: `${PURE}: new Date() reads the wall clock; take the time as an argument`,
  },
];

// ---------------------------------------------------------------------------------------------
// lib/schemas: the shapes at every boundary; they must not depend on domain logic (lib/domain imports them). The
// exit-code table is a leaf (no imports) that both read.
// ---------------------------------------------------------------------------------------------
const schemasForbiddenFolders = [
  {
    folder: "lib/domain",
    except: ["lib/domain/exitCode/exitCodeTable"],
    message:
      "lib/schemas must not depend on domain logic (lib/domain imports lib/schemas); move what both need into lib/schemas or a leaf module",
  },
];

// ---------------------------------------------------------------------------------------------
// Production code never imports local/ (DESIGN.md: nothing under local/ is imported by functions/, orchestrators/
// or lib/). scripts/ runs at build and export time, so it is held to the same rule.
// ---------------------------------------------------------------------------------------------
const LOCAL_MSG =
  "production code (functions/, orchestrators/, lib/, scripts/) never imports local/, which holds the stand-ins for Azure and never ships; move what both need into lib/";

export default defineConfig(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "coverage/**",
      "docs/**",
      "test/fixtures/**",
      // Root-level JS config files (eslint.config.mjs, jest.config.js, ...): not in the TS project.
      "*.js",
      "*.mjs",
      "*.cjs",
    ],
  },

  // Base: @eslint/js + typescript-eslint type-checked, for TypeScript.
  {
    files: TS_FILES,
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
    },
  },

  // process.env is read only in lib/config.
  {
    files: ["functions/**/*.ts", "orchestrators/**/*.ts", "lib/**/*.ts"],
    ignores: ["lib/config/**"],
    rules: {
      "no-restricted-properties": ["error", ...processEnvProperties],
      "@typescript-eslint/no-restricted-imports": ["error", { paths: processEnvImportPaths }],
    },
  },

  // Orchestrators: replay-safe only. Restates the process.env rules (options are replaced, not merged).
  {
    files: ORCHESTRATOR_FILES,
    rules: {
      "no-restricted-imports": "off",
      "@typescript-eslint/no-restricted-imports": ["error", orchestratorImportRestrictions],
      "no-restricted-globals": ["error", ...orchestratorGlobals],
      "no-restricted-properties": ["error", ...orchestratorProperties],
      "no-restricted-syntax": ["error", ...orchestratorSyntax],
    },
  },

  // Production code never imports local/.
  {
    files: ["functions/**/*.ts", "orchestrators/**/*.ts", "lib/**/*.ts", "scripts/**/*.ts"],
    ignores: ["lib/domain/**"],
    ...boundaries,
    rules: { "patchpilot/no-import-from-folders": ["error", { folders: [{ folder: "local", message: LOCAL_MSG }] }] },
  },

  // lib/schemas: no domain logic. Restates the local/ rule (options are replaced, not merged).
  {
    files: ["lib/schemas/**/*.ts"],
    ...boundaries,
    rules: {
      "patchpilot/no-import-from-folders": [
        "error",
        { folders: [{ folder: "local", message: LOCAL_MSG }, ...schemasForbiddenFolders] },
      ],
    },
  },

  // lib/domain: pure. Restates the process.env rules (options are replaced, not merged).
  {
    files: ["lib/domain/**/*.ts"],
    ...boundaries,
    rules: {
      "no-restricted-imports": "off",
      "@typescript-eslint/no-restricted-imports": ["error", domainImportRestrictions],
      "patchpilot/no-import-from-folders": ["error", { folders: domainForbiddenFolders }],
      "no-restricted-globals": ["error", ...domainGlobals],
      "no-restricted-properties": ["error", ...domainProperties],
      "no-restricted-syntax": ["error", ...domainSyntax],
    },
  },

  // Tests: `any` flows freely from mocks/JSON/expect; promises must still be awaited.
  {
    files: ["test/**/*.ts"],
    rules: {
      // Every @typescript-eslint/no-unsafe-* rule that recommendedTypeChecked turns on.
      ...Object.fromEntries(
        tseslint.configs.recommendedTypeChecked
          .flatMap((config) => Object.keys(config.rules ?? {}))
          .filter((name) => name.startsWith("@typescript-eslint/no-unsafe-"))
          .map((name) => [name, "off"]),
      ),
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
);
