/** Jest projects: unit tests beside the code, cross-package suites under test/. */
const transform = { "^.+\\.(t|j)sx?$": ["@swc/jest", { jsc: { target: "es2022", keepClassNames: true } }] };
const moduleNameMapper = {
  "^@capstan/sdk$": "<rootDir>/sdk/src/index.ts",
  "^@capstan/sdk/(.*)$": "<rootDir>/sdk/src/$1/index.ts",
  "^@capstan/runtime$": "<rootDir>/runtime/src/index.ts",
  "^@capstan/runtime/(.*)$": "<rootDir>/runtime/src/$1/index.ts",
};
const common = { transform, moduleNameMapper, testEnvironment: "node", rootDir: __dirname };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: [
        "<rootDir>/{sdk,runtime,infra,handlers}/src/**/*.test.ts",
        "<rootDir>/runtime/create-capstan/src/**/*.test.ts",
      ],
    },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts", "<rootDir>/test/chaos/**/*.test.ts"],
    },
    {
      // Seeded simulation of the runtime: in-memory stores, a manual clock, crashes (test/README.md).
      ...common,
      displayName: "simulation",
      testMatch: ["<rootDir>/test/simulation/**/*.test.ts"],
    },
    {
      // `npm start` as a user runs it: the compiled runtime in a child process.
      ...common,
      displayName: "e2e",
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      globalSetup: "<rootDir>/test/e2e/support/build.ts",
    },
  ],
};
