/** Tests run TypeScript through SWC (types are checked by `npm run typecheck`). */
module.exports = {
  testEnvironment: "node",
  testMatch: ["<rootDir>/src/**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", keepClassNames: true } }] },
};
