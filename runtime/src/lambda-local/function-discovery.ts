import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { assertValidFunctionName } from "./function-name";
import type { FunctionConfig } from "./function-registry";
import {
  DEFAULT_MEMORY_MB,
  DEFAULT_TIMEOUT_SECONDS,
  MAX_MEMORY_MB,
  MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY,
  MAX_TIMEOUT_SECONDS,
  MIN_MEMORY_MB,
} from "./lambda-limits";

/** The file a function directory must contain, exporting `handler`. */
export const HANDLER_FILE = "handler.ts";
/**
 * Optional settings beside it: `{ name?, timeoutSeconds?, memoryMb?, environment?,
 * perExecutionEnvironmentMaxConcurrency? }` (the last runs it as on Lambda Managed Instances).
 */
export const FUNCTION_CONFIG_FILE = "function.json";

/** A function found on disk, ready for `buildFunction` and `FunctionRegistry.publish`. */
export interface DiscoveredFunction {
  readonly name: string;
  readonly directory: string;
  readonly entry: string;
  readonly config: FunctionConfig;
}

const EXPORTS_HANDLER =
  /export\s+(?:const|let|var|function|async\s+function)\s+handler\b|export\s*\{[^}]*\bhandler\b[^}]*\}|export\s*\*/;

/**
 * Finds the functions under `handlersDir`: every directory `<handlersDir>/<dir>/` holding
 * `handler.ts` is one function, named after the directory unless `function.json` says otherwise.
 * Directories without `handler.ts` (shared code) are skipped. An invalid name or setting, or a
 * duplicate name, fails the whole discovery with a message naming the file — unless `onProblem` is
 * given: then that directory alone is reported to it and skipped (`capstan dev` serves the others).
 *
 * @example
 * // handlers/src/checkout/handler.ts + handlers/src/checkout/function.json {"timeoutSeconds": 60}
 * await discoverFunctions("handlers/src");
 * // → [{ name: "checkout", entry: ".../checkout/handler.ts", config: { timeoutSeconds: 60, memoryMb: 256, environment: {} } }]
 */
export async function discoverFunctions(
  handlersDir: string,
  onProblem?: (directory: string, problem: Error) => void,
): Promise<DiscoveredFunction[]> {
  const entries = await readdir(handlersDir, { withFileTypes: true });
  const found: DiscoveredFunction[] = [];
  const seen = new Map<string, string>();
  for (const dirent of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const directory = join(handlersDir, dirent.name);
    try {
      const fn = await discoverFunction(directory, dirent.name, seen);
      if (fn !== undefined) found.push(fn);
    } catch (e) {
      if (onProblem === undefined) throw e;
      onProblem(directory, e as Error);
    }
  }
  return found;
}

/** The function in `directory`, undefined when it has no handler.ts; `seen` maps names to directories. */
async function discoverFunction(
  directory: string,
  directoryName: string,
  seen: Map<string, string>,
): Promise<DiscoveredFunction | undefined> {
  const entry = join(directory, HANDLER_FILE);
  if (!(await isFile(entry))) return undefined;
  if (!EXPORTS_HANDLER.test(await readFile(entry, "utf8"))) {
    throw new Error(
      `${entry} must export \`handler\` (export const handler = async (event, context) => ...)`,
    );
  }
  const configPath = join(directory, FUNCTION_CONFIG_FILE);
  const raw = (await isFile(configPath)) ? parseJsonFile(configPath, await readFile(configPath, "utf8")) : {};
  const { name, config } = parseFunctionJson(raw, directoryName, configPath);
  const previous = seen.get(name);
  if (previous !== undefined)
    throw new Error(`Function name "${name}" is used by both ${previous} and ${directory}`);
  seen.set(name, directory);
  return { name, directory, entry, config };
}

/** Validates a `function.json` document; `source` names the file in error messages. */
export function parseFunctionJson(
  raw: unknown,
  directoryName: string,
  source: string,
): { name: string; config: FunctionConfig } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new Error(`${source}: expected a JSON object`);
  const doc = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(doc).filter(
    (k) =>
      ![
        "name",
        "timeoutSeconds",
        "memoryMb",
        "environment",
        "perExecutionEnvironmentMaxConcurrency",
      ].includes(k),
  );
  if (unknownKeys.length > 0) throw new Error(`${source}: unknown setting(s) ${unknownKeys.join(", ")}`);
  const name = doc.name ?? directoryName;
  if (typeof name !== "string") throw new Error(`${source}: "name" must be a string`);
  try {
    assertValidFunctionName(name);
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`, { cause: e });
  }
  const timeoutSeconds = integerIn(
    doc.timeoutSeconds,
    DEFAULT_TIMEOUT_SECONDS,
    1,
    MAX_TIMEOUT_SECONDS,
    "timeoutSeconds",
    source,
  );
  const memoryMb = integerIn(
    doc.memoryMb,
    DEFAULT_MEMORY_MB,
    MIN_MEMORY_MB,
    MAX_MEMORY_MB,
    "memoryMb",
    source,
  );
  const environment = doc.environment ?? {};
  if (
    typeof environment !== "object" ||
    environment === null ||
    Array.isArray(environment) ||
    !Object.values(environment).every((v) => typeof v === "string")
  ) {
    throw new Error(`${source}: "environment" must be an object of string values`);
  }
  const config: FunctionConfig = {
    timeoutSeconds,
    memoryMb,
    environment: environment as Record<string, string>,
  };
  if (doc.perExecutionEnvironmentMaxConcurrency === undefined) return { name, config };
  const perExecutionEnvironmentMaxConcurrency = integerIn(
    doc.perExecutionEnvironmentMaxConcurrency,
    1,
    1,
    MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY,
    "perExecutionEnvironmentMaxConcurrency",
    source,
  );
  return { name, config: { ...config, perExecutionEnvironmentMaxConcurrency } };
}

function integerIn(
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  key: string,
  source: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${source}: "${key}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

function parseJsonFile(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`, { cause: e });
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
