/**
 * Where a worker thread's code comes from. The compiled build starts `<entry>.js` beside the caller.
 * When the TypeScript sources run directly (jest, scripts) there is no .js to start a thread from, so
 * the entry is bundled once, in memory, with esbuild; `external` packages stay out of the bundle
 * (native addons, big SDKs) and `require` is rebound to the entry's location, as an eval'd worker would
 * otherwise resolve modules from the process's working directory.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";

/** What `new Worker(...)` needs. */
export interface ThreadScript {
  readonly filename: string;
  /** True when `filename` is source code rather than a path. */
  readonly eval: boolean;
}

const cache = new Map<string, ThreadScript>();

/**
 * @example
 * const script = threadScript(__dirname, "sqlite-log-writer-entry", ["better-sqlite3"]);
 * new Worker(script.filename, { eval: script.eval, workerData });
 */
export function threadScript(dir: string, entryName: string, external: readonly string[]): ThreadScript {
  const compiled = join(dir, `${entryName}.js`);
  const cached = cache.get(compiled);
  if (cached !== undefined) return cached;
  let script: ThreadScript;
  if (existsSync(compiled)) {
    script = { filename: compiled, eval: false };
  } else {
    const entry = join(dir, `${entryName}.ts`);
    const result = buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      target: "node20",
      format: "cjs",
      external: [...external],
      write: false,
      logLevel: "silent",
    });
    const code = result.outputFiles[0]?.text;
    if (code === undefined) throw new Error(`could not bundle ${entry}`);
    script = {
      filename: `(function (require) {\n${code}\n})(require("node:module").createRequire(${JSON.stringify(entry)}));`,
      eval: true,
    };
  }
  cache.set(compiled, script);
  return script;
}
