/**
 * `capstan dev` killed with SIGKILL leaves nothing running: not its `capstan serve` nodes, not
 * DynamoDB Local's JVM, not the local Lambda endpoint — each ends by itself once its parent is gone
 * (IPC disconnect; a watchdog for the JVM) — and a second `capstan dev` on the same data directory
 * and ports starts. The same for the single-node `capstan dev` (`npm start`). The compiled CLI (as a
 * user runs it; the local Lambda endpoint is a child process there), real processes found with `ps`;
 * every wait is for a condition.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { devEnvironment, handlersDirIn, writeHelloHandler } from "./support/dev-environment";
import { CLI } from "./support/platform-process";

jest.setTimeout(300_000);

const POLL_MS = 100;

/** Every process below `root` now (children, their children, …), from `ps`. */
function descendants(root: number): number[] {
  const rows = execFileSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of rows)
      if (ppid === parent) {
        out.push(pid);
        queue.push(pid);
      }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, condition: () => boolean, dev?: { output: string[] }): Promise<void> {
  const deadline = Date.now() + 240_000; // a guard against hanging forever, not a timing target
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${dev?.output.join("")}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface Dev {
  child: ChildProcess;
  output: string[];
  exited: boolean;
}

function startDev(args: string[], env: NodeJS.ProcessEnv): Dev {
  const child = spawn(process.execPath, [CLI, "dev", "--no-watch", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const dev: Dev = { child, output: [], exited: false };
  child.stdout.on("data", (c: Buffer) => dev.output.push(c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => dev.output.push(c.toString("utf8")));
  child.once("exit", () => (dev.exited = true));
  return dev;
}

async function running(dev: Dev): Promise<void> {
  await waitFor(
    "capstan dev to be running",
    () => dev.exited || dev.output.join("").includes("Capstan is running"),
    dev,
  );
  if (dev.exited) throw new Error(`capstan dev exited:\n${dev.output.join("")}`);
}

/** SIGKILLs `capstan dev` and waits until every process it had started is gone. */
async function killAndWaitForOrphans(dev: Dev): Promise<number[]> {
  const below = descendants(dev.child.pid!);
  dev.child.kill("SIGKILL");
  await waitFor("capstan dev to die", () => dev.exited);
  await waitFor(`its processes ${below.join(", ")} to end`, () => below.every((pid) => !alive(pid)), dev);
  return below;
}

async function stop(dev: Dev): Promise<void> {
  if (dev.exited) return;
  const below = descendants(dev.child.pid!);
  dev.child.kill("SIGTERM");
  await waitFor("capstan dev to stop", () => dev.exited, dev);
  await waitFor("its processes to end", () => below.every((pid) => !alive(pid)), dev);
}

describe("a SIGKILLed capstan dev leaves no process behind", () => {
  const handlersDir = handlersDirIn("dev-orphans-test-");
  const dirs: string[] = [];
  const started: Dev[] = [];

  beforeAll(() => writeHelloHandler(handlersDir));
  afterAll(async () => {
    for (const dev of started) await stop(dev).catch(() => undefined);
    rmSync(handlersDir, { recursive: true, force: true });
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const environment = async (nodes: number): Promise<NodeJS.ProcessEnv> => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-dev-orphans-"));
    dirs.push(dataDir);
    return devEnvironment(handlersDir, dataDir, nodes);
  };

  test("--nodes 2: the nodes, DynamoDB Local and the Lambda endpoint end; a restart on the same data starts", async () => {
    const env = await environment(2);
    const first = startDev(["--nodes", "2"], env);
    started.push(first);
    await running(first);
    const below = descendants(first.child.pid!);
    // 2 nodes, DynamoDB Local's watchdog and JVM, the local Lambda endpoint (at least).
    expect(below.length).toBeGreaterThanOrEqual(5);
    const commands = execFileSync("ps", ["-o", "args=", "-p", below.join(",")], { encoding: "utf8" });
    expect(commands).toContain("DynamoDBLocal.jar");
    expect(commands).toContain(" serve");
    expect(commands).toContain("local-lambda-main");

    await killAndWaitForOrphans(first);

    const second = startDev(["--nodes", "2"], env);
    started.push(second);
    await running(second);
    await stop(second);
  });

  test("one node (npm start): the local Lambda endpoint ends; a restart on the same data starts", async () => {
    const env = await environment(1);
    const first = startDev([], env);
    started.push(first);
    await running(first);
    const below = descendants(first.child.pid!);
    const commands = execFileSync("ps", ["-o", "args=", "-p", below.join(",")], { encoding: "utf8" });
    expect(commands).toContain("local-lambda-main");
    await killAndWaitForOrphans(first);
    const second = startDev([], env);
    started.push(second);
    await running(second);
    await stop(second);
  });
});
