/**
 * The cluster chaos suite's nodes: N slots, each running cluster-child.ts under the swc require hook
 * as its own OS process, started (waiting for its READY line), SIGKILLed, SIGTERMed (graceful
 * handover), SIGSTOPped and SIGCONTed by the test. Every wait has a deadline; each node's stderr is
 * kept (bounded) for failure messages; `killAll` leaves nothing behind, even after a failed test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { READY_PREFIX, type ChildReady } from "./child-protocol";

const SUPPORT_DIR = __dirname;
const REGISTER = path.join(SUPPORT_DIR, "swc-register.js");
const ENTRY = path.join(SUPPORT_DIR, "cluster-child.ts");
const MAX_STDERR_CHARS = 8_000;

interface Running {
  child: ChildProcess;
  ready: ChildReady;
  exited: Promise<void>;
  paused: boolean;
}

export class ClusterNodes {
  private readonly running = new Map<number, Running>();
  private readonly stderr = new Map<number, string>();

  constructor(
    readonly size: number,
    /** Node i's environment (its CAPSTAN_NODE_ID, the store, the shared secrets). */
    private readonly env: (i: number) => NodeJS.ProcessEnv,
    private readonly startTimeoutMs: number,
  ) {}

  nodeId(i: number): string {
    return `node-${i}`;
  }

  /** Starts node i and resolves with its READY line; rejects if it exits first or is late. */
  async start(i: number): Promise<ChildReady> {
    if (this.running.has(i)) throw new Error(`${this.nodeId(i)} is already running`);
    const child = spawn(process.execPath, ["-r", REGISTER, ENTRY], {
      cwd: SUPPORT_DIR,
      env: { ...process.env, ...this.env(i) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr.set(i, ((this.stderr.get(i) ?? "") + chunk.toString()).slice(-MAX_STDERR_CHARS));
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const ready = await new Promise<ChildReady>((resolve, reject) => {
      let buffered = "";
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new Error(`${this.nodeId(i)} ${why}; stderr:\n${this.stderr.get(i) ?? ""}`));
      };
      const timer = setTimeout(() => fail(`not ready within ${this.startTimeoutMs} ms`), this.startTimeoutMs);
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
    this.running.set(i, { child, ready, exited, paused: false });
    return ready;
  }

  /** The nodes running and not paused. */
  live(): Array<{ index: number; ready: ChildReady }> {
    return [...this.running.entries()]
      .filter(([, r]) => !r.paused)
      .map(([index, r]) => ({ index, ready: r.ready }));
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(i: number): Promise<void> {
    const r = this.running.get(i);
    if (r === undefined) return;
    r.child.kill("SIGKILL");
    await r.exited;
    this.running.delete(i);
  }

  /** SIGTERM (what ECS sends): resolves with how long the node took to exit (SIGKILL after `deadlineMs`). */
  async terminate(i: number, deadlineMs: number): Promise<{ exitedMs: number; killed: boolean }> {
    const r = this.running.get(i);
    if (r === undefined) return { exitedMs: 0, killed: false };
    const startedAt = Date.now();
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      r.child.kill("SIGKILL");
    }, deadlineMs);
    r.child.kill("SIGTERM");
    await r.exited;
    clearTimeout(timer);
    this.running.delete(i);
    return { exitedMs: Date.now() - startedAt, killed };
  }

  /** SIGSTOP: the process is frozen (its lease runs out while it cannot renew it). */
  pause(i: number): void {
    const r = this.running.get(i);
    if (r === undefined) throw new Error(`${this.nodeId(i)} is not running`);
    r.child.kill("SIGSTOP");
    r.paused = true;
  }

  /** SIGCONT: it resumes believing it still leads what it led. */
  resume(i: number): void {
    const r = this.running.get(i);
    if (r === undefined) throw new Error(`${this.nodeId(i)} is not running`);
    r.child.kill("SIGCONT");
    r.paused = false;
  }

  stderrTail(i: number): string {
    return this.stderr.get(i) ?? "";
  }

  /** SIGCONT then SIGKILL every node still running. */
  killAll(): void {
    for (const r of this.running.values()) {
      r.child.kill("SIGCONT");
      r.child.kill("SIGKILL");
    }
    this.running.clear();
  }
}
