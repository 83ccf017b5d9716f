/**
 * Ports a command listens on, each named by the variable that sets it, so that a port in use is
 * reported as the variable to change — all the busy ones at once, not one per failed start.
 */
import net from "node:net";
import { ConfigError } from "./config";

/** Variable name → port, e.g. `{ CAPSTAN_INGRESS_PORT: 8080 }`; port 0 (any free port) is never busy. */
export type NamedPorts = Readonly<Record<string, number>>;

/** Throws a ConfigError naming every port of `ports` that something else listens on at `host`. */
export async function assertPortsFree(host: string, ports: NamedPorts): Promise<void> {
  const busy: string[] = [];
  for (const [name, port] of Object.entries(ports))
    if (port !== 0 && !(await canListen(host, port))) busy.push(`${port} (${name})`);
  if (busy.length > 0) throw portsInUse(busy);
}

/** Runs `start`, turning EADDRINUSE (a port taken since the check) into the same ConfigError. */
export async function withPortHint<T>(ports: NamedPorts, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code !== "EADDRINUSE") throw e;
    const port = Number(/:(\d+)$/.exec(String((e as Error).message))?.[1]);
    const names = Object.entries(ports).filter(([, p]) => p === port);
    throw portsInUse([`${port} (${names.map(([n]) => n).join(" / ") || "unknown setting"})`]);
  }
}

function portsInUse(busy: string[]): ConfigError {
  const list = busy.length === 1 ? busy[0]! : `${busy.slice(0, -1).join(", ")} and ${busy.at(-1)!}`;
  return new ConfigError(
    busy.length === 1
      ? `port ${list} is already in use: stop the process using it or set that variable to another port`
      : `ports ${list} are already in use: stop the processes using them or set those variables to other ports`,
  );
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}
