// @ts-check
// Flat ESLint config. Type-aware (typescript-eslint projectService over tsconfig.json) for all *.ts.
//
// Layering of restrictions (flat config *replaces* a rule's options when a later block sets the same
// rule, so the orchestrator block re-states the process.env rules instead of relying on merging):
//   - everywhere:                 floating/misused promises are errors
//   - functions/, orchestrators/, lib/ (not lib/config/): no process.env — config is parsed once
//   - orchestrators/:             no Node built-ins, no @azure/*, value imports only from pure code,
//                                 no clock / randomness / timers / I/O globals (replay determinism)
//   - test/:                      no-unsafe-* off
import { builtinModules } from "node:module";
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
