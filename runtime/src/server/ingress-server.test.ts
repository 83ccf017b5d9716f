import {
  MAX_HEADERS,
  MAX_HEADERS_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_KEY_LENGTH,
} from "@capstan/sdk/protocol";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { PARTITION_UNAVAILABLE_RETRY_AFTER_MS } from "../partition/partition-errors";
import { RuntimeError } from "../runtime-error";
import { ApiError } from "./api-error";
import { FakeRuntimeApi } from "./test-support/fake-runtime-api";
import { apiKeyVerifier } from "./ingress-auth";
import type { ServerHandle } from "./http-server";
import { startIngressServer } from "./ingress-server";
import { MAX_HTTP_HEADER_BYTES, MAX_INGRESS_BODY_BYTES } from "./limits";

let api: FakeRuntimeApi;
let server: ServerHandle;
let url: string;
const logged: unknown[] = [];

beforeEach(async () => {
  api = new FakeRuntimeApi();
  api.handlers.set("Greeter/greet", (input) => ({
    kind: "value",
    value: JSON.stringify(`Hello ${JSON.parse(input)}`),
  }));
  api.handlers.set("Counter/add", () => ({ kind: "value", value: "1" }));
  logged.length = 0;
  server = await startIngressServer({
    api,
    host: "127.0.0.1",
    port: 0,
    logger: { error: (m, f) => logged.push([m, f]) },
  });
  url = `http://127.0.0.1:${server.port}`;
});

afterEach(async () => {
  await server.close();
});

async function post(path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url + path, {
    method: "POST",
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    ...(body !== undefined && { body }),
  });
}

