/**
 * `capstan dev` (what `npm start` runs): builds every function under handlers/ with esbuild exactly as
 * it is deployed, serves them from the local Lambda endpoint, starts the runtime with its embedded
 * store, registers each function as a pinned deployment (discovery through the local endpoint), and
 * re-registers a function as a new version when its code changes.
 */
import path from "node:path";
import type { ParsedArgs } from "../cli/args";
import {
  DEFAULT_ADMIN_PORT,
  DEFAULT_INGRESS_PORT,
  configFlags,
  loadConfig,
  type RuntimeConfig,
} from "../config/config";
import { HttpInvoker } from "../invoker/http-invoker";
import { LambdaInvoker } from "../invoker/lambda-invoker";
import { RoutingInvoker } from "../invoker/routing-invoker";
import { BuildCache, buildFunction, discoverFunctions, startLocalLambdaProcess } from "../lambda-local";
import { mapLimit } from "./map-limit";
import { assertPortsFree, withPortHint } from "../config/ports";
import { startRuntimeNodeFromConfig, type RuntimeNode } from "../node";
import { lockDataDir, type DataDirLock } from "../storage/data-dir-lock";
import { stopSignal } from "../cli/stop-signal";
import { watchTree, type TreeWatcher } from "./tree-watcher";
import { createLog, type Log } from "../log";
import { loadNodeCredentials } from "../security/node-credentials";

/** The local Lambda endpoint's published versions, beside their bundles in the build dir. */
const VERSIONS_FILE = "versions.json";
/** Changes that never need a rebuild: tests, editors' backup and swap files. */
const IGNORED_CHANGE = /(\.test\.ts|~|\.sw[px])$/;
/** Quiet period after a file change before rebuilding. */
const WATCH_DEBOUNCE_MS = 200;
/** esbuild runs this many functions' builds at once (it is itself multi-threaded per build). */
export const MAX_PARALLEL_BUILDS = 4;
/** The readiness gate `capstan dev` holds until every function on disk is registered. */
const FUNCTIONS_GATE = "functions";

