import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import path from "node:path";
import {
  CHECKPOINT_PATH,
  HEADER_CHECKPOINT_ATTEMPT_TOKEN,
  HEADER_CHECKPOINT_INVOCATION_ID,
  STALE_ATTEMPT_CODE,
} from "@capstan/sdk/protocol";
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

const credential = {
  [HEADER_CHECKPOINT_INVOCATION_ID]: "inv_1_abcdefgh",
  [HEADER_CHECKPOINT_ATTEMPT_TOKEN]: FAKE_ATTEMPT_TOKEN,
};

function send(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = credential,
): Promise<Response> {
  return fetch(url + path, {
    method,
    headers,
    ...(body !== undefined && {
      headers: { ...headers, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  });
}

async function code(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { code: string }).code];
}

/** The body: everything but the credential, which travels in the headers. */
const checkpoint = {
  type: "checkpoint",
  protocolVersion: 1,
  entries: [{ index: 1, kind: "run", name: "charge-card", result: { kind: "value", value: "1" } }],
  pending: [],
};

describe("checkpoint listener", () => {
  it("decodes an authenticated request and replies with the ack", async () => {
    const res = await send("POST", CHECKPOINT_PATH, checkpoint);
    expect([res.status, await res.json()]).toEqual([200, api.checkpointAck]);
    expect(api.checkpoints[0]).toEqual({
      ...checkpoint,
      invocationId: "inv_1_abcdefgh",
      attemptToken: FAKE_ATTEMPT_TOKEN,
    });
  });

  it("accepts the golden fixture's headers and body, as the SDK sends them", async () => {
    const fixture = JSON.parse(
      readFileSync(
        path.join(__dirname, "../../../sdk/src/protocol/fixtures/checkpoint-request.json"),
        "utf8",
      ),
    ) as { headers: Record<string, string>; body: Record<string, unknown> };
    const seen: unknown[] = [];
    api.authenticateCheckpoint = (invocationId, attemptToken) => {
      seen.push([invocationId, attemptToken]);
      return { partition: 3, invocationId: invocationId as string, attempt: 1, epoch: 1, expiresAtMs: 1e15 };
    };
    const res = await send("POST", CHECKPOINT_PATH, fixture.body, fixture.headers);
    expect(res.status).toBe(200);
    expect(seen).toEqual([
      [fixture.headers[HEADER_CHECKPOINT_INVOCATION_ID], fixture.headers[HEADER_CHECKPOINT_ATTEMPT_TOKEN]],
    ]);
    expect(api.checkpoints[0]).toEqual({
      ...fixture.body,
      invocationId: fixture.headers[HEADER_CHECKPOINT_INVOCATION_ID],
      attemptToken: fixture.headers[HEADER_CHECKPOINT_ATTEMPT_TOKEN],
    });
  });

  it("checks the header credential before reading the body: 401 even for an invalid message", async () => {
    const forged = { ...credential, [HEADER_CHECKPOINT_ATTEMPT_TOKEN]: "a1" };
    expect(await code(await send("POST", CHECKPOINT_PATH, checkpoint, forged))).toEqual([
      401,
      "CHECKPOINT_UNAUTHORIZED",
    ]);
    expect(await code(await send("POST", CHECKPOINT_PATH, "{", forged))).toEqual([
      401,
      "CHECKPOINT_UNAUTHORIZED",
    ]);
    expect(await code(await send("POST", CHECKPOINT_PATH, "[]", forged))).toEqual([
      401,
      "CHECKPOINT_UNAUTHORIZED",
    ]);
    const { [HEADER_CHECKPOINT_ATTEMPT_TOKEN]: _omitted, ...idOnly } = credential;
    expect(await code(await send("POST", CHECKPOINT_PATH, checkpoint, idOnly))).toEqual([
      401,
      "CHECKPOINT_UNAUTHORIZED",
    ]);
    expect(api.checkpoints).toEqual([]);
  });

  it("refuses the earlier form (credential in the body) with a clear error, never as a fallback", async () => {
    const bodyForm = { ...checkpoint, invocationId: "inv_1_abcdefgh", attemptToken: FAKE_ATTEMPT_TOKEN };
    const withoutHeaders = await send("POST", CHECKPOINT_PATH, bodyForm, {});
    expect(withoutHeaders.status).toBe(401);
    expect(await withoutHeaders.json()).toEqual({
      code: "CHECKPOINT_UNAUTHORIZED",
      message: expect.stringContaining(
        `${HEADER_CHECKPOINT_INVOCATION_ID} and ${HEADER_CHECKPOINT_ATTEMPT_TOKEN} headers`,
      ),
    });
    // Both forms at once: the body's copy is refused, not silently ignored.
    const both = await send("POST", CHECKPOINT_PATH, bodyForm);
    expect(both.status).toBe(400);
    expect(await both.json()).toEqual({
      code: "PROTOCOL_INVALID_MESSAGE",
      message: expect.stringMatching(/checkpoint\.invocationId: not allowed in the body/),
    });
    expect(api.checkpoints).toEqual([]);
  });

  it("answers a refused credential with the body unread: 401 while the body is still unsent", async () => {
    const answer = await new Promise<{ status: number; connection: string | undefined; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(url + CHECKPOINT_PATH, {
          method: "POST",
          headers: {
            ...credential,
            [HEADER_CHECKPOINT_ATTEMPT_TOKEN]: "forged",
            "content-type": "application/json",
            "content-length": String(MAX_CHECKPOINT_BODY_BYTES),
          },
        });
        req.on("response", (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
        });
        req.on("error", reject);
        req.flushHeaders(); // headers only: not one byte of the declared body is ever sent
      },
    );
    expect(answer.status).toBe(401);
    expect(answer.connection).toBe("close");
    expect(JSON.parse(answer.body)).toMatchObject({ code: "CHECKPOINT_UNAUTHORIZED" });
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
      expect(await code(await send(method!, path!, undefined, {}))).toEqual([404, "CHECKPOINT_NOT_FOUND"]);
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
