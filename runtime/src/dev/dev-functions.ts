/**
 * The functions half of `capstan dev`, the same for one node and for `--nodes N`: the local Lambda
 * endpoint, every function under the handlers dir built with esbuild exactly as it is deployed and
 * published there as a version, and each published version registered as a pinned deployment
 * (through whatever `register` the caller gives: the in-process runtime, or node 0's admin API).
 */
import path from "node:path";
import type { RuntimeConfig } from "../config/config";
import { BuildCache, buildFunction, discoverFunctions, startLocalLambdaProcess } from "../lambda-local";
import { withPortHint } from "../config/ports";
import type { Log } from "../log";
import type { HandlerLogSource } from "../telemetry/handler-logs";
import { mapLimit } from "./map-limit";
import { displayPath } from "./display-path";

/** The local Lambda endpoint's published versions, beside their bundles in the build dir. */
const VERSIONS_FILE = "versions.json";
/** esbuild runs this many functions' builds at once (it is itself multi-threaded per build). */
export const MAX_PARALLEL_BUILDS = 4;

export interface DevFunctions {
  lambdaUrl: string;
  /** What the functions printed for one Capstan invocation (the local endpoint's bounded buffer). */
  handlerLogs: HandlerLogSource;
  /**
   * Builds and publishes every function, each on its own (one that fails is reported, the others go
   * on); returns the names of the functions on disk, or undefined when a directory could not be read.
   */
  publishAll(): Promise<Set<string> | undefined>;
  /** How many versions the last `publishAll` published. */
  publishedCount(): number;
  /**
   * Registers every published version not registered yet; one whose registration fails (e.g. it
   * throws at load) is reported and tried again next time. Returns the `name:version`s registered
   * now, and the functions still not registered (failed builds included).
   */
  registerPublished(register: (qualified: string) => Promise<void>): Promise<{
    changed: string[];
    unregistered: string[];
  }>;
  /** Functions whose directory is gone: their deployments stay (invocations may be pinned to them). */
  noteRemoved(onDisk: Set<string>): void;
  close(): Promise<void>;
}

/**
 * Starts the local Lambda endpoint (publishing nothing yet). `identityPublicKey`: every function
 * accepts only requests the runtime signed with it.
 */
export async function startDevFunctions(
  config: RuntimeConfig,
  log: Log,
  identityPublicKey: string,
  progress: (line: string) => void,
): Promise<DevFunctions> {
  const buildDir = path.join(config.dataDir, "build");
  const lambda = await withPortHint({ CAPSTAN_LAMBDA_PORT: config.lambdaPort }, () =>
    startLocalLambdaProcess({
      host: config.host,
      port: config.lambdaPort,
      maxWorkers: config.lambdaMaxWorkers,
      maxQueued: config.lambdaMaxQueued,
      // Published versions outlive a restart: the runtime's invocations stay pinned to them.
      versionsFile: path.join(buildDir, VERSIONS_FILE),
      // Request identity end to end: every function accepts only what this runtime signed.
      baseEnvironment: { CAPSTAN_IDENTITY_PUBLIC_KEYS: identityPublicKey },
    }),
  );
  const problem = (what: string, e: unknown): void =>
    log(`${what}: ${(e as Error)?.message ?? String(e)} (the other functions are served)`, "error");
  /** Function name → `name:version` last published, for the functions on disk now that build. */
  let published = new Map<string, string>();
  /** Functions on disk that did not build or publish last time: they keep the node not ready. */
  let failed = new Set<string>();
  const registered = new Map<string, string>();
  const cache = new BuildCache();

  return {
    lambdaUrl: lambda.url,
    handlerLogs: lambda.handlerLogs,
    publishedCount: () => published.size,
    async publishAll() {
      const now = new Map<string, string>();
      const failures = new Set<string>();
      const unreadable: string[] = [];
      const functions = await discoverFunctions(config.handlersDir, (dir, e) => {
        unreadable.push(path.basename(dir));
        problem(displayPath(dir), e);
      });
      const startedMs = Date.now();
      let unchanged = 0;
      await mapLimit(functions, MAX_PARALLEL_BUILDS, async (fn) => {
        try {
          const built = await buildFunction({ name: fn.name, entry: fn.entry, outDir: buildDir, cache });
          if (built.cached) unchanged += 1;
          now.set(fn.name, `${fn.name}:${await lambda.publish(fn.name, built, fn.config)}`);
        } catch (e) {
          failures.add(fn.name);
          problem(fn.name, e);
        }
      });
      for (const name of unreadable) failures.add(name);
      progress(
        `built and published ${now.size}/${functions.length + unreadable.length} functions in ` +
          `${Date.now() - startedMs} ms` +
          (unchanged > 0 ? ` (${unchanged} unchanged)` : "") +
          (failures.size > 0 ? `; failed: ${[...failures].join(", ")}` : ""),
      );
      published = now;
      failed = failures;
      return unreadable.length > 0 ? undefined : new Set(functions.map((fn) => fn.name));
    },
    async registerPublished(register) {
      const changed: string[] = [];
      for (const [name, qualified] of published) {
        if (registered.get(name) === qualified) continue;
        try {
          await register(qualified);
        } catch (e) {
          problem(name, e);
          continue;
        }
        registered.set(name, qualified);
        changed.push(qualified);
      }
      const unregistered = [...failed, ...[...published.keys()].filter((n) => !registered.has(n))];
      return { changed, unregistered };
    },
    noteRemoved(onDisk) {
      for (const [name, qualified] of registered) {
        if (onDisk.has(name)) continue;
        registered.delete(name);
        log(
          `${name} is no longer under ${config.handlersDir}; its deployment ${qualified} still serves ` +
            `its services: \`npx capstan deployments remove <id>\` (ids: deployments list) retires it`,
          "warn",
        );
      }
    },
    close: () => lambda.close(),
  };
}
