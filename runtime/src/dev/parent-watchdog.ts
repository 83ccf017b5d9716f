/**
 * Keeps a child that cannot watch its parent (DynamoDB Local's JVM) from outliving `capstan dev`.
 * The child runs under a small node process started with an IPC channel to `capstan dev`: when the
 * channel closes — `capstan dev` exited, however it died, SIGKILL included — it stops the child
 * (SIGTERM, then SIGKILL after WATCHDOG_STOP_DEADLINE_MS) and exits. It works the same on Linux and
 * macOS (no prctl(PR_SET_PDEATHSIG)). The watchdog's own code is passed inline (`node -e`), so it
 * needs no file next to the compiled or the TypeScript sources. Its output is the child's (the same
 * pipes), a SIGTERM to it is passed on, and it exits when the child does, with its code.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/** The child has this long to stop after SIGTERM before the watchdog kills it. */
export const WATCHDOG_STOP_DEADLINE_MS = 10_000;

const WATCHDOG_SOURCE = `
const { spawn } = require("node:child_process");
const [command, args, deadlineMs] = JSON.parse(process.argv[1]);
const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill("SIGTERM");
  setTimeout(() => child.kill("SIGKILL"), deadlineMs).unref();
};
process.on("disconnect", stop);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
child.on("error", (e) => { process.stderr.write(String(e.message) + "\\n"); process.exit(127); });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
`;

/**
 * Spawns `command args` under a watchdog that ends it when this process goes away. The returned
 * ChildProcess is the watchdog's: its pid, its output (the child's), `kill` (passed on) and `exit`.
 *
 * @example
 * const java = spawnWatched("java", ["-jar", jar], { stdio: ["ignore", "pipe", "pipe"], detached: true });
 */
export function spawnWatched(
  command: string,
  args: readonly string[],
  options: Pick<SpawnOptions, "detached" | "env"> & {
    stdio: ["ignore", "pipe" | "inherit", "pipe" | "inherit"];
  },
): ChildProcess {
  const watchdog = spawn(
    process.execPath,
    ["-e", WATCHDOG_SOURCE, JSON.stringify([command, args, WATCHDOG_STOP_DEADLINE_MS])],
    { ...options, stdio: [...options.stdio, "ipc"] },
  );
  // The channel exists to close when this process dies; it must not keep this process alive.
  watchdog.channel?.unref();
  return watchdog;
}
