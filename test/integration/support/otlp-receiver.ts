/**
 * A real OTLP/HTTP receiver on 127.0.0.1 (ephemeral port) for the export tests: it answers every POST
 * with 200 and keeps each request's "METHOD path content-type" line and parsed JSON body, so a test
 * can check both what was sent and how.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface OtlpReceiver<Body> {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly received: Array<{ line: string; body: Body }>;
  close(): Promise<void>;
}

export async function startOtlpReceiver<Body>(): Promise<OtlpReceiver<Body>> {
  const received: Array<{ line: string; body: Body }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Body;
      received.push({ line: `${req.method} ${req.url} ${req.headers["content-type"]}`, body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
