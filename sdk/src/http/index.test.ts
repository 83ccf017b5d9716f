/* eslint-disable @typescript-eslint/no-explicit-any -- inference over arbitrary handler signatures needs `any` */
import { request } from "node:http";
import type { DiscoveryResponse, InvokeResponse } from "../protocol";
import { MAX_REQUEST_BYTES } from "../protocol";
import { service } from "../index";
import { invokeRequest, j } from "../test-support/journal-builder";
import type { RunningServer } from "./index";
import { serve } from "./index";

const greeter = service({ name: "Greeter", handlers: { greet: async (_ctx, name: string) => `hi ${name}` } });

function post(
  url: string,
  path: string,
  body: string | Buffer,
  method = "POST",
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString() || "null"),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("HTTP adapter over a real socket", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve({ services: [greeter], port: 0, host: "127.0.0.1" });
  });
  afterAll(() => server.close());

  test("POST /discover and /invoke answer protocol JSON", async () => {
    const d = await post(server.url, "/discover", JSON.stringify({ type: "discover", protocolVersion: 1 }));
    const i = await post(
      server.url,
      "/invoke",
      JSON.stringify(invokeRequest({ service: "Greeter", handler: "greet" }, "x")),
    );
    expect(d.status).toBe(200);
    expect((d.body as DiscoveryResponse).services.map((s) => s.name)).toEqual(["Greeter"]);
    expect(i.status).toBe(200);
    expect((i.body as InvokeResponse).outcome).toEqual({ kind: "completed", value: j("hi x") });
  });

  test("errors are JSON {code, message}: 400 malformed, 413 too large, 404/405 routes", async () => {
    const bad = await post(server.url, "/invoke", "{nope");
    const invalid = await post(server.url, "/invoke", JSON.stringify({ type: "invoke" }));
    const big = await post(server.url, "/invoke", Buffer.alloc(MAX_REQUEST_BYTES + 1, 32));
    const route = await post(server.url, "/nowhere", "{}");
    const method = await post(server.url, "/invoke", "", "GET");
    expect(bad).toEqual({ status: 400, body: { code: "PROTOCOL_BAD_JSON", message: expect.any(String) } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe("PROTOCOL_INVALID_MESSAGE");
    expect(big.status).toBe(413);
    expect(big.body.code).toBe("PROTOCOL_TOO_LARGE");
    expect(route.status).toBe(404);
    expect(method.status).toBe(405);
  });
});
