/**
 * The repository's example functions as the app deploys them: each `handlers/src/<name>/` holding a
 * `handler.ts` is one function, with the timeout, memory and environment its optional
 * `function.json` gives (the same convention `capstan dev` follows locally). Only those three
 * settings matter on AWS; the runtime's own reader validates the file for `npm start`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface ExampleFunction {
  /** The directory name: stable, so it names the construct. */
  name: string;
  entry: string;
  timeoutSeconds?: number;
  memoryMb?: number;
  environment?: Record<string, string>;
}

/**
 * @example
 * exampleFunctions("handlers/src").map((f) => f.name); // ["cart", "checkout", ...]
 */
export function exampleFunctions(handlersDir: string): ExampleFunction[] {
  return readdirSync(handlersDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(handlersDir, d.name, "handler.ts")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = path.join(handlersDir, name);
      const fn: ExampleFunction = { name, entry: path.join(dir, "handler.ts") };
      const configFile = path.join(dir, "function.json");
      if (!existsSync(configFile)) return fn;
      const config = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
      if (typeof config.timeoutSeconds === "number") fn.timeoutSeconds = config.timeoutSeconds;
      if (typeof config.memoryMb === "number") fn.memoryMb = config.memoryMb;
      if (typeof config.environment === "object" && config.environment !== null) {
        fn.environment = config.environment as Record<string, string>;
      }
      return fn;
    });
}
