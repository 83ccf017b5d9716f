import { connect } from "node:net";
import { startHttpServer, type ServerHandle } from "./http-server";
import { sendJson } from "./http-util";
import { MAX_HTTP_HEADER_COUNT } from "./limits";
import { Router } from "./router";

let server: ServerHandle;
const logged: unknown[] = [];

beforeEach(async () => {
  logged.length = 0;
  const router = new Router("TEST").on(["GET", "POST"], "/echo", async ({ req, res }) =>
    sendJson(res, 200, { headers: req.rawHeaders.length / 2 }),
  );
  server = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    router,
    logger: { error: (m, f) => logged.push([m, f]) },
    errorHeaders: { "x-source": "test" },
  });
});

afterEach(async () => {
  await server.close();
});

interface RawReply {
  status: number;
  /** Interim (1xx) status lines received before the reply. */
  interim: string[];
  headers: string;
  body: string;
}

/** Sends raw bytes and reads one reply (after any 1xx interim replies). */
function raw(request: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => socket.write(request));
    let text = "";
    const interim: string[] = [];
    const done = (): void => {
      while (/^HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n/.test(text)) {
        interim.push(text.slice(0, text.indexOf("\r\n")));
        text = text.slice(text.indexOf("\r\n\r\n") + 4);
      }
      if (!text.includes("\r\n\r\n")) return;
      const head = text.slice(0, text.indexOf("\r\n\r\n"));
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1]);
      const body = text.slice(head.length + 4);
      if (Number.isFinite(length) && Buffer.byteLength(body) >= length) {
        socket.destroy();
        resolve({ status: Number(head.split(" ")[1]), interim, headers: head, body: body.slice(0, length) });
      }
    };
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (text.includes("\r\n\r\n")) done();
    });
    socket.on("end", () => reject(new Error(`closed before a full reply: ${JSON.stringify(text)}`)));
    socket.on("error", reject);
  });
}

function headerLines(n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += `x-h${i}: v\r\n`;
  return out;
}

describe("http server: what node:http refuses before a route, as JSON", () => {
  it("answers an HTTP/1.1 request without Host with 400 TEST_MISSING_HOST; HTTP/1.0 may omit it", async () => {
    const missing = await raw("GET /echo HTTP/1.1\r\n\r\n");
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body)).toMatchObject({ code: "TEST_MISSING_HOST" });
    expect(missing.headers).toMatch(/x-source: test/i);
    const old = await raw("GET /echo HTTP/1.0\r\n\r\n");
    expect(old.status).toBe(200);
  });

  it("serves exactly MAX_HTTP_HEADER_COUNT header lines and refuses one more with 431 JSON", async () => {
    const atLimit = await raw(
      `GET /echo HTTP/1.1\r\nHost: h\r\n${headerLines(MAX_HTTP_HEADER_COUNT - 1)}\r\n`,
    );
    expect([atLimit.status, JSON.parse(atLimit.body)]).toEqual([200, { headers: MAX_HTTP_HEADER_COUNT }]);
    // Host last: node:http used to drop the lines past its count, so this looked like a missing Host.
    const over = await raw(`GET /echo HTTP/1.1\r\n${headerLines(MAX_HTTP_HEADER_COUNT)}Host: h\r\n\r\n`);
    expect(over.status).toBe(431);
    expect(JSON.parse(over.body)).toMatchObject({ code: "TEST_HEADERS_TOO_LARGE" });
  });

  it("answers an unsupported Expect with 417 TEST_EXPECTATION_FAILED; 100-continue still works", async () => {
    const bad = await raw("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: foo\r\ncontent-length: 2\r\n\r\nab");
    expect(bad.status).toBe(417);
    expect(JSON.parse(bad.body)).toMatchObject({ code: "TEST_EXPECTATION_FAILED" });
    const good = await raw(
      "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\ncontent-length: 2\r\n\r\nab",
    );
    expect([good.interim, good.status]).toEqual([["HTTP/1.1 100 Continue"], 200]);
  });

  it("answers garbage with 400 TEST_BAD_REQUEST and logs nothing", async () => {
    const reply = await raw("\x00\x01 nonsense\r\n\r\n");
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({ code: "TEST_BAD_REQUEST" });
    expect(logged).toEqual([]);
  });
});
