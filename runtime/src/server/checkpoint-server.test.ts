import { CHECKPOINT_PATH, STALE_ATTEMPT_CODE } from "@capstan/sdk/protocol";
import { startCheckpointServer } from "./checkpoint-server";
import { ApiError } from "./api-error";
import { FAKE_ATTEMPT_TOKEN, FakeRuntimeApi } from "./test-support/fake-runtime-api";
import type { ServerHandle } from "./http-server";
import { MAX_CHECKPOINT_BODY_BYTES } from "./limits";

let api: FakeRuntimeApi;
let server: ServerHandle;
let url: string;

beforeEach(async () => {
  api = new FakeRuntimeApi();
  server = await startCheckpointServer({ api, host: "127.0.0.1", port: 0, logger: { error: () => {} } });
  url = `http://127.0.0.1:${server.port}`;
});

afterEach(async () => {
  await server.close();
});

function send(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(url + path, {
    method,
    ...(body !== undefined && {
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  });
}

async function code(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { code: string }).code];
}

const checkpoint = {
  type: "checkpoint",
  protocolVersion: 1,
  invocationId: "inv_1_abcdefgh",
  attemptToken: FAKE_ATTEMPT_TOKEN,
  entries: [{ index: 1, kind: "run", name: "charge-card", result: { kind: "value", value: "1" } }],
  pending: [],
};

describe("checkpoint listener", () => {
  it("decodes an authenticated request and replies with the ack", async () => {
    const res = await send("POST", CHECKPOINT_PATH, checkpoint);
    expect([res.status, await res.json()]).toEqual([200, api.checkpointAck]);
    expect(api.checkpoints[0]).toEqual(checkpoint);
  });

  it("checks the credential before decoding: a bad credential is 401 even for an invalid message", async () => {
    const forged = { ...checkpoint, attemptToken: "a1" };
    expect(await code(await send("POST", CHECKPOINT_PATH, forged))).toEqual([401, "CHECKPOINT_UNAUTHORIZED"]);
    const { attemptToken: _omitted, ...unsigned } = checkpoint;
    expect(await code(await send("POST", CHECKPOINT_PATH, unsigned))).toEqual([
      401,
      "CHECKPOINT_UNAUTHORIZED",
    ]);
    expect(await code(await send("POST", CHECKPOINT_PATH, { ...forged, type: "nope" }))).toEqual([
      401,
      "CHECKPOINT_UNAUTHORIZED",
    ]);
    expect(await code(await send("POST", CHECKPOINT_PATH, "[]"))).toEqual([401, "CHECKPOINT_UNAUTHORIZED"]);
    expect(api.checkpoints).toEqual([]);
  });

  it("maps protocol errors to 400 with their code and lets a stale attempt's 409 through", async () => {
    expect(await code(await send("POST", CHECKPOINT_PATH, "{"))).toEqual([400, "PROTOCOL_BAD_JSON"]);
    expect(await code(await send("POST", CHECKPOINT_PATH, { ...checkpoint, type: "nope" }))).toEqual([
      400,
      "PROTOCOL_INVALID_MESSAGE",
    ]);
    expect(await code(await send("POST", CHECKPOINT_PATH, { ...checkpoint, protocolVersion: 99 }))).toEqual([
      400,
      "PROTOCOL_UNSUPPORTED_VERSION",
    ]);
    api.failNext = new ApiError(409, STALE_ATTEMPT_CODE, "superseded");
    expect(await code(await send("POST", CHECKPOINT_PATH, checkpoint))).toEqual([409, STALE_ATTEMPT_CODE]);
    expect(await code(await send("GET", CHECKPOINT_PATH))).toEqual([405, "CHECKPOINT_METHOD_NOT_ALLOWED"]);
  });

  it("serves nothing but the checkpoint path: admin routes are JSON 404s", async () => {
    for (const [method, path] of [
      ["GET", "/deployments"],
      ["POST", "/deployments"],
      ["GET", "/health"],
      ["POST", "/query"],
      ["GET", "/"],
    ]) {
      expect(await code(await send(method!, path!))).toEqual([404, "CHECKPOINT_NOT_FOUND"]);
    }
    expect(api.registrations).toEqual([]);
  });

  it("accepts a body of exactly MAX_CHECKPOINT_BODY_BYTES and 413s one byte more", async () => {
    const body = JSON.stringify(checkpoint);
    const padded = body + " ".repeat(MAX_CHECKPOINT_BODY_BYTES - body.length);
    expect((await send("POST", CHECKPOINT_PATH, padded)).status).toBe(200);
    expect(await code(await send("POST", CHECKPOINT_PATH, padded + " "))).toEqual([
      413,
      "PROTOCOL_TOO_LARGE",
    ]);
    expect(api.checkpoints).toHaveLength(1);
  });
});
