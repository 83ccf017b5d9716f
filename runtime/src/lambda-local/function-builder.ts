import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import type { BuildCache } from "./build-cache";
import { assertValidFunctionName } from "./function-name";

/** What to bundle: the function's name and its handler entry file (TypeScript or JavaScript). */
export interface BuildFunctionOptions {
  readonly name: string;
  readonly entry: string;
  /**
   * Root for bundles; each build lands in `<outDir>/<name>/<hash prefix>/index.js`. Keep it inside the
   * project: the external `@aws-sdk/*` packages resolve from the node_modules above it.
   */
  readonly outDir: string;
  /** Set: an unchanged function is not built again (build-cache.ts); its previous bundle is returned. */
  readonly cache?: BuildCache;
}

/** A bundle ready to publish. `codeSha256` is base64 SHA-256 of the file, as Lambda's CodeSha256. */
export interface BuiltFunction {
  readonly name: string;
  readonly bundlePath: string;
  readonly codeSha256: string;
  /** True when the bundle came from the cache: no input changed since the last build. */
  readonly cached?: boolean;
}

/**
 * Bundles a handler exactly as it is deployed: one CommonJS file for Node 20, not minified, an inline
 * source map, and `@aws-sdk/*` left external because the Lambda Node.js runtime provides SDK v3 (and
 * locally it resolves from node_modules). Like CDK's NodejsFunction, names are not force-kept:
 * `keepNames` wraps every closure the code creates in a defineProperty call (measured at 6% of a
 * handler's CPU); without minification only a name clash between bundled modules renames a symbol.
 *
 * The output path is content-addressed, so rebuilding a changed handler never overwrites the file of
 * a version already published: in-flight invocations of the old version keep loading their own code.
 *
 * @example
 * const built = await buildFunction({ name: "checkout", entry: "handlers/src/checkout/handler.ts", outDir: ".capstan/build" });
 * registry.publish(built.name, built, { timeoutSeconds: 30 }); // the endpoint now serves checkout:1
 */
export async function buildFunction(options: BuildFunctionOptions): Promise<BuiltFunction> {
  assertValidFunctionName(options.name);
  const previous = await options.cache?.lookup(options.name, options.entry);
  if (previous !== undefined) return { ...previous, cached: true };
  const result = await build({
    entryPoints: [options.entry],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    sourcemap: "inline",
    external: ["@aws-sdk/*"],
    write: false,
    logLevel: "silent",
    metafile: options.cache !== undefined,
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${options.entry}`);
  const hash = createHash("sha256").update(output.contents);
  const codeSha256 = hash.copy().digest("base64");
  const dir = join(options.outDir, options.name, hash.digest("hex").slice(0, 16));
  await mkdir(dir, { recursive: true });
  const bundlePath = join(dir, "index.js");
  await writeFile(bundlePath, output.contents);
  const built: BuiltFunction = { name: options.name, bundlePath, codeSha256 };
  if (options.cache !== undefined && result.metafile !== undefined) {
    // Metafile paths are relative to esbuild's working directory (the process's).
    const inputs = Object.keys(result.metafile.inputs).map((f) => resolve(f));
    await options.cache.store(options.name, options.entry, built, inputs);
  }
  return built;
}

/** Lambda's CodeSha256 of a file: base64 SHA-256 of its bytes. */
export async function codeSha256Of(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("base64");
}
