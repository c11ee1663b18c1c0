/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    // Type-checking is `npm run typecheck`; here we only transpile, which keeps the suite fast.
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  globalSetup: "<rootDir>/test/harness/globalSetup.ts",
  globalTeardown: "<rootDir>/test/harness/globalTeardown.ts",
  testTimeout: 60000,
  maxWorkers: 2,
};
