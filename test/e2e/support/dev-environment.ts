/**
 * What the `capstan dev` tests (dev-cluster, dev-orphans) start it on: a handlers directory inside
 * the repository with one function (Hello), and an environment of free ports laid out as
 * `capstan dev --nodes N` gives them out (node i adds i to each base).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { REPO_ROOT, freePort } from "./platform-process";

const HELLO_HANDLER = `
import { service } from "@capstan/sdk";
import { lambdaHandler } from "@capstan/sdk/lambda";
export const hello = service({ name: "Hello", handlers: { hi: async (_ctx, name: string) => "hi " + name } });
export const handler = lambdaHandler(hello);
`;

/**
 * A new handlers directory (removed by the test) under the repository's `.capstan/`, so the bundle
 * resolves @capstan/sdk from its node_modules (.capstan/ is ignored by git).
 */
export function handlersDirIn(prefix: string): string {
  mkdirSync(path.join(REPO_ROOT, ".capstan"), { recursive: true });
  return mkdtempSync(path.join(REPO_ROOT, ".capstan", prefix));
}

/** Writes the Hello function (`Hello/hi` answers "hi " + name) into `handlersDir`. */
export function writeHelloHandler(handlersDir: string): void {
  mkdirSync(path.join(handlersDir, "hello"));
  writeFileSync(path.join(handlersDir, "hello", "handler.ts"), HELLO_HANDLER);
}

/** Whether nothing listens on 127.0.0.1:port. */
function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A start port from the OS (port 0) with the `count` ports from it free. */
async function freeRange(count: number): Promise<number> {
  for (;;) {
    const start = await freePort();
    if (start + count > 65535) continue;
    const all = await Promise.all(Array.from({ length: count }, (_, i) => free(start + i)));
    if (all.every(Boolean)) return start;
  }
}

/**
 * `capstan dev --nodes <nodes>`'s environment on `handlersDir` and `dataDir`: four free blocks of
 * `nodes` ports (ingress, admin, checkpoint, peer), the Lambda endpoint on any port, 4 partitions.
 */
export async function devEnvironment(
  handlersDir: string,
  dataDir: string,
  nodes: number,
): Promise<Record<string, string>> {
  const base = await freeRange(4 * nodes);
  return {
    CAPSTAN_HANDLERS_DIR: handlersDir,
    CAPSTAN_DATA_DIR: dataDir,
    CAPSTAN_INGRESS_PORT: String(base),
    CAPSTAN_ADMIN_PORT: String(base + nodes),
    CAPSTAN_CHECKPOINT_PORT: String(base + 2 * nodes),
    CAPSTAN_PEER_PORT: String(base + 3 * nodes),
    CAPSTAN_LAMBDA_PORT: "0",
    CAPSTAN_PARTITIONS: "4",
  };
}
