import {
  DEPLOYMENT_DISCOVER_PATH,
  DEPLOYMENT_INVOKE_PATH,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
} from "@capstan/sdk/protocol";
import { HttpInvoker } from "./http-invoker";
import { InvokeError } from "./invoker";
import type { DeploymentEndpoint } from "./invoker";
import {
  TestServer,
  discoverRequest,
  discoveryResponse,
  invokeRequest,
  invokeResponse,
  json,
} from "./test-support/fixtures";

const never = new AbortController().signal;

async function failure(promise: Promise<unknown>): Promise<InvokeError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InvokeError);
  return e as InvokeError;
}

describe("HttpInvoker", () => {
  const server = new TestServer();
  let endpoint: DeploymentEndpoint;
  const invoker = new HttpInvoker({ maxConcurrency: 4 });
  beforeAll(async () => {
    endpoint = { kind: "http", url: `${await server.start()}/base/` };
  });
  afterAll(() => server.stop());

  it("posts the protocol message as JSON and decodes the answer", async () => {
    server.handler = (req, res) =>
      json(res, 200, req.url.endsWith(DEPLOYMENT_DISCOVER_PATH) ? discoveryResponse : invokeResponse());
    const request = invokeRequest();

    const response = await invoker.invoke(endpoint, request, never);
    const discovery = await invoker.discover(endpoint, discoverRequest, never);

    expect(response).toEqual(invokeResponse(request));
    expect(discovery).toEqual(discoveryResponse);
    const [invokeCall, discoverCall] = server.received.slice(-2);
    expect(invokeCall).toMatchObject({ method: "POST", url: `/base${DEPLOYMENT_INVOKE_PATH}` });
    expect(invokeCall!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(invokeCall!.body.toString())).toEqual(request);
    expect(discoverCall!.url).toBe(`/base${DEPLOYMENT_DISCOVER_PATH}`);
  });

  it("classifies HTTP errors, garbage and protocol violations", async () => {
    server.handler = (_req, res) => json(res, 500, { code: "BOOM", message: "handler crashed" });
    const e500 = await failure(invoker.invoke(endpoint, invokeRequest(), never));
    server.handler = (_req, res) => res.writeHead(404).end("no such path");
    const e404 = await failure(invoker.invoke(endpoint, invokeRequest(), never));
    server.handler = (_req, res) => res.writeHead(200).end("{not json");
    const garbage = await failure(invoker.invoke(endpoint, invokeRequest(), never));
    server.handler = (_req, res) => json(res, 200, { type: "response", protocolVersion: 99 });
    const badVersion = await failure(invoker.invoke(endpoint, invokeRequest(), never));

    expect(e500).toMatchObject({ code: "INVOKE_HTTP_STATUS", retryable: true });
    expect(e500.message).toContain("handler crashed");
    expect(e404).toMatchObject({ code: "INVOKE_NOT_FOUND", retryable: false });
    expect(garbage).toMatchObject({ code: "INVOKE_BAD_RESPONSE", retryable: false });
    expect(garbage.cause).toMatchObject({ code: "PROTOCOL_BAD_JSON" });
    expect(badVersion.cause).toMatchObject({ code: "PROTOCOL_UNSUPPORTED_VERSION" });
  });

  it("accepts a response of exactly MAX_RESPONSE_BYTES and rejects one byte more, declared or streamed", async () => {
    const body = JSON.stringify(invokeResponse());
    const padded = (size: number): Buffer => Buffer.from(body + " ".repeat(size - body.length));
    const streamed = (size: number) => (_req: unknown, res: import("node:http").ServerResponse) => {
      res.writeHead(200, { "content-type": "application/json" }); // chunked: no content-length
      const bytes = padded(size);
      for (let i = 0; i < bytes.length; i += 1 << 20) res.write(bytes.subarray(i, i + (1 << 20)));
      res.end();
    };

    server.handler = streamed(MAX_RESPONSE_BYTES);
    const atLimit = await invoker.invoke(endpoint, invokeRequest(), never);
    server.handler = streamed(MAX_RESPONSE_BYTES + 1);
    const overStreamed = await failure(invoker.invoke(endpoint, invokeRequest(), never));
    server.handler = (_req, res) => res.writeHead(200).end(padded(MAX_RESPONSE_BYTES + 1));
    const overDeclared = await failure(invoker.invoke(endpoint, invokeRequest(), never));

    expect(atLimit.outcome.kind).toBe("completed");
    for (const e of [overStreamed, overDeclared]) {
      expect(e).toMatchObject({ code: "INVOKE_BAD_RESPONSE", retryable: false });
      expect(e.cause).toMatchObject({ code: "PROTOCOL_TOO_LARGE" });
    }
  });

  it("sends a request of exactly MAX_REQUEST_BYTES and refuses one byte more without sending it", async () => {
    const sized = (size: number) => {
      const base = invokeRequest({ headers: { pad: "" } });
      const padding = size - Buffer.byteLength(JSON.stringify(base));
      return invokeRequest({ headers: { pad: "p".repeat(padding) } });
    };
    server.handler = (_req, res) => json(res, 200, invokeResponse());
    const before = server.received.length;

    await invoker.invoke(endpoint, sized(MAX_REQUEST_BYTES), never);
    const tooLarge = await failure(invoker.invoke(endpoint, sized(MAX_REQUEST_BYTES + 1), never));

    expect(server.received.length).toBe(before + 1);
    expect(server.received.at(-1)!.body.length).toBe(MAX_REQUEST_BYTES);
    expect(tooLarge).toMatchObject({ code: "INVOKE_PAYLOAD_TOO_LARGE", retryable: false });
  });

  it("aborts a slow deployment on the caller's signal or its own timeout", async () => {
    const controller = new AbortController();
    server.handler = () => controller.abort(new Error("attempt superseded"));
    const pending = invoker.invoke(endpoint, invokeRequest(), controller.signal);
    const shortTimeout = new HttpInvoker({ requestTimeoutMs: 10 });

    const byCaller = await failure(pending);
    const byTimeout = await failure(shortTimeout.invoke(endpoint, invokeRequest(), never));

    expect(byCaller).toMatchObject({ code: "INVOKE_TIMEOUT", retryable: true });
    expect(byCaller.message).toContain("attempt superseded");
    expect(byTimeout).toMatchObject({ code: "INVOKE_TIMEOUT", retryable: true });
    expect(byTimeout.message).toContain("10 ms");
  });

  it("never follows a redirect: the registered endpoint answers itself or the request fails", async () => {
    const elsewhere = new TestServer();
    const target = await elsewhere.start();
    elsewhere.handler = (_req, res) => json(res, 200, discoveryResponse);
    const outcomes: unknown[] = [];
    try {
      for (const status of [303, 307]) {
        server.handler = (_req, res) => res.writeHead(status, { location: `${target}/discover` }).end();
        const discovery = await invoker.discover(endpoint, discoverRequest, never).catch((e: unknown) => e);
        const invoke = await invoker.invoke(endpoint, invokeRequest(), never).catch((e: unknown) => e);
        outcomes.push([status, discovery instanceof InvokeError, invoke instanceof InvokeError]);
      }
    } finally {
      await elsewhere.stop();
    }
    expect(outcomes).toEqual([
      [303, true, true],
      [307, true, true],
    ]);
    expect(elsewhere.received).toEqual([]);
  });

  it("reports a refused connection as a retryable network error and a full queue as throttling", async () => {
    const closed = new TestServer();
    const url = await closed.start();
    await closed.stop();
    server.handler = () => undefined;
    const tiny = new HttpInvoker({ maxConcurrency: 1, maxWaiting: 0, requestTimeoutMs: 10 });

    const refused = await failure(invoker.invoke({ kind: "http", url }, invokeRequest(), never));
    const hanging = tiny.invoke(endpoint, invokeRequest(), never);
    const overloaded = await failure(tiny.invoke(endpoint, invokeRequest(), never));

    expect(refused).toMatchObject({ code: "INVOKE_NETWORK", retryable: true });
    expect(refused.message).toContain("ECONNREFUSED");
    expect(overloaded).toMatchObject({ code: "INVOKE_THROTTLED", retryable: true });
    expect(await failure(hanging)).toMatchObject({ code: "INVOKE_TIMEOUT" });
    expect(tiny.load).toEqual({ inFlight: 0, waiting: 0 });
  });
});
