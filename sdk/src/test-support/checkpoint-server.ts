import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { CheckpointAck, CheckpointRequest, EntryCompletion } from "../protocol";
import { CHECKPOINT_PATH, checkpointCredentialFrom, decodeCheckpointRequest } from "../protocol";

export type CheckpointResponder = (
  request: CheckpointRequest,
  nth: number,
) => { status: number; body: unknown } | EntryCompletion[];

/**
 * A real HTTP server acting as the runtime's checkpoint endpoint: records every CheckpointRequest
 * (the credential from its headers, the body decoded with the protocol decoder) and answers with
 * `respond` (completions → a 200 ack). A request without the credential headers is a 401.
 */
export async function startCheckpointServer(respond: CheckpointResponder = () => []): Promise<{
  url: string;
  received: CheckpointRequest[];
  close(): Promise<void>;
}> {
  const received: CheckpointRequest[] = [];
  let journalLength = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const credential = checkpointCredentialFrom(req.headers);
      if (credential === undefined) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: "CHECKPOINT_UNAUTHORIZED" }));
        return;
      }
      const checkpoint = decodeCheckpointRequest(
        JSON.parse(Buffer.concat(chunks).toString("utf8")),
        credential,
      );
      received.push(checkpoint);
      const answer = respond(checkpoint, received.length);
      for (const e of checkpoint.entries) journalLength = Math.max(journalLength, e.index + 1);
      const { status, body } = Array.isArray(answer)
        ? {
            status: 200,
            body: {
              type: "checkpoint-ack",
              protocolVersion: 1,
              journalLength,
              completions: answer,
            } satisfies CheckpointAck,
          }
        : answer;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${CHECKPOINT_PATH}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
