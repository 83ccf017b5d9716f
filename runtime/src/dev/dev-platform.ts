/**
 * `capstan dev` (what `npm start` runs): builds every function under handlers/ with esbuild exactly as
 * it is deployed, serves them from the local Lambda endpoint, starts the runtime with its embedded
 * store, registers each function as a pinned deployment (discovery through the local endpoint), and
 * re-registers a function as a new version when its code changes. `--nodes N` (N > 1) runs a
 * cluster instead: dev-cluster.ts.
 */
import { flag, type ParsedArgs } from "../cli/args";
import { EXIT_USAGE } from "../cli/http-client";
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
import { assertPortsFree } from "../config/ports";
import { startRuntimeNodeFromConfig, type RuntimeNode } from "../node";
import { lockDataDir, type DataDirLock } from "../storage/data-dir-lock";
import { stopSignal } from "../cli/stop-signal";
import { watchTree, type TreeWatcher } from "./tree-watcher";
import { createLog, type Log } from "../log";
import { loadNodeCredentials } from "../security/node-credentials";
import { startDevFunctions } from "./dev-functions";
import { displayPath } from "./display-path";
import { devNodeCount } from "./dev-nodes";

/** Changes that never need a rebuild: tests, editors' backup and swap files. */
const IGNORED_CHANGE = /(\.test\.ts|~|\.sw[px])$/;
/** Quiet period after a file change before rebuilding. */
const WATCH_DEBOUNCE_MS = 200;
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
  const credentials = loadNodeCredentials(config.dataDir, config.secrets);
  const functions = await startDevFunctions(config, log, credentials.identity.publicKey, progress);
  let onDisk: Set<string> | undefined;
  try {
    // Functions are published before the runtime starts: recovery resumes in-flight invocations at
    // once, and their pinned function versions must already answer.
    progress(`building functions under ${displayPath(config.handlersDir)}…`);
    onDisk = await functions.publishAll();
  } catch (e) {
    await functions.close();
    throw e;
  }
  if (onDisk?.size === 0) warnNoFunctions(config, log);
  let node: RuntimeNode;
  try {
    const invoker = new RoutingInvoker({
      lambda: new LambdaInvoker({
        endpoint: functions.lambdaUrl,
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
      handlerLogs: functions.handlerLogs,
    });
  } catch (e) {
    await functions.close();
    throw e;
  }
  /** Registers what is published and not yet registered; the node is ready once all are. */
  const registerPublished = async (): Promise<string[]> => {
    const { changed, unregistered } = await functions.registerPublished(async (qualified) => {
      await node.runtime.registerDeployment({ kind: "lambda", arn: qualified }, { force: true });
    });
    if (unregistered.length === 0) node.runtime.readinessGates.open(FUNCTIONS_GATE);
    else
      node.runtime.readinessGates.close(
        FUNCTIONS_GATE,
        `functions not registered: ${unregistered.join(", ")} (see the capstan dev terminal)`,
      );
    return changed;
  };
  const rebuild = async (): Promise<string[]> => {
    const onDisk = await functions.publishAll();
    const changed = await registerPublished();
    if (onDisk !== undefined) functions.noteRemoved(onDisk);
    return changed;
  };

  try {
    progress(`registering ${functions.publishedCount()} functions…`);
    const changed = await registerPublished();
    progress(`registered ${changed.length} functions`);
  } catch (e) {
    await node.close();
    await functions.close();
    throw e;
  }
  return {
    node,
    lambdaUrl: functions.lambdaUrl,
    rebuild,
    async close() {
      try {
        await node.close();
      } finally {
        await functions.close();
        lock.release();
      }
    },
  };
}

/** An empty handlers dir is allowed (functions may come later, watch mode picks them up). */
export function warnNoFunctions(config: RuntimeConfig, log: Log): void {
  log(`no functions found under ${config.handlersDir} (one directory per function, with handler.ts)`, "warn");
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

/**
 * Rebuilds (and re-registers) once the handlers dir has been quiet for WATCH_DEBOUNCE_MS after a
 * change; rebuilds run one after another. Undefined when the platform cannot watch.
 */
export function watchFunctions(
  config: RuntimeConfig,
  rebuild: () => Promise<string[]>,
  log: Log,
): TreeWatcher | undefined {
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  try {
    return watchTree(config.handlersDir, (file) => {
      if (IGNORED_CHANGE.test(file)) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        running = running.then(async () => {
          try {
            const changed = await rebuild();
            if (changed.length > 0) log(`registered ${changed.join(", ")}`);
          } catch (e) {
            log(`rebuild failed: ${(e as Error).message}`, "error");
          }
        });
      }, WATCH_DEBOUNCE_MS);
    });
  } catch (e) {
    log(`watch mode unavailable: ${(e as Error).message}`, "warn");
    return undefined;
  }
}

/** Runs until SIGINT/SIGTERM; returns the exit code. */
export async function runDev(args: ParsedArgs): Promise<number> {
  const out = (s: string): void => void process.stdout.write(s + "\n");
  let config: RuntimeConfig;
  let platform: DevPlatform;
  let log: Log;
  let nodes: number;
  try {
    nodes = devNodeCount(flag(args, "nodes"));
  } catch (e) {
    process.stderr.write(`capstan dev: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  try {
    config = loadConfig(configFlags(args.flags));
    log = createLog(config.logFormat, config.logLevel);
    if (nodes > 1) {
      // Loaded only here: one node does not pay for DynamoDB Local's and the S3 stand-in's code.
      const { runDevCluster } = await import("./run-dev-cluster");
      return await runDevCluster(args, config, nodes, log);
    }
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

  const watcher = args.flags.has("no-watch")
    ? undefined
    : watchFunctions(config, () => platform.rebuild(), log);

  await stopSignal();
  watcher?.close();
  out("stopping…");
  await platform.close();
  return 0;
}
