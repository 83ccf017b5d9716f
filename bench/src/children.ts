/**
 * The processes under test, each a child of the bench: the dev platform (runtime + local Lambda
 * endpoint, whose workers are threads), the HTTP deployment and the plain reference server.
 */
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import path from "node:path";

/** The repository root, from bench/dist/src/. */
export const REPO_ROOT = path.resolve(__dirname, "../../..");
const CLI = path.join(REPO_ROOT, "runtime/dist/cli/main.js");
/** As `npm start` and the runtime image start the runtime (runtime/src/cli/runtime-node-flags.ts). */
const RUNTIME_NODE_FLAGS = ["--max-semi-space-size=8"];
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export interface Child {
  role: string;
  proc: ChildProcess;
  pid: number;
  logFile: string;
  /** SIGTERM, then SIGKILL after STOP_TIMEOUT_MS; resolves with how it ended. */
  stop(): Promise<string>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Children running now: stopped with the bench if it is interrupted (else they outlive it). */
const running = new Set<ChildProcess>();
let stopOnSignal = false;

/** SIGINT or SIGTERM to the bench stops its children first, then ends it as the signal would. */
function stopChildrenOnSignal(): void {
  if (stopOnSignal) return;
  stopOnSignal = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const proc of running) proc.kill("SIGTERM");
      process.kill(process.pid, signal);
    });
  }
}

function startChild(role: string, args: string[], env: NodeJS.ProcessEnv, logDir: string): Child {
  stopChildrenOnSignal();
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${role}.log`);
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(logFile);
  proc.stdout.pipe(log, { end: false });
  proc.stderr.pipe(log, { end: false });
  if (proc.pid === undefined) throw new Error(`could not start ${role}`);
  running.add(proc);
  const exited = new Promise<string>((resolve) =>
    proc.once("exit", (code, signal) => {
      running.delete(proc);
      resolve(signal ? `signal ${signal}` : `exit ${code}`);
    }),
  );
  return {
    role,
    proc,
    pid: proc.pid,
    logFile,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
      const how = await exited;
      clearTimeout(timer);
      log.end();
      return how;
    },
  };
}

/** Resolves with the child's first stdout line parsed as JSON (the servers print `{"url": ...}`). */
function firstJsonLine(child: Child): Promise<{ url: string } & Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(
      () => reject(new Error(`${child.role} not ready; see ${child.logFile}`)),
      READY_TIMEOUT_MS,
    );
    child.proc.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const nl = buffered.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buffered.slice(0, nl)) as { url: string } & Record<string, unknown>);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    child.proc.once("exit", () => reject(new Error(`${child.role} exited early; see ${child.logFile}`)));
  });
}

/**
 * Starts a bench server script from bench/dist/src and waits for its URL; `ready` is the whole line
 * it printed (a script may say more than its URL).
 */
export async function startServerChild(
  role: string,
  script: string,
  logDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Child & { url: string; ready: Record<string, unknown> }> {
  const child = startChild(role, [path.join(__dirname, script)], { ...process.env, ...env }, logDir);
  const ready = await firstJsonLine(child);
  return { ...child, url: ready.url, ready };
}

export interface RuntimeChild extends Child {
  ingressUrl: string;
  adminUrl: string;
  /** The admin API's bearer token, given to the runtime as CAPSTAN_ADMIN_TOKEN. */
  adminToken: string;
}

export interface RuntimeChildOptions {
  handlersDir: string;
  dataDir: string;
  logDir: string;
  role: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Extra environment, e.g. OTEL_EXPORTER_OTLP_ENDPOINT for `--tracing`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Keep the runtime's default retention of completed invocations (1 h) instead of 0, which the
   * throughput runs set so that memory measures the load, not the history (the scale scenario
   * measures the history).
   */
  defaultRetention?: boolean;
  /** Extra `capstan dev` arguments, e.g. `--nodes 3` (cluster.ts). */
  devArgs?: string[];
  /** Base ports chosen by the caller (a cluster needs consecutive ones); free ports otherwise. */
  ports?: { ingress: number; admin: number; checkpoint: number; peer: number; lambda: number };
  /** The admin token to give; a random one otherwise. */
  adminToken?: string;
  /** The stdout text that says the platform is ready. */
  readyLine?: string;
  /** How long to wait for it, READY_TIMEOUT_MS by default (a cluster takes longer). */
  readyTimeoutMs?: number;
}

/** `capstan dev --no-watch` as a child, on free ports; resolves once the admin API answers. */
export async function startRuntimeChild(options: RuntimeChildOptions): Promise<RuntimeChild> {
  const [ingressPort, adminPort, checkpointPort, lambdaPort] = options.ports
    ? [options.ports.ingress, options.ports.admin, options.ports.checkpoint, options.ports.lambda]
    : [await freePort(), await freePort(), await freePort(), await freePort()];
  const adminToken = options.adminToken ?? randomBytes(24).toString("base64url");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CAPSTAN_HANDLERS_DIR: options.handlersDir,
    CAPSTAN_DATA_DIR: options.dataDir,
    CAPSTAN_HOST: "127.0.0.1",
    CAPSTAN_INGRESS_PORT: String(ingressPort),
    CAPSTAN_ADMIN_PORT: String(adminPort),
    CAPSTAN_ADMIN_TOKEN: adminToken,
    CAPSTAN_CHECKPOINT_PORT: String(checkpointPort),
    CAPSTAN_LAMBDA_PORT: String(lambdaPort),
    CAPSTAN_COMPLETED_RETENTION_MS: "0",
    ...(options.ports && { CAPSTAN_PEER_PORT: String(options.ports.peer) }),
    ...options.env,
  };
  if (options.defaultRetention === true) delete env.CAPSTAN_COMPLETED_RETENTION_MS;
  const child = startChild(
    options.role,
    [
      ...RUNTIME_NODE_FLAGS,
      ...(options.nodeArgs ?? []),
      CLI,
      "dev",
      "--no-watch",
      ...(options.devArgs ?? []),
    ],
    env,
    options.logDir,
  );
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const ingressUrl = `http://127.0.0.1:${ingressPort}`;
  const ready = new Promise<void>((resolve, reject) => {
    let out = "";
    child.proc.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (out.includes(options.readyLine ?? "Capstan is running.")) resolve();
    });
    child.proc.once("exit", (code) =>
      reject(new Error(`${options.role} exited with ${code}; see ${child.logFile}`)),
    );
    const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    setTimeout(
      () => reject(new Error(`${options.role} not ready after ${timeoutMs} ms; see ${child.logFile}`)),
      timeoutMs,
    ).unref();
  });
  try {
    await ready;
  } catch (e) {
    await child.stop();
    throw e;
  }
  return { ...child, ingressUrl, adminUrl, adminToken };
}