describe("ingress: calls", () => {
  it("calls a service: submits the input and forwarded headers, replies with the output and x-restate-id", async () => {
    const res = await post("/Greeter/greet", '"Ann"', { "x-trace": "t1", "idempotency-key": "k-1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.text()).toBe('"Hello Ann"');
    expect(res.headers.get("x-restate-id")).toBe("inv_1_fake00000001");
    const submit = api.submits[0]!;
    expect(submit.target).toEqual({ service: "Greeter", handler: "greet" });
    expect(submit.input).toBe('"Ann"');
    expect(submit.idempotencyKey).toBe("k-1");
    expect(submit.delayMs).toBeUndefined();
    expect(submit.headers["x-trace"]).toBe("t1");
    expect(submit.headers["content-type"]).toBe("application/json");
    for (const dropped of ["host", "content-length", "connection", "idempotency-key"]) {
      expect(submit.headers[dropped]).toBeUndefined();
    }
  });

  it("parses object keys (URL-decoded), the /restate/call alias and GET invocations", async () => {
    expect((await post("/Counter/a%2Fb%20c/add", "1")).status).toBe(200);
    expect(api.submits[0]!.target).toEqual({ service: "Counter", key: "a/b c", handler: "add" });
    expect((await post("/restate/call/Counter/k2/add", "1")).status).toBe(200);
    expect(api.submits[1]!.target).toEqual({ service: "Counter", key: "k2", handler: "add" });
    expect((await post("/restate/call/Greeter/greet", '"Bo"')).status).toBe(200);
    const get = await fetch(`${url}/Counter/k3/add`);
    expect(get.status).toBe(200);
    expect(api.submits[3]!.input).toBe("");
  });

  it("replies a terminal failure with its code as status and the failure in the body", async () => {
    api.handlers.set("Greeter/greet", () => ({
      kind: "failure",
      failure: { code: 409, message: "already greeted", name: "TerminalError" },
    }));
    const res = await post("/Greeter/greet", '"Ann"');
    expect(res.status).toBe(409);
    expect(res.headers.get("x-restate-error-source")).toBe("invocation");
    expect(res.headers.get("x-restate-id")).toBe("inv_1_fake00000001");
    expect(await res.json()).toEqual({
      code: 409,
      message: "already greeted",
      metadata: {},
      capstanCode: "INGRESS_INVOCATION_FAILED",
      failure: { code: 409, message: "already greeted", name: "TerminalError" },
    });
    api.handlers.set("Greeter/greet", () => ({ kind: "failure", failure: { code: 0, message: "odd" } }));
    expect((await post("/Greeter/greet", '"Ann"')).status).toBe(500);
  });

  it("replies an empty output with an empty 200", async () => {
    api.handlers.set("Greeter/greet", () => ({ kind: "empty" }));
    const res = await post("/Greeter/greet");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(res.headers.get("content-type")).toBeNull();
    expect(api.submits[0]!.input).toBe("");
  });

  it("aborts awaitResult when the client disconnects during a call", async () => {
    const abort = new AbortController();
    const call = fetch(`${url}/Counter/k/slow`, { method: "POST", body: "1", signal: abort.signal });
    api.services[1]!.handlers.push({ name: "slow", kind: "exclusive" });
    await api.awaitCalled(1);
    const { signal } = api.awaited[0]!;
    expect(signal.aborted).toBe(false);
    const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    abort.abort();
    await expect(call).rejects.toThrow();
    await aborted;
    expect(signal.aborted).toBe(true);
    // The server lives on.
    expect((await post("/Greeter/greet", '"Ann"')).status).toBe(200);
    expect(logged).toEqual([]);
  });
});

describe("ingress: sends", () => {
  it("sends one-way with a delay in Restate's formats and reports Accepted / PreviouslyAccepted", async () => {
    const res = await post("/Greeter/greet/send?delay=1h30m", '"Ann"', { "idempotency-key": "once" });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-restate-id")).toBe("inv_1_fake00000001");
    expect(await res.json()).toEqual({
      invocationId: "inv_1_fake00000001",
      status: "Accepted",
      executionTime: new Date(Date.UTC(2030, 0, 1) + 5_400_000).toISOString(),
    });
    expect(api.submits[0]!.delayMs).toBe(5_400_000);
    const again = await post("/restate/send/Greeter/greet?DELAY=PT10S", '"Ann"', {
      "idempotency-key": "once",
    });
    // The first request's schedule, not one recomputed from this request's delay.
    expect(await again.json()).toEqual({
      invocationId: "inv_1_fake00000001",
      status: "PreviouslyAccepted",
      executionTime: new Date(Date.UTC(2030, 0, 1) + 5_400_000).toISOString(),
    });
    expect(api.submits[1]!.delayMs).toBe(10_000);
    const keyed = await post("/Counter/k/add/send", "1");
    expect(await keyed.json()).toEqual({ invocationId: "inv_1_fake00000002", status: "Accepted" });
    expect(api.submits[2]!.target).toEqual({ service: "Counter", key: "k", handler: "add" });
    expect(api.awaited).toEqual([]);
  });

  it("resolves /{a}/{b}/send by the service's kind, like Restate", async () => {
    expect((await post("/Greeter/greet/send", '"x"')).status).toBe(202);
    expect(api.submits[0]!.target).toEqual({ service: "Greeter", handler: "greet" });
    api.handlers.set("Counter/send", () => ({ kind: "value", value: "2" }));
    const res = await post("/Counter/k/send", "1");
    expect(res.status).toBe(200);
    expect(api.submits[1]!.target).toEqual({ service: "Counter", key: "k", handler: "send" });
  });
});

describe("ingress: attach, output, workflows, awakeables, health", () => {
  it("attaches to and reads the output of an invocation by id (470 while not ready)", async () => {
    const sent = (await (await post("/Counter/k/slow/send", "1")).json()) as { invocationId: string };
    api.services[1]!.handlers.push({ name: "slow", kind: "exclusive" });
    const notReady = await fetch(`${url}/restate/invocation/${sent.invocationId}/output`);
    expect(notReady.status).toBe(470);
    expect(await notReady.json()).toMatchObject({ code: "INGRESS_NOT_READY" });
    const attach = fetch(`${url}/restate/invocation/${sent.invocationId}/attach`);
    await api.awaitCalled(1);
    api.complete(sent.invocationId, { kind: "value", value: '"done"' });
    expect(await (await attach).text()).toBe('"done"');
    const out = await fetch(`${url}/restate/invocation/${sent.invocationId}/output`);
    expect([out.status, await out.text()]).toEqual([200, '"done"']);
    const bad = await fetch(`${url}/restate/invocation/not-an-id/attach`);
    expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([
      400,
      "INGRESS_INVALID_INVOCATION_ID",
    ]);
    const unknown = await fetch(`${url}/restate/invocation/inv_1_fake00009999/output`);
    expect([unknown.status, ((await unknown.json()) as { code: string }).code]).toEqual([
      404,
      "INVOCATION_NOT_FOUND", // the runtime's code, as the real runtime answers
    ]);
  });

  it("submits a workflow and attaches / reads its output by workflow id", async () => {
    const sub = await post("/Signup/wf%201/run/send", '{"email":"a@b"}');
    expect(await sub.json()).toEqual({ invocationId: "inv_1_fake00000001", status: "Accepted" });
    expect(api.submits[0]!.target).toEqual({ service: "Signup", key: "wf 1", handler: "run" });
    expect((await fetch(`${url}/restate/workflow/Signup/wf%201/output`)).status).toBe(470);
    api.complete("inv_1_fake00000001", { kind: "value", value: "true" });
    const attach = await fetch(`${url}/restate/workflow/Signup/wf%201/attach`);
    expect([attach.status, await attach.text()]).toEqual([200, "true"]);
    const missing = await fetch(`${url}/restate/workflow/Signup/nope/attach`);
    expect([missing.status, ((await missing.json()) as { code: string }).code]).toEqual([
      404,
      "INGRESS_WORKFLOW_NOT_FOUND",
    ]);
  });

  it("resolves and rejects awakeables on both paths", async () => {
    const id = "awk_inv_1_abcdefgh_3";
    expect((await post(`/restate/awakeables/${id}/resolve`, '{"ok":true}')).status).toBe(202);
    expect((await post(`/restate/a/${id}/resolve`)).status).toBe(202);
    const rejected = await fetch(`${url}/restate/a/${id}/reject`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "card declined",
    });
    expect(rejected.status).toBe(202);
    expect(api.awakeables).toEqual([
      { id, completion: { kind: "value", value: '{"ok":true}' } },
      { id, completion: { kind: "value", value: "" } },
      { id, completion: { kind: "failure", failure: { code: 500, message: "card declined" } } },
    ]);
    const bad = await post("/restate/a/nope/resolve", "1");
    expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([
      400,
      "INGRESS_INVALID_AWAKEABLE_ID",
    ]);
    const badJson = await post(`/restate/a/${id}/resolve`, "{");
    expect(badJson.status).toBe(400);
  });

  it("reports health", async () => {
    const res = await fetch(`${url}/restate/health`);
    expect([res.status, await res.json()]).toEqual([200, { status: "ok" }]);
    api.health_ = { ...api.health_, status: "starting" };
    expect((await fetch(`${url}/restate/health`)).status).toBe(503);
  });
});

describe("ingress: refusals", () => {
  async function refusal(res: Response): Promise<[number, string]> {
    return [res.status, ((await res.json()) as { code: string }).code];
  }

  it("404s unknown routes and 405s wrong methods with Allow", async () => {
    expect(await refusal(await fetch(`${url}/`))).toEqual([404, "INGRESS_NOT_FOUND"]);
    expect(await refusal(await post("/restate/nope", "1"))).toEqual([404, "INGRESS_NOT_FOUND"]);
    expect(await refusal(await post("/a/b/c/not-send", "1"))).toEqual([404, "INGRESS_NOT_FOUND"]);
    expect(await refusal(await post("/a/b/c/d/e", "1"))).toEqual([404, "INGRESS_NOT_FOUND"]);
    const del = await fetch(`${url}/Greeter/greet`, { method: "DELETE" });
    expect(del.headers.get("allow")).toBe("GET, POST");
    expect(await refusal(del)).toEqual([405, "INGRESS_METHOD_NOT_ALLOWED"]);
    const health = await post("/restate/health", "1");
    expect([health.status, health.headers.get("allow")]).toEqual([405, "GET"]);
    expect(health.headers.get("x-restate-error-source")).toBe("ingress");
  });

  it("400s malformed input: JSON, key, idempotency key, delay, names, percent-encoding", async () => {
    expect(await refusal(await post("/Greeter/greet", "{nope"))).toEqual([400, "INGRESS_BAD_JSON"]);
    // No content-type at all: the body must still be JSON.
    const untyped = new TextEncoder().encode("not json");
    expect(await refusal(await fetch(`${url}/Greeter/greet`, { method: "POST", body: untyped }))).toEqual([
      400,
      "INGRESS_BAD_JSON",
    ]);
    // A declared non-JSON type is passed through as text.
    const text = await fetch(`${url}/Counter/k/add/send`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hi",
    });
    expect(text.status).toBe(202);
    expect(await refusal(await post(`/Counter/${"k".repeat(MAX_KEY_LENGTH + 1)}/add`, "1"))).toEqual([
      400,
      "INGRESS_INVALID_KEY",
    ]);
    expect((await post(`/Counter/${"k".repeat(MAX_KEY_LENGTH)}/add`, "1")).status).toBe(200);
    const longKey = "i".repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1);
    expect(await refusal(await post("/Greeter/greet", "1", { "idempotency-key": longKey }))).toEqual([
      400,
      "INGRESS_INVALID_IDEMPOTENCY_KEY",
    ]);
    expect(await refusal(await post("/Greeter/greet", "1", { "idempotency-key": "a\tb" }))).toEqual([
      400,
      "INGRESS_INVALID_IDEMPOTENCY_KEY",
    ]);
    expect((await post("/Greeter/greet", '"x"', { "idempotency-key": longKey.slice(1) })).status).toBe(200);
    expect(await refusal(await post("/Greeter/greet/send?delay=soon", "1"))).toEqual([
      400,
      "INGRESS_INVALID_DELAY",
    ]);
    expect(await refusal(await post("/Greeter/greet/send?delay=400d", "1"))).toEqual([
      400,
      "INGRESS_INVALID_DELAY",
    ]);
    expect(await refusal(await post("/Greeter/greet?delay=10s", "1"))).toEqual([
      400,
      "INGRESS_DELAY_NOT_SUPPORTED",
    ]);
    expect(await refusal(await post(`/Greeter/${"h".repeat(257)}`, "1"))).toEqual([
      400,
      "INGRESS_INVALID_NAME",
    ]);
    expect(await refusal(await post("/Counter/%E0%A4%A/add", "1"))).toEqual([400, "INGRESS_BAD_PATH"]);
  });

  it("413s a body of limit + 1 bytes and accepts one of exactly the limit", async () => {
    api.handlers.set("Greeter/greet", () => ({ kind: "value", value: "0" }));
    const atLimit = JSON.stringify("a".repeat(MAX_INGRESS_BODY_BYTES - 2));
    expect(Buffer.byteLength(atLimit)).toBe(MAX_INGRESS_BODY_BYTES);
    expect((await post("/Greeter/greet", atLimit)).status).toBe(200);
    const over = JSON.stringify("a".repeat(MAX_INGRESS_BODY_BYTES - 1));
    const res = await post("/Greeter/greet", over);
    expect(await refusal(res)).toEqual([413, "INGRESS_BODY_TOO_LARGE"]);
    expect(api.submits).toHaveLength(1);
  });

  it("431s more than MAX_HEADERS forwarded headers", async () => {
    // fetch adds its own headers (accept, user-agent, ...): fill up to exactly MAX_HEADERS.
    expect((await post("/Greeter/greet", '"a"')).status).toBe(200);
    const own = Object.keys(api.submits[0]!.headers).length;
    const headers: Record<string, string> = {};
    for (let i = 0; i < MAX_HEADERS - own; i++) headers[`x-h${i}`] = "v";
    expect((await post("/Greeter/greet", '"a"', headers)).status).toBe(200);
    headers["x-one-more"] = "v";
    expect(await refusal(await post("/Greeter/greet", '"a"', headers))).toEqual([
      431,
      "INGRESS_HEADERS_TOO_LARGE",
    ]);
  });

  it("431s headers over MAX_HEADERS_BYTES with its code; beyond what node:http parses too, as JSON", async () => {
    expect((await post("/Greeter/greet", '"a"')).status).toBe(200);
    const own = Object.entries(api.submits[0]!.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    const name = "x-big";
    const fill = (n: number) => ({ [name]: "v".repeat(n - name.length) });
    expect((await post("/Greeter/greet", '"a"', fill(MAX_HEADERS_BYTES - own))).status).toBe(200);
    expect(await refusal(await post("/Greeter/greet", '"a"', fill(MAX_HEADERS_BYTES - own + 1)))).toEqual([
      431,
      "INGRESS_HEADERS_TOO_LARGE",
    ]);
    const huge = await post("/Greeter/greet", '"a"', fill(MAX_HTTP_HEADER_BYTES + 1));
    expect(await refusal(huge)).toEqual([431, "INGRESS_HEADERS_TOO_LARGE"]);
    expect(huge.headers.get("x-restate-error-source")).toBe("ingress");
    expect(api.submits).toHaveLength(2);
  });

  it("answers a request it cannot parse with a JSON 400, and keeps serving", async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1", () => socket.end("NOT HTTP AT ALL\r\n\r\n"));
      let text = "";
      socket.on("data", (d: Buffer) => (text += d.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4))).toMatchObject({
      code: "INGRESS_BAD_REQUEST",
    });
    expect((await post("/Greeter/greet", '"a"')).status).toBe(200);
  });

  it("passes runtime ApiErrors through and turns other exceptions into 500 INTERNAL without crashing", async () => {
    expect(await refusal(await post("/Nope/greet", "1"))).toEqual([404, "INGRESS_SERVICE_NOT_FOUND"]);
    expect(await refusal(await post("/Counter/add", "1"))).toEqual([400, "INGRESS_KEY_REQUIRED"]);
    api.failNext = new ApiError(503, "INGRESS_UNAVAILABLE", "draining");
    expect(await refusal(await post("/Greeter/greet", '"a"'))).toEqual([503, "INGRESS_UNAVAILABLE"]);
    api.failNext = new TypeError("boom");
    const res = await post("/Greeter/greet", '"a"');
    expect([res.status, await res.json()]).toEqual([500, { code: "INTERNAL", message: "boom" }]);
    expect(logged).toHaveLength(1);
    expect((await post("/Greeter/greet", '"a"')).status).toBe(200);
  });

  it("maps the runtime's codes to statuses: a stopped partition is a 503 with a retry hint", async () => {
    api.failNext = new RuntimeError("RUNTIME_PARTITION_UNAVAILABLE", "partition 3 is unavailable: stopped", {
      retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS,
    });
    const res = await post("/Greeter/greet", '"a"');
    expect(res.headers.get("retry-after")).toBe(String(PARTITION_UNAVAILABLE_RETRY_AFTER_MS / 1000));
    expect(await refusal(res)).toEqual([503, "RUNTIME_PARTITION_UNAVAILABLE"]);
    api.failNext = new RuntimeError("INVOKE_STALE_ATTEMPT", "superseded");
    expect(await refusal(await post("/Greeter/greet", '"a"'))).toEqual([409, "INVOKE_STALE_ATTEMPT"]);
    api.failNext = new RuntimeError("SOMETHING_NOT_FOUND", "gone");
    expect(await refusal(await post("/Greeter/greet", '"a"'))).toEqual([404, "SOMETHING_NOT_FOUND"]);
  });

  it("survives a client that disconnects mid-body", async () => {
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${url}/Greeter/greet`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": "100" },
      });
      req.on("error", () => resolve());
      req.write('"abc', () => {
        req.destroy();
        resolve();
      });
    });
    expect((await post("/Greeter/greet", '"a"')).status).toBe(200);
    expect(logged).toEqual([]);
  });
});

describe("ingress: lifecycle", () => {
  it("close() ends idle keep-alive connections and pending calls promptly", async () => {
    expect((await post("/Greeter/greet", '"a"')).status).toBe(200); // leaves a keep-alive socket
    api.services[0]!.handlers.push({ name: "slow", kind: "stateless" });
    const pending = fetch(`${url}/Greeter/slow`, { method: "POST", body: "1" }).catch((e: unknown) => e);
    await api.awaitCalled(2);
    const { signal } = api.awaited[1]!;
    const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    await server.close();
    await aborted;
    expect(((await pending) as Error).message).toMatch(/fetch failed/);
    await server.close(); // idempotent
  });
});

describe("ingress: credentials", () => {
  async function refusal(res: Response): Promise<[number, string]> {
    return [res.status, ((await res.json()) as { code: string }).code];
  }

  it("never stores nor forwards credential headers, nor the configured ones", async () => {
    await server.close();
    server = await startIngressServer({ api, host: "127.0.0.1", port: 0, sensitiveHeaders: ["x-session"] });
    url = `http://127.0.0.1:${server.port}`;
    const res = await post("/Greeter/greet", '"a"', {
      authorization: "Bearer secret-1",
      cookie: "sid=secret-2",
      "proxy-authorization": "Basic c2VjcmV0",
      "x-api-key": "secret-3",
      "x-session": "secret-4",
      "x-trace": "kept",
    });
    expect(res.status).toBe(200);
    const headers = api.submits[0]!.headers;
    expect(headers["x-trace"]).toBe("kept");
    expect(JSON.stringify(headers)).not.toMatch(/secret|c2VjcmV0/);
  });

  it("with a verifier: 401 JSON without a known key, on every route but health", async () => {
    await server.close();
    server = await startIngressServer({
      api,
      host: "127.0.0.1",
      port: 0,
      verifier: apiKeyVerifier(["the-key-0123456789"]),
    });
    url = `http://127.0.0.1:${server.port}`;
    const none = await post("/Greeter/greet", '"a"');
    expect(await refusal(none)).toEqual([401, "INGRESS_UNAUTHORIZED"]);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await refusal(await post("/Greeter/greet", '"a"', { "x-api-key": "wrong" }))).toEqual([
      401,
      "INGRESS_UNAUTHORIZED",
    ]);
    // Unknown routes too: a caller without a key learns nothing about what exists.
    expect(await refusal(await post("/nope/x/y/z/w", "1"))).toEqual([401, "INGRESS_UNAUTHORIZED"]);
    expect(await refusal(await fetch(`${url}/restate/invocation/inv_1_fake00000001/output`))).toEqual([
      401,
      "INGRESS_UNAUTHORIZED",
    ]);
    expect(api.submits).toEqual([]);
    expect((await fetch(`${url}/restate/health`)).status).toBe(200);
    const bearer = await post("/Greeter/greet", '"a"', { authorization: "Bearer the-key-0123456789" });
    expect([bearer.status, await bearer.text()]).toEqual([200, '"Hello a"']);
    expect((await post("/Greeter/greet", '"b"', { "x-api-key": "the-key-0123456789" })).status).toBe(200);
    expect(api.submits.map((s) => s.headers.authorization ?? s.headers["x-api-key"])).toEqual([
      undefined,
      undefined,
    ]);
  });
});
