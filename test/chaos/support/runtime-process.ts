/**
 * Parent side of a crash-test runtime: spawns runtime-child.ts under the swc require hook, waits for its
 * READY line, and SIGKILLs it. Every wait has a deadline; stderr is kept (bounded) for failure messages.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { READY_PREFIX, type ChildReady } from "./child-protocol";

const SUPPORT_DIR = __dirname;
const REGISTER = path.join(SUPPORT_DIR, "swc-register.js");
const ENTRY = path.join(SUPPORT_DIR, "runtime-child.ts");
/** Tail of the child's stderr kept for failure messages. */
const MAX_STDERR_CHARS = 8_000;

export interface RuntimeProcess {
  ready: ChildReady;
  /** Spawn to READY line, measured in the parent (includes node start and compiling the runtime). */
  recoveryMs: number;
  /** When the READY line arrived (epoch ms). */
  readyAtMs: number;
  /** Sends SIGKILL and resolves once the process is gone. */
  kill(timeoutMs: number): Promise<void>;
  stderrTail(): string;
}

/** Every child ever spawned, so afterAll can kill leftovers even when a test failed half-way. */
const spawned = new Set<ChildProcess>();

export function killAllRuntimeProcesses(): void {
  for (const child of spawned) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  spawned.clear();
}

interface Spawned {
  child: ChildProcess;
  exited: Promise<void>;
  stderr: () => string;
  /** The READY line; rejects when the child exits first or `timeoutMs` passes (then it is killed). */
  ready: Promise<ChildReady>;
}

function spawnChild(
  dataDir: string,
  partitions: number,
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Spawned {
  const child = spawn(process.execPath, ["-r", REGISTER, ENTRY, dataDir, String(partitions)], {
    cwd: SUPPORT_DIR,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  spawned.add(child);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-MAX_STDERR_CHARS);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = new Promise<ChildReady>((resolve, reject) => {
    let buffered = "";
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`runtime child ${why}; stderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
    const onEarlyExit = (code: number | null, signal: string | null): void =>
      fail(`exited before ready (code ${code}, signal ${signal})`);
    child.once("exit", onEarlyExit);
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith(READY_PREFIX)) continue;
        clearTimeout(timer);
        child.off("exit", onEarlyExit);
        resolve(JSON.parse(line.slice(READY_PREFIX.length)) as ChildReady);
      }
    });
  });
  return { child, exited, stderr: () => stderr, ready };
}

async function killChild(s: Spawned, timeoutMs: number): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    s.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`runtime child ${s.child.pid} still alive ${timeoutMs} ms after SIGKILL`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  spawned.delete(s.child);
}

export async function startRuntimeProcess(
  dataDir: string,
  partitions: number,
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<RuntimeProcess> {
  const startedAt = performance.now();
  const s = spawnChild(dataDir, partitions, timeoutMs, env);
  const ready = await s.ready;
  return {
    ready,
    recoveryMs: performance.now() - startedAt,
    readyAtMs: Date.now(),
    stderrTail: s.stderr,
    kill: (killTimeoutMs) => killChild(s, killTimeoutMs),
  };
}

/**
 * Starts a runtime and SIGKILLs it `killAfterMs` after the spawn, ready or not: depending on the moment
 * the kill lands in node's start, in recovery (replaying the log, appending `recover`), or while the
 * recovered invocations are re-driven. Resolves whether it had printed READY.
 */
export async function startAndKillRuntimeProcess(
  dataDir: string,
  partitions: number,
  killAfterMs: number,
  killTimeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<{ wasReady: boolean }> {
  const s = spawnChild(dataDir, partitions, killAfterMs + killTimeoutMs, env);
  let wasReady = false;
  s.ready.then(
    () => (wasReady = true),
    () => undefined, // the kill below makes it reject: expected
  );
  await new Promise((r) => setTimeout(r, killAfterMs));
  await killChild(s, killTimeoutMs);
  return { wasReady };
}
