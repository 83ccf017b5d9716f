import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";

/** What `new Worker(...)` needs to start an execution environment. */
export interface WorkerScript {
  readonly filename: string;
  /** True when `filename` is source code rather than a path. */
  readonly eval: boolean;
}

let cached: WorkerScript | undefined;

/**
 * The compiled build runs `worker-entry.js` beside this file. When the TypeScript sources run
 * directly (jest, ts-node) there is no .js to start a thread from, so worker-entry.ts is bundled
 * once, in memory, with the same esbuild that builds functions.
 */
export function resolveWorkerScript(): WorkerScript {
  if (cached !== undefined) return cached;
  const compiled = join(__dirname, "worker-entry.js");
  if (existsSync(compiled)) {
    cached = { filename: compiled, eval: false };
    return cached;
  }
  const result = buildSync({
    entryPoints: [join(__dirname, "worker-entry.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error("could not bundle worker-entry.ts");
  cached = { filename: code, eval: true };
  return cached;
}
