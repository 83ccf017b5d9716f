import { CHECKPOINT_PATH, MAX_VALUE_BYTES } from "@capstan/sdk/protocol";
import { startAdminServer } from "./admin-server";
import { ApiError } from "./api-error";
import { FakeRuntimeApi } from "./test-support/fake-runtime-api";
import { parseRegistrationAllow } from "./registration-allow";
import type { ServerHandle } from "./http-server";
import { MAX_ADMIN_BODY_BYTES, MAX_JSON_DEPTH, MAX_LIST_LIMIT, MAX_LOG_PAGE_LINES } from "./limits";
import { encodeListCursor, MAX_CURSOR_LENGTH } from "../api/invocation-list-order";
import type { InvocationDetail } from "./runtime-api";

const TOKEN = "test-admin-token-0123456789";

let api: FakeRuntimeApi;
let server: ServerHandle;
let url: string;

beforeEach(async () => {
  api = new FakeRuntimeApi();
  server = await startAdminServer({
    api,
    host: "127.0.0.1",
    port: 0,
    adminToken: TOKEN,
    logger: { error: () => {} },
  });
  url = `http://127.0.0.1:${server.port}`;
});

afterEach(async () => {
  await server.close();
});

function send(
  method: string,
  path: string,
  body?: unknown,
  /** null: no Authorization header at all. */
  authorization: string | null = `Bearer ${TOKEN}`,
): Promise<Response> {
  return fetch(url + path, {
    method,
    headers: {
      ...(authorization !== null && { authorization }),
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

async function json(res: Response): Promise<[number, unknown]> {
  return [res.status, await res.json()];
}

async function code(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { code: string }).code];
}

const INVOCATION: InvocationDetail = {
  id: "inv_2_abcdefgh",
  target: { service: "Counter", key: "k", handler: "add" },
  status: "suspended",
  attempt: 1,
  handlerInvocations: 2,
  deploymentId: "dp_1",
  createdAtMs: 1,
  modifiedAtMs: 2,
  journal: [{ index: 0, kind: "input", value: "1" }],
  entryTimes: [
    [1, 1],
    [2, null],
  ],
  awaiting: [1],
  headers: {},
};

describe("admin: health, metrics, deployments, services", () => {
  it("serves health and Prometheus metrics", async () => {
    expect(await json(await send("GET", "/health"))).toEqual([
      200,
      { status: "ok", partitions: 4, version: "0.1.0" },
    ]);
    const metrics = await send("GET", "/metrics");
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await metrics.text()).toContain("capstan_invocations_total 3");
  });

  it("answers /health/ready 503 with the reason until the runtime leads and every gate is open", async () => {
    api.health_ = { status: "starting", partitions: 4, version: "0.1.0" };
    expect(await json(await send("GET", "/health/ready"))).toEqual([
      503,
      { ready: false, status: "starting", reason: "runtime is starting" },
    ]);
    api.health_ = { status: "ok", partitions: 4, version: "0.1.0" };
    api.readinessGates.close("functions", "functions not registered: boom");
    expect(await json(await send("GET", "/health/ready"))).toEqual([
      503,
      { ready: false, status: "ok", reason: "functions not registered: boom" },
    ]);
    api.readinessGates.open("functions");
    expect(await json(await send("GET", "/health/ready"))).toEqual([200, { ready: true, status: "ok" }]);
  });

  it("registers, lists, describes and removes deployments", async () => {
    const created = await send("POST", "/deployments", { uri: "http://localhost:9080", force: true });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      id: "dp_1",
      endpoint: { kind: "http", url: "http://localhost:9080" },
    });
    const lambda = "arn:aws:lambda:eu-west-1:123456789012:function:checkout:3";
    expect((await send("POST", "/deployments", { arn: lambda })).status).toBe(201);
    expect((await send("POST", "/deployments", { arn: "checkout" })).status).toBe(201);
    expect(api.registrations).toEqual([
      { endpoint: { kind: "http", url: "http://localhost:9080" }, force: true },
      { endpoint: { kind: "lambda", arn: lambda }, force: false },
      { endpoint: { kind: "lambda", arn: "checkout" }, force: false },
    ]);
    const [status, list] = await json(await send("GET", "/deployments"));
    expect([status, (list as { deployments: unknown[] }).deployments.length]).toEqual([200, 3]);
    expect(await json(await send("GET", "/deployments/dp_2"))).toEqual([
      200,
      expect.objectContaining({ id: "dp_2" }),
    ]);
    expect(await code(await send("GET", "/deployments/dp_9"))).toEqual([404, "ADMIN_DEPLOYMENT_NOT_FOUND"]);
    expect((await send("DELETE", "/deployments/dp_2")).status).toBe(202);
    expect(api.removed).toEqual(["dp_2"]);
    expect(await code(await send("DELETE", "/deployments/dp_9"))).toEqual([
      404,
      "ADMIN_DEPLOYMENT_NOT_FOUND",
    ]);
  });

  it("refuses malformed deployment registrations", async () => {
    for (const body of [
      {},
      { uri: "http://a", arn: "b" },
      { uri: "ftp://x" },
      { uri: "not a url" },
      { arn: "bad arn!" },
      { uri: 5 },
    ]) {
      expect(await code(await send("POST", "/deployments", body))).toEqual([400, "ADMIN_INVALID_DEPLOYMENT"]);
    }
    expect(await code(await send("POST", "/deployments", { uri: "http://a", extra: 1 }))).toEqual([
      400,
      "ADMIN_INVALID_BODY",
    ]);
    expect(await code(await send("POST", "/deployments", { uri: "http://a", force: "yes" }))).toEqual([
      400,
      "ADMIN_INVALID_BODY",
    ]);
    expect(await code(await send("POST", "/deployments", "{"))).toEqual([400, "ADMIN_BAD_JSON"]);
    expect(await code(await send("POST", "/deployments", "[]"))).toEqual([400, "ADMIN_INVALID_BODY"]);
  });

  it("registers only allow-listed deployments (403, never contacted); loopback and Lambda by default", async () => {
    for (const uri of ["http://elsewhere:9080", "http://169.254.169.254", "https://127.0.0.1:9080"]) {
      expect(await code(await send("POST", "/deployments", { uri, force: true }))).toEqual([
        403,
        "ADMIN_DEPLOYMENT_NOT_ALLOWED",
      ]);
    }
    expect(api.registrations).toEqual([]);
    expect((await send("POST", "/deployments", { uri: "http://127.0.0.1:9080" })).status).toBe(201);
    await server.close();
    server = await startAdminServer({
      api,
      host: "127.0.0.1",
      port: 0,
      registrationAllow: parseRegistrationAllow(["https://*.svc.internal"]),
    });
    url = `http://127.0.0.1:${server.port}`;
    expect((await send("POST", "/deployments", { uri: "https://orders.svc.internal" })).status).toBe(201);
    expect(await code(await send("POST", "/deployments", { arn: "checkout:3" }))).toEqual([
      403,
      "ADMIN_DEPLOYMENT_NOT_ALLOWED",
    ]);
    expect(api.registrations.map((r) => r.endpoint)).toEqual([
      { kind: "http", url: "http://127.0.0.1:9080" },
      { kind: "http", url: "https://orders.svc.internal" },
    ]);
  });

  it("lists and describes services", async () => {
    const [status, body] = await json(await send("GET", "/services"));
    expect([status, (body as { services: Array<{ name: string }> }).services.map((s) => s.name)]).toEqual([
      200,
      ["Greeter", "Counter", "Signup"],
    ]);
    expect(await json(await send("GET", "/services/Counter"))).toEqual([
      200,
      expect.objectContaining({ kind: "object" }),
    ]);
    expect(await code(await send("GET", "/services/Nope"))).toEqual([404, "ADMIN_SERVICE_NOT_FOUND"]);
  });
});

