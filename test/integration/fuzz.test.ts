/**
 * Fuzz: seeded requests against the ingress, admin and checkpoint routes of a real runtime over HTTP.
 * Bad input must never cost more than a 4xx: no crash, no `INTERNAL`, every error body JSON with a
 * code; and a counter incremented N times among the noise reads N.
 *
 * `FUZZ_REQUESTS` raises the count (docs/security.md reports the long run), `FUZZ_SEED` picks another
 * sequence, `FUZZ_REPORT=<file>` appends a progress line every PROGRESS_EVERY requests and the totals:
 * `FUZZ_REQUESTS=1000000 FUZZ_SEED=7 FUZZ_REPORT=fuzz.jsonl npx jest test/integration/fuzz.test.ts`.
 */
import { appendFileSync } from "node:fs";
import { request as httpRequest, Agent } from "node:http";
import { TerminalError, object, service } from "@capstan/sdk";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { prng } from "../chaos/support/prng";
import { counter } from "./support/counter";
import { fuzzRequest, ORACLE_KEY, type FuzzRequest, type Listener } from "./support/fuzz-requests";
import { rawExchange, type RawReply } from "./support/raw-http";

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 15);
/** Requests in flight at once. */
const CONCURRENCY = 8;
/** Every this many requests a worker also increments the oracle's counter. */
const ORACLE_EVERY = 25;
const REPORT_FILE = process.env.FUZZ_REPORT;
const PROGRESS_EVERY = 10_000;
/** Generous: only a request that never ends fails on it. */
const REQUEST_TIMEOUT_MS = 60_000;

jest.setTimeout(120_000 + REQUESTS * 20);

const fuzz = service({
  name: "Fuzz",
  handlers: {
    echo: async (_ctx, input: unknown) => typeof input,
    fail: async () => {
      throw new TerminalError("refused on purpose", { code: 409 });
    },
  },
});

const fuzzObject = object({
  name: "FuzzObject",
  handlers: {
    set: async (ctx, input: unknown) => ctx.set("v", input ?? null),
    get: async (ctx) => (await ctx.get<unknown>("v")) ?? null,
  },
});

let env: TestEnvironment;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

beforeAll(async () => {
  env = await startTestEnvironment({
    services: [fuzz, fuzzObject, counter],
    time: "real",
    // The fuzz creates many short invocations: keep memory flat over a long run.
    completedRetentionMs: 1_000,
  });
});
afterAll(async () => {
  agent.destroy();
  await env.close();
});

function portOf(listener: Listener): number {
  const url =
    listener === "ingress" ? env.ingressUrl : listener === "admin" ? env.adminUrl : env.checkpointUrl;
  return Number(new URL(url).port);
}

function send(port: number, req: FuzzRequest): Promise<RawReply | undefined> {
  if (req.raw !== undefined) return rawExchange(port, req.raw, REQUEST_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    let r;
    try {
      r = httpRequest({
        host: "127.0.0.1",
        port,
        method: req.method,
        path: req.path,
        headers: { ...req.headers, ...(req.body !== undefined && { "content-length": req.body.length }) },
        agent,
        timeout: REQUEST_TIMEOUT_MS,
      });
    } catch {
      // A header value or path node:http refuses to write: send the same bytes by hand.
      const head = [`${req.method} ${req.path} HTTP/1.1`, `host: 127.0.0.1:${port}`, "connection: close"];
      for (const [k, v] of Object.entries(req.headers)) head.push(`${k}: ${v}`);
      if (req.body !== undefined) head.push(`content-length: ${req.body.length}`);
      const bytes = Buffer.concat([
        Buffer.from(head.join("\r\n") + "\r\n\r\n", "utf8"),
        req.body ?? Buffer.alloc(0),
      ]);
      resolve(rawExchange(port, bytes, REQUEST_TIMEOUT_MS));
      return;
    }
    r.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers as Record<string, string>,
          body: Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    });
    r.on("timeout", () => r.destroy(new Error(`no reply within ${REQUEST_TIMEOUT_MS} ms`)));
    // The server may drop a connection after a 413/431 it could not drain: not a crash.
    r.on("error", (e: NodeJS.ErrnoException) =>
      e.code === "ECONNRESET" || e.code === "EPIPE" ? resolve(undefined) : reject(e),
    );
    r.end(req.body);
  });
}

/** What is wrong with a reply, or undefined. */
function verdict(reply: RawReply | undefined): string | undefined {
  if (reply === undefined || reply.status < 400) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body.toString("utf8"));
  } catch {
    return `${reply.status} with a non-JSON body ${JSON.stringify(reply.body.toString("utf8").slice(0, 200))}`;
  }
  // A handler's failure has Restate's shape: its numeric code, Capstan's code beside it.
  const body = parsed as { code?: unknown; capstanCode?: unknown } | null;
  const code = typeof body?.code === "number" ? body.capstanCode : body?.code;
  if (typeof code !== "string" || !/^[A-Z][A-Z_]+$/.test(code)) return `${reply.status} without a code`;
  if (code === "INTERNAL") return `500 INTERNAL: ${JSON.stringify(parsed)}`;
  return undefined;
}

async function increment(): Promise<void> {
  const reply = await send(portOf("ingress"), {
    listener: "ingress",
    method: "POST",
    path: `/Counter/${ORACLE_KEY}/add`,
    headers: { "content-type": "application/json" },
    body: Buffer.from("1"),
  });
  if (reply?.status !== 200) throw new Error(`oracle increment answered ${reply?.status}`);
}

test(`${REQUESTS} seeded requests (seed ${SEED}): no crash, no INTERNAL, JSON errors, nothing lost`, async () => {
  const random = prng(SEED);
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let increments = 0;
  let next = 0;
  const startedMs = Date.now();
  const report = (done: number): void =>
    appendFileSync(
      REPORT_FILE!,
      JSON.stringify({
        seed: SEED,
        done,
        of: REQUESTS,
        seconds: Math.round((Date.now() - startedMs) / 1000),
        failures: failures.length,
        increments,
        statuses: Object.fromEntries(statuses),
      }) + "\n",
    );
  const worker = async (): Promise<void> => {
    while (next < REQUESTS && failures.length < 20) {
      // Generated in index order (this runs synchronously per claim), never all held at once.
      const index = next++;
      const req = fuzzRequest(random, env.adminToken);
      try {
        const reply = await send(portOf(req.listener), req);
        statuses.set(reply?.status ?? 0, (statuses.get(reply?.status ?? 0) ?? 0) + 1);
        const wrong = verdict(reply);
        if (wrong !== undefined)
          failures.push(`#${index} ${req.method} ${req.listener} ${req.path.slice(0, 120)}: ${wrong}`);
      } catch (e) {
        failures.push(
          `#${index} ${req.method} ${req.listener} ${req.path.slice(0, 120)}: ${(e as Error).message}`,
        );
      }
      if (REPORT_FILE !== undefined && (index + 1) % PROGRESS_EVERY === 0) report(index + 1);
      if (index % ORACLE_EVERY === 0) {
        await increment();
        increments += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  if (REPORT_FILE !== undefined) report(next);
  const reproduce = `FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS} npx jest test/integration/fuzz.test.ts`;
  expect({ failures, reproduce }).toEqual({ failures: [], reproduce });
  const health = await fetch(`${env.adminUrl}/health`);
  expect(health.status).toBe(200);
  const read = await fetch(`${env.ingressUrl}/Counter/${ORACLE_KEY}/get`, { method: "POST" });
  expect(await read.json()).toBe(increments);
  expect(increments).toBeGreaterThan(0);
});
