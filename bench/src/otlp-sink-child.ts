/**
 * `--tracing`: a local OTLP/HTTP receiver that discards what it gets, so the runtime's tracing and
 * metrics export run against a collector without one's cost. Counts requests and bytes and prints
 * them on SIGTERM (in the child's log). Prints `{"url": ...}` on stdout once listening.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

let requests = 0;
let bytes = 0;

const server = http.createServer((req, res) => {
  req.on("data", (chunk: Buffer) => (bytes += chunk.length));
  req.on("end", () => {
    requests += 1;
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + "\n");
});

process.on("SIGTERM", () => {
  process.stderr.write(`otlp sink: ${requests} requests, ${(bytes / 1e6).toFixed(1)} MB\n`);
  process.exit(0);
});