describe("admin: invocations", () => {
  beforeEach(() => {
    api.invocations = [INVOCATION];
  });

  it("lists with filters and a bounded limit", async () => {
    const [status, body] = await json(
      await send("GET", "/invocations?service=Counter&status=suspended&key=k"),
    );
    expect(status).toBe(200);
    expect((body as { invocations: Array<{ id: string }> }).invocations.map((i) => i.id)).toEqual([
      "inv_2_abcdefgh",
    ]);
    expect((await send("GET", `/invocations?limit=${MAX_LIST_LIMIT}`)).status).toBe(200);
    // One more than the page is read, to know whether another page follows.
    expect(api.filters).toEqual([
      { service: "Counter", status: "suspended", key: "k", limit: 101 },
      { limit: MAX_LIST_LIMIT + 1 },
    ]);
    for (const limit of [String(MAX_LIST_LIMIT + 1), "0", "-1", "1.5", "x"]) {
      expect(await code(await send("GET", `/invocations?limit=${limit}`))).toEqual([
        400,
        "ADMIN_INVALID_LIMIT",
      ]);
    }
    expect(await code(await send("GET", "/invocations?status=weird"))).toEqual([400, "ADMIN_INVALID_STATUS"]);
  });

  it("pages with an opaque cursor after the last listed one, and filters by creation time", async () => {
    api.invocations = [{ ...INVOCATION, id: "inv_2_older000", createdAtMs: 0 }, INVOCATION];
    const [, full] = await json(await send("GET", "/invocations?limit=1"));
    const nextCursor = (full as { nextCursor?: string }).nextCursor!;
    expect(nextCursor).toBe(encodeListCursor({ createdAtMs: 1, id: "inv_2_abcdefgh" }));
    const [, exact] = await json(await send("GET", "/invocations?limit=2"));
    expect(exact).not.toHaveProperty("nextCursor"); // nothing follows a page that holds the rest

    const from = "2026-01-02T03:04:05.000Z";
    await send("GET", `/invocations?cursor=${nextCursor}&from=${from}&to=1767323045001&status=failed`);
    expect(api.filters.at(-1)).toEqual({
      status: "completed",
      outcome: "failed",
      after: { createdAtMs: 1, id: "inv_2_abcdefgh" },
      createdFromMs: Date.parse(from),
      createdToMs: 1767323045001,
      limit: 101,
    });
    const forged = encodeListCursor({ createdAtMs: 1, id: "not-an-id" });
    for (const cursor of ["x", forged, "c1." + "A".repeat(MAX_CURSOR_LENGTH)]) {
      expect(await code(await send("GET", `/invocations?cursor=${cursor}`))).toEqual([
        400,
        "ADMIN_INVALID_CURSOR",
      ]);
    }
    for (const time of ["yesterday", "-5", "1e3"]) {
      expect(await code(await send("GET", `/invocations?from=${time}`))).toEqual([400, "ADMIN_INVALID_TIME"]);
    }
  });

  it("answers an invocation's handler logs, paged and bounded, or where they are", async () => {
    const logs = {
      invocationId: "inv_2_abcdefgh",
      source: "local" as const,
      lines: [{ seq: 4, atMs: 1, attempt: 2, stream: "stdout" as const, text: "hi" }],
      dropped: 0,
    };
    api.logs.set("inv_2_abcdefgh", logs);
    expect(
      await json(await send("GET", `/invocations/inv_2_abcdefgh/logs?after=3&limit=${MAX_LOG_PAGE_LINES}`)),
    ).toEqual([200, logs]);
    await send("GET", "/invocations/inv_2_abcdefgh/logs");
    expect(api.logQueries).toEqual([
      { afterSeq: 3, limit: MAX_LOG_PAGE_LINES },
      { afterSeq: 0, limit: 500 },
    ]);
    const path = "/invocations/inv_2_abcdefgh/logs";
    expect(await code(await send("GET", `${path}?limit=${MAX_LOG_PAGE_LINES + 1}`))).toEqual([
      400,
      "ADMIN_INVALID_LIMIT",
    ]);
    expect(await code(await send("GET", `${path}?after=-1`))).toEqual([400, "ADMIN_INVALID_CURSOR"]);
    expect(await code(await send("GET", "/invocations/inv_2_zzzzzzzz/logs"))).toEqual([
      404,
      "INVOCATION_NOT_FOUND",
    ]);
    expect(await code(await send("GET", "/invocations/bogus/logs"))).toEqual([
      400,
      "ADMIN_INVALID_INVOCATION_ID",
    ]);
  });

  it("describes one invocation with its journal", async () => {
    expect(await json(await send("GET", "/invocations/inv_2_abcdefgh"))).toEqual([200, INVOCATION]);
    expect(await code(await send("GET", "/invocations/inv_2_zzzzzzzz"))).toEqual([
      404,
      "ADMIN_INVOCATION_NOT_FOUND",
    ]);
    expect(await code(await send("GET", "/invocations/bogus"))).toEqual([400, "ADMIN_INVALID_INVOCATION_ID"]);
  });

  it("cancels (202), kills, pauses, resumes and purges (200)", async () => {
    const id = "inv_2_abcdefgh";
    expect(await json(await send("POST", `/invocations/${id}/cancel`))).toEqual([
      202,
      { invocationId: id, action: "cancel" },
    ]);
    for (const action of ["kill", "pause", "resume", "purge"]) {
      expect((await send("POST", `/invocations/${id}/${action}`)).status).toBe(200);
    }
    expect((await send("DELETE", `/invocations/${id}`)).status).toBe(200);
    expect((await send("DELETE", `/invocations/${id}?mode=kill`)).status).toBe(200);
    expect(api.actions.map((a) => a.action)).toEqual([
      "cancel",
      "kill",
      "pause",
      "resume",
      "purge",
      "purge",
      "kill",
    ]);
    expect(await code(await send("DELETE", `/invocations/${id}?mode=pause`))).toEqual([
      400,
      "ADMIN_INVALID_ACTION",
    ]);
    expect(await code(await send("POST", `/invocations/${id}/explode`))).toEqual([404, "ADMIN_NOT_FOUND"]);
    expect(await code(await send("POST", "/invocations/inv_2_zzzzzzzz/kill"))).toEqual([
      404,
      "ADMIN_INVOCATION_NOT_FOUND",
    ]);
    const get = await send("GET", `/invocations/${id}/cancel`);
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
  });
});

