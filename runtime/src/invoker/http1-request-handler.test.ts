import http from "node:http";
import type { AddressInfo } from "node:net";
import { Http1RequestHandler, MAX_LAMBDA_RESPONSE_BYTES } from "./http1-request-handler";

let server: http.Server;
let port: number;
let received: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[];
const handler = new Http1RequestHandler();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const size = Number(new URL(req.url ?? "/", "http://x").searchParams.get("size") ?? "2");
      res.writeHead(200, { "x-amz-executed-version": "3" });
      res.end(Buffer.alloc(size, 120));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
beforeEach(() => (received = []));
afterAll(async () => {
  handler.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const request = (size: number) => ({
  method: "POST",
  hostname: "127.0.0.1",
  port,
  path: "/2015-03-31/functions/bench%3A3/invocations",
  query: { size: String(size) },
  headers: { "content-type": "application/octet-stream", host: "ignored", "content-length": "99" },
  body: new Uint8Array(Buffer.from('{"a":1}')),
});

describe("Http1RequestHandler (the AWS SDK's transport to the local endpoint)", () => {
  test("sends the SDK's request as built (path, query, headers, body) with its own Host and length", async () => {
    const { response } = await handler.handle(request(2));
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-amz-executed-version"]).toBe("3");
    expect(Buffer.from(response.body).toString()).toBe("xx");
    expect(received[0]).toMatchObject({
      method: "POST",
      url: "/2015-03-31/functions/bench%3A3/invocations?size=2",
      body: '{"a":1}',
    });
    expect(received[0]!.headers["content-length"]).toBe("7");
    expect(received[0]!.headers.host).toBe(`127.0.0.1:${port}`);
  });

  test("takes a response of exactly MAX_LAMBDA_RESPONSE_BYTES and refuses one byte more", async () => {
    const { response } = await handler.handle(request(MAX_LAMBDA_RESPONSE_BYTES));
    expect(response.body.byteLength).toBe(MAX_LAMBDA_RESPONSE_BYTES);
    await expect(handler.handle(request(MAX_LAMBDA_RESPONSE_BYTES + 1))).rejects.toMatchObject({
      code: "HPE_INVALID_RESPONSE",
    });
  });

  test("an AbortSignal bound to the body ends the request", async () => {
    const r = request(2);
    const controller = new AbortController();
    controller.abort();
    handler.bindSignal(r.body, controller.signal);
    await expect(handler.handle(r)).rejects.toMatchObject({ code: "ABORT_ERR" });
    expect(received).toHaveLength(0);
  });
});
