/**
 * A minimal HTTP/1.1 exchange over a socket, for requests node:http's client would refuse to send
 * (or fix up) and for reading exactly what the server answered.
 */
import { connect } from "node:net";

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Writes `request` as is, reads until the server closes the connection or one whole reply (after any
 * 1xx) has arrived; undefined when the server closed without a reply.
 */
export function rawExchange(
  port: number,
  request: string | Buffer,
  timeoutMs: number,
): Promise<RawReply | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply within ${timeoutMs} ms to ${JSON.stringify(String(request).slice(0, 80))}`));
    }, timeoutMs);
    const finish = (reply: RawReply | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const tryParse = (): RawReply | undefined => {
      for (;;) {
        const end = data.indexOf("\r\n\r\n");
        if (end === -1) return undefined;
        const head = data.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number(head[0]!.split(" ")[1]);
        if (status >= 100 && status < 200) {
          data = data.subarray(end + 4);
          continue;
        }
        const headers: Record<string, string> = {};
        for (const line of head.slice(1)) {
          const colon = line.indexOf(":");
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers["content-length"] ?? NaN);
        const body = data.subarray(end + 4);
        if (!Number.isFinite(length) || body.length < length) return undefined;
        return { status, headers, body: body.subarray(0, length) };
      }
    };
    socket.on("data", (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const reply = tryParse();
      if (reply !== undefined) finish(reply);
    });
    socket.on("close", () => finish(tryParse()));
    socket.on("error", () => undefined); // a reset is answered by `close`
  });
}