describe("admin: state and SQL", () => {
  it("reads state decoded as JSON (raw string fallback) and patches it", async () => {
    api.state.set("Counter/k 1", { count: "3", raw: "not json" });
    expect(await json(await send("GET", "/state/Counter/k%201"))).toEqual([
      200,
      { state: { count: 3, raw: "not json" } },
    ]);
    const patched = await send("PATCH", "/state/Counter/k%201", {
      set: { count: 4, tags: ["a"], nothing: null },
      clear: ["raw"],
    });
    expect(await json(patched)).toEqual([200, { state: { count: 4, tags: ["a"], nothing: null } }]);
    expect(api.patches[0]).toEqual({
      service: "Counter",
      key: "k 1",
      patch: { set: { count: "4", tags: '["a"]', nothing: "null" }, clear: ["raw"], clearAll: false },
    });
    expect(await json(await send("PATCH", "/state/Counter/k%201", { clearAll: true }))).toEqual([
      200,
      { state: {} },
    ]);
  });

  it("refuses malformed patches and oversized values (limit exact is fine)", async () => {
    const p = "/state/Counter/k";
    expect(await code(await send("PATCH", p, { set: [] }))).toEqual([400, "ADMIN_INVALID_BODY"]);
    expect(await code(await send("PATCH", p, { clear: [1] }))).toEqual([400, "ADMIN_INVALID_BODY"]);
    expect(await code(await send("PATCH", p, { clearAll: "yes" }))).toEqual([400, "ADMIN_INVALID_BODY"]);
    expect(await code(await send("PATCH", p, { set: { "": 1 } }))).toEqual([400, "ADMIN_INVALID_STATE_KEY"]);
    expect(await code(await send("PATCH", p, { sett: {} }))).toEqual([400, "ADMIN_INVALID_BODY"]);
    const atLimit = "a".repeat(MAX_VALUE_BYTES - 2); // JSON text: quotes + characters
    expect((await send("PATCH", p, { set: { v: atLimit } })).status).toBe(200);
    expect(await code(await send("PATCH", p, { set: { v: atLimit + "a" } }))).toEqual([
      400,
      "ADMIN_STATE_VALUE_TOO_LARGE",
    ]);
    expect(await code(await send("GET", `/state/${"s".repeat(257)}/k`))).toEqual([400, "ADMIN_INVALID_NAME"]);
  });

  it("bounds JSON nesting at MAX_JSON_DEPTH (400, nothing patched) and shows deeper stored state raw", async () => {
    const nested = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);
    // The body object and `set` take two levels.
    const body = (depth: number): string => `{"set":{"v":${nested(depth - 2)}}}`;
    expect((await send("PATCH", "/state/Counter/k", body(MAX_JSON_DEPTH))).status).toBe(200);
    expect(api.patches).toHaveLength(1);
    expect(await code(await send("PATCH", "/state/Counter/k", body(MAX_JSON_DEPTH + 1)))).toEqual([
      400,
      "ADMIN_JSON_TOO_DEEP",
    ]);
    // 10,000 levels overflowed JSON.stringify's stack: a 500 before the limit existed.
    expect(await code(await send("PATCH", "/state/Counter/k", body(10_000)))).toEqual([
      400,
      "ADMIN_JSON_TOO_DEEP",
    ]);
    expect(api.patches).toHaveLength(1);
    // A handler may store anything: what the reply could not serialize is shown as its text.
    api.state.set("Counter/deep", { v: nested(10_000), ok: "[[1]]" });
    expect(await json(await send("GET", "/state/Counter/deep"))).toEqual([
      200,
      { state: { v: nested(10_000), ok: [[1]] } },
    ]);
  });

  it("runs queries and bounds the admin body at exactly MAX_ADMIN_BODY_BYTES", async () => {
    expect(await json(await send("POST", "/query", { query: "SELECT 1" }))).toEqual([200, api.queryResult]);
    expect(await code(await send("POST", "/query", { query: "" }))).toEqual([400, "ADMIN_INVALID_QUERY"]);
    expect(await code(await send("POST", "/query", { sql: "SELECT 1" }))).toEqual([
      400,
      "ADMIN_INVALID_BODY",
    ]);
    const body = JSON.stringify({ query: "SELECT 1" });
    const padded = body + " ".repeat(MAX_ADMIN_BODY_BYTES - body.length);
    expect((await send("POST", "/query", padded)).status).toBe(200);
    const over = await send("POST", "/query", padded + " ");
    expect([over.status, ((await over.json()) as { code: string }).code]).toEqual([
      413,
      "ADMIN_BODY_TOO_LARGE",
    ]);
    api.failNext = new ApiError(400, "ADMIN_QUERY_NOT_READ_ONLY", "no");
    expect(await code(await send("POST", "/query", { query: "DROP TABLE x" }))).toEqual([
      400,
      "ADMIN_QUERY_NOT_READ_ONLY",
    ]);
  });

  it("404s unknown routes and 405s wrong methods", async () => {
    expect(await code(await send("GET", "/nope"))).toEqual([404, "ADMIN_NOT_FOUND"]);
    const res = await send("PUT", "/deployments");
    expect([res.status, res.headers.get("allow")]).toEqual([405, "POST, GET"]);
  });
});

