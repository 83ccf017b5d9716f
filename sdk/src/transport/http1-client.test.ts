import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import type { Http1Request } from "./http1-client";
import { Http1Client, Http1Error, MAX_IDLE_SOCKETS, MAX_RESPONSE_HEAD_BYTES } from "./http1-client";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A node:http server; `connections` counts accepted TCP connections. */
async function httpServer(
  handler: (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void,
) {
  const state = { port: 0, connections: 0, bodies: [] as Buffer[], onClose: (): void => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      state.bodies.push(body);
      handler(req, body, res);
    });
  });
  server.on("connection", (socket: net.Socket) => {
    state.connections++;
    socket.on("close", () => state.onClose());
  });
  state.port = await listen(server);
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}

/**
 * A raw TCP server that hands every request head (bodies are not expected) to `onRequest`, with its
 * 0-based position on its connection; `connections` holds the heads received on each connection.
 */
async function rawServer(onRequest: (socket: net.Socket, nth: number, head: string) => void) {
  const state = { port: 0, connections: [] as string[][] };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const heads: string[] = [];
    state.connections.push(heads);
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    let buffered = "";
    socket.on("data", (data: Buffer) => {
      buffered += data.toString("latin1");
      for (let end = buffered.indexOf("\r\n\r\n"); end >= 0; end = buffered.indexOf("\r\n\r\n")) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        onRequest(socket, heads.push(head) - 1, head);
      }
    });
  });
  state.port = await listen(server);
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}

function client(port: number): Http1Client {
  const c = new Http1Client("127.0.0.1", port);
  cleanups.push(() => c.close());
  return c;
}

/** timeoutMs stays under jest's 5 s, so a hang shows as ETIMEDOUT rather than a test timeout. */
function get(path: string, extra: Partial<Http1Request> = {}): Http1Request {
  return { method: "GET", path, timeoutMs: 2_000, maxBodyBytes: 1 << 20, ...extra };
}