export interface DevPlatform {
  node: RuntimeNode;
  lambdaUrl: string;
  /** Rebuilds every function and registers the changed ones; returns the `name:version` registered. */
  rebuild(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Starts the platform. `progress` hears each phase (building, publishing, registering) as it starts
 * and ends, so a first start is not a silent wait; `/health/ready` answers 200 once every function
 * on disk is registered.
 */
export async function startDevPlatform(
  config: RuntimeConfig,
  log: Log,
  progress: (line: string) => void = () => undefined,
): Promise<DevPlatform> {
  // Every port is checked before anything starts, so one message names all the busy ones.
  await assertPortsFree(config.host, {
    CAPSTAN_INGRESS_PORT: config.ingressPort,
    CAPSTAN_ADMIN_PORT: config.adminPort,
    CAPSTAN_CHECKPOINT_PORT: config.checkpointPort,
    CAPSTAN_LAMBDA_PORT: config.lambdaPort,
  });
  // Before anything is built or published into the directory another platform may be using.
  const lock = lockDataDir(config.dataDir);
  try {
    return await startOnLockedDataDir(config, log, lock, progress);
  } catch (e) {
    lock.release();
    throw e;
  }
}

async function startOnLockedDataDir(
  config: RuntimeConfig,
  log: Log,
  lock: DataDirLock,
  progress: (line: string) => void,
): Promise<DevPlatform> {
  const buildDir = path.join(config.dataDir, "build");
  const credentials = loadNodeCredentials(config.dataDir, config.secrets);
  const lambda = await withPortHint({ CAPSTAN_LAMBDA_PORT: config.lambdaPort }, () =>
    startLocalLambdaProcess({
      host: config.host,
      port: config.lambdaPort,
      maxWorkers: config.lambdaMaxWorkers,
      maxQueued: config.lambdaMaxQueued,
      // Published versions outlive a restart: the runtime's invocations stay pinned to them.
      versionsFile: path.join(buildDir, VERSIONS_FILE),
      // Request identity end to end: every function accepts only what this runtime signed.
      baseEnvironment: { CAPSTAN_IDENTITY_PUBLIC_KEYS: credentials.identity.publicKey },
    }),
  );
  const problem = (what: string, e: unknown): void =>
    log(`${what}: ${(e as Error)?.message ?? String(e)} (the other functions are served)`, "error");
  /** Function name → `name:version` last published, for the functions on disk now that build. */
  let published = new Map<string, string>();
  /** Functions on disk that did not build or publish last time: they keep the node not ready. */
  let failed = new Set<string>();
  const cache = new BuildCache();
  /**
   * Each function on its own, MAX_PARALLEL_BUILDS at a time: one that fails is reported and skipped,
   * the others go on; an unchanged one is not built again. Returns the names of the functions on
   * disk, or undefined when a directory could not be read as one.
   */
  const publishAll = async (): Promise<Set<string> | undefined> => {
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
  };
  let onDisk: Set<string> | undefined;
  try {
    // Functions are published before the runtime starts: recovery resumes in-flight invocations at
    // once, and their pinned function versions must already answer.
    progress(`building functions under ${displayPath(config.handlersDir)}…`);
    onDisk = await publishAll();
  } catch (e) {
    await lambda.close();
    throw e;
  }
  if (onDisk?.size === 0)
    log(
      `no functions found under ${config.handlersDir} (one directory per function, with handler.ts)`,
      "warn",
    );
  let node: RuntimeNode;
  try {
    const invoker = new RoutingInvoker({
      lambda: new LambdaInvoker({
        endpoint: lambda.url,
        maxConcurrency: config.maxConcurrentInvocations,
        signRequests: false,
        identity: credentials.identity,
      }),
      http: new HttpInvoker({
        maxConcurrency: config.maxConcurrentInvocations,
        identity: credentials.identity,
      }),
    });
    progress("starting the runtime…");
    node = await startRuntimeNodeFromConfig(config, invoker, log, credentials, lock, {
      notReady: { gate: FUNCTIONS_GATE, reason: "capstan dev is registering functions" },
      handlerLogs: lambda.handlerLogs,
    });
  } catch (e) {
    await lambda.close();
    throw e;
  }
  const registered = new Map<string, string>();
  /**
   * Registers every published version not registered yet (discovery through the local endpoint); one
   * whose discovery fails (e.g. it throws at load) is reported and tried again on the next rebuild.
   */
  const registerPublished = async (): Promise<string[]> => {
    const changed: string[] = [];
    for (const [name, qualified] of published) {
      if (registered.get(name) === qualified) continue;
      try {
        await node.runtime.registerDeployment({ kind: "lambda", arn: qualified }, { force: true });
      } catch (e) {
        problem(name, e);
        continue;
      }
      registered.set(name, qualified);
      changed.push(qualified);
    }
    const unregistered = [...failed, ...[...published.keys()].filter((n) => !registered.has(n))];
    if (unregistered.length === 0) node.runtime.readinessGates.open(FUNCTIONS_GATE);
    else
      node.runtime.readinessGates.close(
        FUNCTIONS_GATE,
        `functions not registered: ${unregistered.join(", ")} (see the capstan dev terminal)`,
      );
    return changed;
  };
  /** Functions whose directory is gone: their deployments stay (invocations may be pinned to them). */
  const noteRemoved = (onDisk: Set<string>): void => {
    for (const [name, qualified] of registered) {
      if (onDisk.has(name)) continue;
      registered.delete(name);
      log(
        `${name} is no longer under ${config.handlersDir}; its deployment ${qualified} still serves ` +
          `its services: \`npx capstan deployments remove <id>\` (ids: deployments list) retires it`,
        "warn",
      );
    }
  };
  const rebuild = async (): Promise<string[]> => {
    const onDisk = await publishAll();
    const changed = await registerPublished();
    if (onDisk !== undefined) noteRemoved(onDisk);
    return changed;
  };

  try {
    progress(`registering ${published.size} functions…`);
    const changed = await registerPublished();
    progress(`registered ${changed.length} functions`);
  } catch (e) {
    await node.close();
    await lambda.close();
    throw e;
  }
  return {
    node,
    lambdaUrl: lambda.url,
    rebuild,
    async close() {
      try {
        await node.close();
      } finally {
        await lambda.close();
        lock.release();
      }
    },
  };
}

/** A path as a user reads it best: relative below the working directory, else absolute. */
function displayPath(p: string): string {
  const relative = path.relative(process.cwd(), p);
  if (relative === "") return ".";
  const outside = relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  return outside ? path.resolve(p) : relative;
}

/** For a runtime off the ports the CLI assumes (loadCliConfig): the variables that point it here. */
function cliExports(node: RuntimeNode): string[] {
  const defaults =
    node.adminUrl === `http://127.0.0.1:${DEFAULT_ADMIN_PORT}` &&
    node.ingressUrl === `http://127.0.0.1:${DEFAULT_INGRESS_PORT}`;
  return defaults
    ? []
    : [`  export CAPSTAN_ADMIN_URL=${node.adminUrl} CAPSTAN_INGRESS_URL=${node.ingressUrl}   # for the CLI`];
}

/** Runs until SIGINT/SIGTERM; returns the exit code. */
export async function runDev(args: ParsedArgs): Promise<number> {
  const out = (s: string): void => void process.stdout.write(s + "\n");
  let config: RuntimeConfig;
  let platform: DevPlatform;
  let log: Log;
  try {
    config = loadConfig(configFlags(args.flags));
    log = createLog(config.logFormat, config.logLevel);
    platform = await startDevPlatform(config, log, out);
  } catch (e) {
    process.stderr.write(`capstan dev: ${(e as Error).message}\n`);
    return 1;
  }
  const registered = await platform.node.runtime.listServices();
  const services = registered.map((s) => `${s.name} (${s.kind})`);
  const ingress = platform.node.ingressUrl;
  out(
    [
      "",
      "Capstan is running.",
      `  ingress  ${ingress}`,
      `  admin    ${platform.node.adminUrl}  (token: npx capstan admin-token)`,
      `  console  ${platform.node.adminUrl}/ui/`,
      `  checkpoint ${platform.node.checkpointUrl}`,
      `  lambda   ${platform.lambdaUrl}  (local Lambda endpoint)`,
      `  data     ${displayPath(config.dataDir)}`,
      `  identity ${platform.node.identityPublicKey}`,
      `  services ${services.join(", ") || "(none)"}`,
      "",
      "Try:",
      ...cliExports(platform.node),
      // The example's call when it is served (the default handlers dir), else a look at what is.
      registered.some((s) => s.name === "Greeter")
        ? `  curl -X POST ${ingress}/Greeter/greet -H 'content-type: application/json' -d '"Ada"'`
        : "  npx capstan services list",
      `  npx capstan invocations list`,
      "",
      "Ctrl-C stops everything; state is kept in the data directory.",
    ].join("\n"),
  );

  let watcher: TreeWatcher | undefined;
  if (!args.flags.has("no-watch")) {
    let timer: NodeJS.Timeout | undefined;
    let running = Promise.resolve();
    try {
      watcher = watchTree(config.handlersDir, (file) => {
        if (IGNORED_CHANGE.test(file)) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          running = running.then(async () => {
            try {
              const changed = await platform.rebuild();
              if (changed.length > 0) log(`registered ${changed.join(", ")}`);
            } catch (e) {
              log(`rebuild failed: ${(e as Error).message}`, "error");
            }
          });
        }, WATCH_DEBOUNCE_MS);
      });
    } catch (e) {
      log(`watch mode unavailable: ${(e as Error).message}`, "warn");
    }
  }

  await stopSignal();
  watcher?.close();
  out("stopping…");
  await platform.close();
  return 0;
}
