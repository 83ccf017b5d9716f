/**
 * `capstan serve` (the compiled CLI, as the container runs it) as a child process with exactly the
 * environment it is given: nothing of the test process leaks in.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { CLI } from "./platform-process";

/** Startup includes creating the table on DynamoDB Local and claiming every partition. */
const STARTUP_DEADLINE_MS = 90_000;
const STOP_DEADLINE_MS = 20_000;
const POLL_INTERVAL_MS = 100;

export class ServeProcess {
  output = "";
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    const keep = (chunk: Buffer): void => void (this.output += chunk.toString("utf8"));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("exit", (code, signal) => (this.exited = String(code ?? signal)));
  }

  /**
   * Starts the runtime and resolves once `healthUrl` answers 200 (bounded; the child's output is in
   * the error when it does not).
   */
  static async start(env: Record<string, string>, args: string[], cwd: string, healthUrl: string) {
    const serve = new ServeProcess(
      spawn(process.execPath, [CLI, "serve", ...args], { env, cwd, stdio: ["ignore", "pipe", "pipe"] }),
    );
    const deadline = Date.now() + STARTUP_DEADLINE_MS;
    for (;;) {
      if (serve.exited !== undefined)
        throw new Error(`capstan serve exited (${serve.exited}) during startup:\n${serve.output}`);
      const status = await fetch(healthUrl).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return serve;
      if (Date.now() > deadline) {
        await serve.stop();
        throw new Error(`capstan serve not healthy within ${STARTUP_DEADLINE_MS} ms:\n${serve.output}`);
      }
      await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    }
  }

  /** SIGTERM (as ECS stops a task); resolves with the exit code. */
  async stop(): Promise<string> {
    if (this.exited !== undefined) return this.exited;
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_DEADLINE_MS);
    await exited;
    clearTimeout(timer);
    return this.exited ?? "?";
  }
}