describe("admin: bearer token", () => {
  it("refuses every route without the token with 401 JSON and WWW-Authenticate, changing nothing", async () => {
    for (const [method, path, body] of [
      ["GET", "/deployments"],
      ["POST", "/deployments", { uri: "http://elsewhere:9080", force: true }],
      ["GET", "/invocations"],
      ["POST", "/invocations/inv_1_abcdefgh/cancel"],
      ["PATCH", "/state/Counter/k", { set: { v: 1 } }],
      ["POST", "/query", { query: "SELECT 1" }],
      ["GET", "/metrics"],
      ["GET", "/no-such-route"],
    ] as Array<[string, string, unknown?]>) {
      for (const authorization of [null, "Bearer wrong-token", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
        const res = await send(method, path, body, authorization);
        expect([method, path, res.status, res.headers.get("www-authenticate")]).toEqual([
          method,
          path,
          401,
          'Bearer realm="capstan-admin"',
        ]);
        expect(((await res.json()) as { code: string }).code).toBe("ADMIN_UNAUTHORIZED");
      }
    }
    expect(api.registrations).toEqual([]);
    expect(api.queries).toEqual([]);
    expect(api.actions).toEqual([]);
    expect(api.patches).toEqual([]);
  });

  it("answers GET /health without a token, and every route with it", async () => {
    expect((await send("GET", "/health", undefined, null)).status).toBe(200);
    expect((await send("GET", "/deployments", undefined, `bearer  ${TOKEN}`)).status).toBe(200);
    // The console's static shell holds no data: it loads without the token, then asks for it.
    for (const shell of ["/", "/ui", "/ui/", "/ui/main.js"])
      expect([shell, (await send("GET", shell, undefined, null)).status]).not.toEqual([shell, 401]);
    expect((await send("GET", "/ui/x/y", undefined, null)).status).toBe(401);
    // The health path is open to GET only: anything else on it still needs the token.
    expect((await send("POST", "/health", {}, null)).status).toBe(401);
  });

  it("no longer serves the checkpoint endpoint: it has its own listener", async () => {
    const res = await send("POST", CHECKPOINT_PATH, {});
    expect(await code(res)).toEqual([404, "ADMIN_NOT_FOUND"]);
  });
});
