/**
 * The physical-limit reference: a plain, non-durable node:http server doing the bench's work with no
 * journal, no fsync and no second hop. Prints `{"url": ...}` on stdout once listening.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FANOUT_CALLS, SLEEP_MS } from "../functions/bench/services";

const MAX_BODY_BYTES = 1 << 20;
const counters = new Map<string, number>();

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error("body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The in-process stand-in of `bench/noop`, called by `fanout` like the durable one calls itself. */
async function noop(input: unknown): Promise<unknown> {
  return input;
}

async function route(path: string, input: unknown): Promise<unknown> {
  switch (path) {
    case "/bench/noop":
      return noop(input);
    case "/bench/steps": {
      const a = await Promise.resolve(1);
      const b = await Promise.resolve(a + 1);
      const c = await Promise.resolve(b + 1);
      return { a, b, c };
    }
    case "/bench/sleeper":
      await new Promise((resolve) => setTimeout(resolve, SLEEP_MS));
      return { slept: SLEEP_MS };
    case "/bench/fanout": {
      const results = await Promise.all(Array.from({ length: FANOUT_CALLS }, (_, i) => noop(i)));
      return { n: results.length };
    }
  }
  const m = /^\/counter\/([^/]+)\/add$/.exec(path);
  if (m === null) throw Object.assign(new Error(`no route ${path}`), { status: 404 });
  const key = decodeURIComponent(m[1]!);
  const count = (counters.get(key) ?? 0) + (input as number);
  counters.set(key, count);
  return count;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) ?? "null";
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const handle = async (): Promise<void> => {
    const text = await readBody(req);
    const output = await route((req.url ?? "").split("?")[0]!, text === "" ? null : JSON.parse(text));
    reply(res, 200, output);
  };
  handle().catch((e: unknown) => {
    const status = (e as { status?: number }).status ?? 500;
    if (!res.headersSent) reply(res, status, { message: String(e) });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + "\n");
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
