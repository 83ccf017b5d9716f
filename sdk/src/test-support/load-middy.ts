import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";
import type middyType from "@middy/core";

/**
 * @middy/core 6 is ESM-only and jest runs CommonJS: load the real package source, transformed to CJS
 * by esbuild (it imports only node builtins).
 */
export function loadMiddy(): typeof middyType {
  const file = require.resolve("@middy/core");
  const { code } = transformSync(readFileSync(file, "utf8"), {
    format: "cjs",
    platform: "node",
    target: "node20",
  });
  const mod: { exports: { default?: typeof middyType } } = { exports: {} };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating the transformed package source
  new Function("module", "exports", "require", code)(mod, mod.exports, require);
  return mod.exports.default!;
}
