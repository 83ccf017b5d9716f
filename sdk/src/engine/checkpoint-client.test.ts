/**
 * What CheckpointClient puts on the wire, over real HTTP on 127.0.0.1: exactly the golden fixture's
 * headers and body (the runtime's checkpoint-server test accepts the same fixture), so moving the
 * credential on one side only fails a test on both.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import {
  CHECKPOINT_PATH,
  decodeCheckpointRequest,
  HEADER_CHECKPOINT_ATTEMPT_TOKEN,
  HEADER_CHECKPOINT_INVOCATION_ID,
  type CheckpointAck,
} from "../protocol";
import { CheckpointClient } from "./checkpoint-client";

const fixture = JSON.parse(
  readFileSync(path.join(__dirname, "../protocol/fixtures/checkpoint-request.json"), "utf8"),
) as { headers: Record<string, string>; body: Record<string, unknown> };

const ack: CheckpointAck = { type: "checkpoint-ack", protocolVersion: 1, journalLength: 2, completions: [] };

async function capture(
  send: (url: string) => Promise<unknown>,
): Promise<{ headers: IncomingHttpHeaders; body: unknown }> {
  let seen: { headers: IncomingHttpHeaders; body: unknown } | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen = { headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(ack));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await send(`http://127.0.0.1:${port}${CHECKPOINT_PATH}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return seen!;
}

describe("CheckpointClient on the wire", () => {
  const request = decodeCheckpointRequest(fixture.body, {
    invocationId: fixture.headers[HEADER_CHECKPOINT_INVOCATION_ID]!,
    attemptToken: fixture.headers[HEADER_CHECKPOINT_ATTEMPT_TOKEN]!,
  });

  test.each([
    ["its own HTTP/1.1 client", undefined],
    ["an injected fetch", fetch],
  ])("sends the golden fixture's credential headers and body through %s", async (_name, fetchImpl) => {
    const seen = await capture((url) => new CheckpointClient(url, fetchImpl).send(request));
    expect(seen.headers).toMatchObject(fixture.headers);
    expect(seen.headers["content-type"]).toBe("application/json");
    expect(seen.body).toEqual(fixture.body);
  });
});