function ok(body: string, extraHeaders = ""): string {
  return `HTTP/1.1 200 OK\r\n${extraHeaders}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Resolves once the callback it hands out has been called. */
function signalled(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

async function failure(promise: Promise<unknown>): Promise<Http1Error> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(Http1Error);
    return e as Http1Error;
  }
  throw new Error("expected the request to fail");
}

describe("Http1Client", () => {
  test("sequential requests share one keep-alive socket and return status, lower-case headers, body; POST bodies (also > 16 KiB) arrive intact", async () => {
    const server = await httpServer((req, body, res) => {
      res.setHeader("X-Echo-Length", String(body.length));
      res.setHeader("Set-Cookie", ["a=1", "b=2"]);
      res.writeHead(req.method === "POST" ? 201 : 200, "Fine");
      res.end(`${req.method} ${req.url}`);
    });
    const c = client(server.port);
    const big = Buffer.from(Array.from({ length: 40 * 1024 }, (_, i) => i % 251)); // a lost/moved piece shows

    const first = await c.request(get("/one?x=1"));
    const second = await c.request({ ...get("/two"), method: "POST", body: "small body" });
    const third = await c.request({ ...get("/three"), method: "POST", body: new Uint8Array(big) });

    expect(first.status).toBe(200);
    expect(first.reason).toBe("Fine");
    expect(first.headers["x-echo-length"]).toBe("0");
    expect(first.headers["set-cookie"]).toBe("a=1, b=2");
    expect(first.body.toString()).toBe("GET /one?x=1");
    expect(second.status).toBe(201);
    expect(second.body.toString()).toBe("POST /two");
    expect(third.headers["x-echo-length"]).toBe(String(big.length));
    expect(server.bodies[1]!.toString()).toBe("small body");
    expect(server.bodies[2]!.length).toBe(big.length);
    expect(server.bodies[2]!.equals(big)).toBe(true); // toEqual walks 40 K elements slowly
    expect(server.connections).toBe(1);
  });

  test("a chunked response is decoded in full and leaves the socket reusable", async () => {
    const server = await httpServer((req, _body, res) => {
      if (req.url === "/after") return void res.end("after");
      res.write("alpha-");
      res.write("b".repeat(100 * 1024));
      res.write("-");
      res.end("omega");
    });
    const c = client(server.port);

    const res = await c.request(get("/chunked"));
    const after = await c.request(get("/after"));

    expect(res.headers["transfer-encoding"]).toBe("chunked");
    expect(res.body.toString()).toBe(`alpha-${"b".repeat(100 * 1024)}-omega`);
    expect(after.body.toString()).toBe("after");
    expect(server.connections).toBe(1);
  });

  test("a response with neither Content-Length nor chunked encoding is read until the server closes", async () => {
    const server = await rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nfirst part, ");
      socket.end("second part");
    });
    const res = await client(server.port).request(get("/"));
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe("first part, second part");
  });

  test("a 204 answer has an empty body and the socket is reused afterwards", async () => {
    const server = await httpServer((req, _body, res) => {
      res.writeHead(req.url === "/empty" ? 204 : 200);
      res.end(req.url === "/empty" ? undefined : "next");
    });
    const c = client(server.port);

    const empty = await c.request(get("/empty", { timeoutMs: 1_000 }));
    const next = await c.request(get("/next"));

    expect(empty.status).toBe(204);
    expect(empty.body.length).toBe(0);
    expect(next.body.toString()).toBe("next");
    expect(server.connections).toBe(1);
  });

  /** `/length/N` answers N bytes with Content-Length, `/chunked/N` N bytes in two chunks. */
  async function sizedServer() {
    return httpServer((req, _body, res) => {
      const [, mode, n] = req.url!.split("/");
      const body = Buffer.alloc(Number(n), "x");
      if (mode === "chunked") res.write(body.subarray(0, 3));
      res.end(mode === "chunked" ? body.subarray(3) : body);
    });
  }

  test("a response body larger than maxBodyBytes fails with HPE_INVALID_RESPONSE", async () => {
    const c = client((await sizedServer()).port);
    for (const path of ["/length/11", "/chunked/11"]) {
      const e = await failure(c.request(get(path, { maxBodyBytes: 10 })));
      expect(e.code).toBe("HPE_INVALID_RESPONSE");
    }
  });

  test("a response body of exactly maxBodyBytes is accepted", async () => {
    const c = client((await sizedServer()).port);
    const byLength = await c.request(get("/length/10", { maxBodyBytes: 10 }));
    const chunked = await c.request(get("/chunked/10", { maxBodyBytes: 10 }));
    expect(byLength.headers["content-length"]).toBe("10");
    expect(byLength.body).toEqual(Buffer.alloc(10, "x"));
    expect(chunked.headers["transfer-encoding"]).toBe("chunked");
    expect(chunked.body).toEqual(Buffer.alloc(10, "x"));
  });

  test("a response head over MAX_RESPONSE_HEAD_BYTES fails with HPE_INVALID_RESPONSE", async () => {
    const server = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(MAX_RESPONSE_HEAD_BYTES)}\r\n`);
      socket.write("Content-Length: 2\r\n\r\nok");
    });
    const e = await failure(client(server.port).request(get("/")));
    expect(e.code).toBe("HPE_INVALID_RESPONSE");
  });

  test("a response head of exactly MAX_RESPONSE_HEAD_BYTES passes however its terminator is split", async () => {
    // "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: " + padding, ending at exactly the limit.
    const start = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: ";
    const head = start + "a".repeat(MAX_RESPONSE_HEAD_BYTES - start.length);
    const server = await rawServer((socket) => {
      socket.write(`${head}\r\n`);
      setImmediate(() => socket.write("\r\nok"));
    });
    const res = await client(server.port).request(get("/"));
    expect(res.body.toString()).toBe("ok");
    expect(res.headers["x-pad"]).toHaveLength(MAX_RESPONSE_HEAD_BYTES - start.length);
  });

  test("line breaks or non-ASCII in the path or a header fail with ERR_INVALID_CHAR before anything is sent", async () => {
    const server = await httpServer((_req, _body, res) => res.end("ok"));
    const c = client(server.port);
    for (const bad of [
      get("/x", { headers: { "X-Inj": "a\r\nX-Injected: 1" } }),
      get("/x", { headers: { "X-Name": "snow\u2603man" } }),
      get("/caf\u00e9"),
      get("/x", { headers: { "Bad Name": "v" } }),
    ]) {
      const e = await failure(c.request(bad));
      expect(e.code).toBe("ERR_INVALID_CHAR");
    }
    expect(server.connections).toBe(0);
    expect((await c.request(get("/x", { headers: { "X-Ok": "plain ascii\tvalue" } }))).status).toBe(200);
  });

  test("1xx interim answers before the real response are skipped", async () => {
    const server = await rawServer((socket) => {
      socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      socket.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
      socket.write(ok("real", "X-Final: yes\r\n"));
    });
    const res = await client(server.port).request(get("/"));
    expect(res.status).toBe(200);
    expect(res.headers).toEqual({ "x-final": "yes", "content-length": "4" });
    expect(res.body.toString()).toBe("real");
  });

  describe("a reused socket the server closed without answering", () => {
    /** Answers the first request on each connection and drops the connection on the second. */
    async function dropsSecondRequest() {
      return rawServer((socket, nth) => {
        if (nth === 0) socket.write(ok("answer"));
        else socket.destroy();
      });
    }

    test("is retried once on a new connection (not another idle one) when retryStale is set", async () => {
      const server = await dropsSecondRequest();
      const c = client(server.port);
      // Two idle sockets, both of which the server will drop on their next request.
      await Promise.all([c.request(get("/warm-a")), c.request(get("/warm-b"))]);
      const res = await c.request(get("/second"), true);
      expect(res.body.toString()).toBe("answer");
      expect(server.connections.length).toBe(3);
      expect(server.connections.slice(0, 2).map((heads) => heads.length)).toContain(2);
      expect(server.connections[2]).toEqual([expect.stringMatching(/^GET \/second HTTP\/1\.1\r\n/)]);
    });

    test("fails with ECONNRESET marked staleSocket without retryStale", async () => {
      const server = await dropsSecondRequest();
      const c = client(server.port);
      await c.request(get("/first"));
      const e = await failure(c.request(get("/second")));
      expect(e).toMatchObject({ code: "ECONNRESET", staleSocket: true });
      expect(server.connections.length).toBe(1);
    });
  });

  test("a server that never answers fails the request with ETIMEDOUT after timeoutMs", async () => {
    const server = await rawServer(() => {});
    const started = performance.now();
    const e = await failure(client(server.port).request(get("/", { timeoutMs: 200 })));
    expect(e.code).toBe("ETIMEDOUT");
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(server.connections.length).toBe(1);
  });

  test("aborting the signal mid-request fails it with ABORT_ERR and closes the socket", async () => {
    const arrived = signalled();
    const closed = signalled();
    const server = await rawServer((socket) => {
      socket.on("close", closed.fire);
      arrived.fire();
    });
    const controller = new AbortController();
    // A long timeout: only the abort may close the socket before jest gives up.
    const pending = failure(
      client(server.port).request(get("/", { signal: controller.signal, timeoutMs: 60_000 })),
    );
    await arrived.promise;
    const reason = new Error("caller gave up");
    controller.abort(reason);
    const e = await pending;
    expect(e.code).toBe("ABORT_ERR");
    expect(e.cause).toBe(reason);
    await closed.promise;
  });

  test("an already-aborted signal fails with ABORT_ERR without sending anything", async () => {
    const server = await rawServer((socket) => socket.write(ok("fine")));
    const c = client(server.port);
    const e = await failure(c.request(get("/aborted", { signal: AbortSignal.abort() })));
    expect(e.code).toBe("ABORT_ERR");
    // A later request's connection is accepted after any the aborted one would have opened.
    await c.request(get("/later"));
    expect(server.connections.length).toBe(1);
    expect(server.connections[0]![0]).toMatch(/^GET \/later /);
  });

  test("connecting to a closed port fails with ECONNREFUSED", async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const e = await failure(client(port).request(get("/")));
    expect(e).toMatchObject({ code: "ECONNREFUSED", staleSocket: false });
  });

  test("after a burst, MAX_IDLE_SOCKETS sockets are kept for reuse and the one beyond is closed", async () => {
    let closed = 0;
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = await httpServer((_req, _body, res) => void gate.then(() => res.end("ok")));
    const c = client(server.port);
    const burst = Array.from({ length: MAX_IDLE_SOCKETS + 1 }, () => c.request(get("/")));
    while (server.connections < MAX_IDLE_SOCKETS + 1) await new Promise((r) => setTimeout(r, 5));
    server.onClose = () => closed++;
    release();
    expect((await Promise.all(burst)).every((r) => r.status === 200)).toBe(true);
    while (closed < 1) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(1);
    // The kept sockets serve the next burst: no new connection.
    await Promise.all(Array.from({ length: MAX_IDLE_SOCKETS }, () => c.request(get("/"))));
    expect(server.connections).toBe(MAX_IDLE_SOCKETS + 1);
  });

  test("a socket idle longer than its idle time is not reused; a younger one is", async () => {
    const server = await httpServer((_req, _body, res) => res.end("ok"));
    const c = new Http1Client("127.0.0.1", server.port, 100);
    cleanups.push(() => c.close());
    await c.request(get("/"));
    await c.request(get("/"));
    expect(server.connections).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    await c.request(get("/"));
    expect(server.connections).toBe(2);
  });

  test("close() fails a request in flight with ECONNRESET", async () => {
    const arrived = signalled();
    const server = await rawServer(arrived.fire);
    const c = client(server.port);
    const pending = failure(c.request(get("/")));
    await arrived.promise;
    c.close();
    const e = await pending;
    expect(e.code).toBe("ECONNRESET");
    expect(e.staleSocket).toBe(false);
  });

  test("after a response with Connection: close the next request opens a new connection", async () => {
    // The server keeps the socket open, so only the client's own decision keeps it from reuse.
    const server = await rawServer((socket) => socket.write(ok("bye", "Connection: close\r\n")));
    const c = client(server.port);
    const first = await c.request(get("/first"));
    const second = await c.request(get("/second"));
    expect([first.body.toString(), second.body.toString()]).toEqual(["bye", "bye"]);
    expect(server.connections.map((heads) => heads.length)).toEqual([1, 1]);
  });
});
