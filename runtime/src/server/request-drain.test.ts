import { request as httpRequest, Agent } from "node:http";
import { connect, type Socket } from "node:net";
import { ORPHAN_STOP_DEADLINE_MS } from "../cli/stop-signal";
import { STOP_DEADLINE_MS } from "../dev/node-process";
import { startHttpServer, type ServerHandle } from "./http-server";
import { sendJson } from "./http-util";
import { DRAIN_FLUSH_MS, INGRESS_DRAIN_MS, PEER_DRAIN_MS } from "./request-drain";
import { Router } from "./router";

/** A deadline no test reaches: the drain must end because the requests did. */
const NEVER_MS = 10 * 60_000;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let server: ServerHandle;
/** Resolved by the test: `/hold` answers once it is. */
let release: () => void;
let held: Promise<void>;
/** Resolves each time a `/hold` or `/never` request reached its handler. */
let entered: () => void;
let handlerEntered: Promise<void>;
let neverSignal: AbortSignal | undefined;

beforeEach(async () => {
  held = new Promise((r) => (release = r));
  handlerEntered = new Promise((r) => (entered = r));
  neverSignal = undefined;
  const router = new Router("TEST")
    .on(["GET"], "/quick", async ({ res }) => sendJson(res, 200, { quick: true }))
    .on(["GET"], "/hold", async ({ res }) => {
      entered();
      await held;
      sendJson(res, 200, { held: true });
    })
    .on(["GET"], "/never", async ({ res, signal }) => {
      neverSignal = signal;
      entered();
      await new Promise(() => undefined);
      sendJson(res, 200, { never: true });
    });
  server = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    router,
    logger: { error: () => undefined },
    errorHeaders: { "x-source": "test" },
  });
});

afterEach(async () => {
  release();
  await server.close();
});

function get(path: string, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: server.port, path, ...(agent && { agent }) },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function connected(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

/** Everything the server sends on `socket` until it closes the connection. */
function untilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
    socket.on("close", () => resolve(text));
  });
}

describe("draining a server", () => {
  test("a request in flight gets its real answer, and the connection closes after it", async () => {
    const reply = get("/hold");
    await handlerEntered;
    let drained = false;
    const drain = server.drain(NEVER_MS).then(() => (drained = true));
    // The drain waits for the answer (a condition, not a time).
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    release();
    const answer = await reply;
    expect([answer.status, JSON.parse(answer.body)]).toEqual([200, { held: true }]);
    expect(answer.headers.connection).toBe("close");
    await drain;
    expect(drained).toBe(true);
  });

  test("a new connection is refused; a request arriving on an open one gets 503 NODE_DRAINING", async () => {
    const inFlight = get("/hold");
    await handlerEntered;
    // A request whose headers are half sent when the drain starts: its connection is not idle.
    const socket = await connected();
    const text = untilClosed(socket);
    await new Promise<void>((r) => socket.write("GET /quick HTTP/1.1\r\nHost: x\r\n", () => r()));
    // Those bytes were in the server's socket before this request's connection existed, so once it
    // is answered the server has read them.
    expect((await get("/quick")).status).toBe(200);
    const drain = server.drain(NEVER_MS);
    socket.write("\r\n");
    const refused = await text;
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused).toMatch(/\r\nconnection: close\r\n/i);
    expect(refused).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(refused).toMatch(/\r\nx-source: test\r\n/i);
    expect(JSON.parse(refused.slice(refused.indexOf("\r\n\r\n") + 4))).toMatchObject({
      code: "TEST_NODE_DRAINING",
    });
    // The listener is gone: nothing of a new connection's request could have run here.
    await expect(get("/quick")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    release();
    expect((await inFlight).status).toBe(200);
    await drain;
  });

  test("an idle keep-alive connection does not hold the drain", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await get("/quick", agent)).status).toBe(200);
      const idle = Object.values(agent.freeSockets).flat()[0]!;
      expect(idle.destroyed).toBe(false);
      const closed = new Promise((r) => idle.once("close", r));
      // Nothing in flight: the drain ends as soon as the idle connection is closed, long before
      // its deadline.
      await server.drain(NEVER_MS);
      await closed;
    } finally {
      agent.destroy();
    }
  });

  test("the deadline answers what is still running 503 DRAIN_DEADLINE, never a reset", async () => {
    const reply = get("/never");
    await handlerEntered;
    await server.drain(50);
    const answer = await reply;
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ code: "TEST_DRAIN_DEADLINE" });
    expect(JSON.parse(answer.body).message).toContain("50 ms");
    expect(answer.headers["retry-after"]).toBe("1");
    expect(answer.headers.connection).toBe("close");
    expect(answer.headers["x-source"]).toBe("test");
    // The handler is told to stop waiting.
    expect(neverSignal?.aborted).toBe(true);
  });

  test("a drain is idempotent, and close() after it resolves", async () => {
    const first = server.drain(NEVER_MS);
    expect(server.drain(1)).toBe(first);
    await first;
    await server.close();
  });

  test("close() during a drain drops the connections at once", async () => {
    const reply = get("/never");
    await handlerEntered;
    const drain = server.drain(NEVER_MS);
    await server.close();
    await expect(reply).rejects.toMatchObject({ code: "ECONNRESET" });
    await drain;
  });
});

describe("drain deadlines", () => {
  test("fit, with the hand-over after them, in the dev node's and an orphan's stop deadlines", () => {
    // A budget summed from the constants, not a measured time: at least as long again for the
    // hand-over (snapshots, releases) as the drain may take.
    const handOverBudgetMs = 5_000;
    const stopBudgetMs =
      INGRESS_DRAIN_MS + DRAIN_FLUSH_MS + handOverBudgetMs + PEER_DRAIN_MS + DRAIN_FLUSH_MS;
    expect(stopBudgetMs).toBeLessThanOrEqual(STOP_DEADLINE_MS);
    expect(stopBudgetMs).toBeLessThanOrEqual(ORPHAN_STOP_DEADLINE_MS);
  });
});
