import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";

/**
 * `@middy/core` is ESM-only and jest runs CommonJS: this loads the real package source transformed to
 * CommonJS by esbuild (it imports only node builtins), for `jest.mock("@middy/core", ...)`. The
 * deployed bundle needs none of this: esbuild bundles the ESM package directly.
 *
 * @example
 * jest.mock("@middy/core", () => jest.requireActual("../shared/test-support/load-middy").loadMiddyModule());
 */
export function loadMiddyModule(): unknown {
  const file = require.resolve("@middy/core");
  const { code } = transformSync(readFileSync(file, "utf8"), {
    format: "cjs",
    platform: "node",
    target: "node20",
  });
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating the transformed package source
  new Function("module", "exports", "require", code)(mod, mod.exports, require);
  return mod.exports;
}
