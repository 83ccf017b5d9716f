/**
 * One runtime node of `capstan dev --nodes N` as its own OS process (`capstan serve`), supervised:
 * its output is passed on line by line under its name, a node that dies while not being stopped is
 * reported and started again (after RESTART_DELAY_MS, doubling up to MAX_RESTART_DELAY_MS while it
 * keeps dying), and `stop` ends it with SIGTERM (what ECS sends: the node hands its partitions over),
 * then SIGKILL after STOP_DEADLINE_MS.
 *
 * The node gets an IPC channel whose only use is to close: when `capstan dev` dies, however (SIGKILL
 * included), the channel's `disconnect` stops the node like a SIGTERM (cli/stop-signal.ts), so no
 * node outlives it and holds its ports.
 */
import { spawn, type ChildProcess } from "node:child_process";
import readline from "node:readline";

/** First wait before a node that died is started again. */
export const RESTART_DELAY_MS = 1_000;
/** The wait doubles while a node keeps dying, up to this. */
export const MAX_RESTART_DELAY_MS = 30_000;
/** A node that ran this long before dying is restarted after RESTART_DELAY_MS again. */
const STABLE_RUN_MS = 60_000;
/** A node that has not exited this long after SIGTERM is killed. */
export const STOP_DEADLINE_MS = 15_000;

export interface NodeProcessOptions {
  /** `node-1`: its name in the output. */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Each line the node prints, and each note about it (exit, restart). */
  out: (line: string) => void;
}

export class NodeProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartDelayMs = RESTART_DELAY_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAtMs = 0;
  /** Whoever waits for the current child to exit (`stop`, `exited`). */
  private exitWaiters: Array<() => void> = [];
  /** Lines this node printed last, for an error message when it fails to start. */
  private readonly tail: string[] = [];

  constructor(private readonly options: NodeProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the node's process is running now. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The node's last lines of output. */
  recentOutput(): string {
    return this.tail.join("\n");
  }

  start(): void {
    this.stopping = false;
    this.startedAtMs = Date.now();
    const child = spawn(this.options.command, this.options.args, {
      env: this.options.env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      // Its own process group: a terminal's Ctrl-C reaches only `capstan dev`, which stops the
      // nodes first (SIGTERM) and DynamoDB Local after them.
      detached: true,
    });
    this.child = child;
    // The channel must not keep `capstan dev` alive.
    child.channel?.unref();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      readline.createInterface({ input: stream }).on("line", (line) => this.line(line));
    }
    child.once("error", (e) => this.note(`could not start: ${e.message}`));
    child.once("exit", (code, signal) => this.exited(child, code, signal));
  }

  /** Resolves when the current process has exited (at once if none runs). */
  whenExited(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** SIGTERM, then SIGKILL after STOP_DEADLINE_MS; no restart. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = this.whenExited();
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
      this.note(`did not stop within ${STOP_DEADLINE_MS} ms: killing it`);
      child.kill("SIGKILL");
    }, STOP_DEADLINE_MS);
    await exited;
    clearTimeout(timer);
  }

  private line(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
    this.options.out(`[${this.options.name}] ${line}`);
  }

  private note(text: string): void {
    this.options.out(`[${this.options.name}] ${text}`);
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
    if (this.stopping || this.child !== child) return;
    if (Date.now() - this.startedAtMs >= STABLE_RUN_MS) this.restartDelayMs = RESTART_DELAY_MS;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
    this.note(
      `exited (${signal ?? `code ${code}`}, pid ${child.pid}); restarting in ${Math.round(delay / 1000)} s`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping) this.start();
    }, delay);
  }
}
