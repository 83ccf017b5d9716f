/**
 * `cluster` mode: a metering proxy between the runtime nodes and DynamoDB Local, so the bench can
 * count the DynamoDB write units the cluster consumed (issue 14 §6) from outside the node processes.
 * Every write operation (TransactWriteItems, PutItem, UpdateItem, DeleteItem, BatchWriteItem) gets
 * `ReturnConsumedCapacity: TOTAL` when it did not ask, and the `ConsumedCapacity` DynamoDB Local
 * answers is summed per operation. DynamoDB Local accepts any credentials and does not check the
 * request signature, which is why rewriting the body is possible here (it is not against AWS).
 *
 * The upstream (DynamoDB Local's endpoint, chosen by the dev cluster) is written by the nodes'
 * preload (dynamodb-meter-preload.ts) into the file named by BENCH_DYNAMODB_UPSTREAM_FILE before
 * any node sends a request. `GET /__meter` answers the totals. Prints `{"url": ...}` once listening.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";

const WRITE_OPERATIONS = new Set([
  "TransactWriteItems",
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
]);
/** Requests per operation and write units per operation, since the start. */
const requests: Record<string, number> = {};
const writeUnits: Record<string, number> = {};

const upstreamFile = process.env.BENCH_DYNAMODB_UPSTREAM_FILE;
if (upstreamFile === undefined) throw new Error("BENCH_DYNAMODB_UPSTREAM_FILE is not set");
let upstream: URL | undefined;

function upstreamUrl(): URL {
  upstream ??= new URL(readFileSync(upstreamFile!, "utf8").trim());
  return upstream;
}

interface Capacity {
  CapacityUnits?: number;
  WriteCapacityUnits?: number;
}

function unitsOf(consumed: Capacity | Capacity[] | undefined): number {
  if (consumed === undefined) return 0;
  const list = Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce((n, c) => n + (c.WriteCapacityUnits ?? c.CapacityUnits ?? 0), 0);
}

const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  if (req.url === "/__meter") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ requests, writeUnits }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.slice(target.indexOf(".") + 1);
    let body = Buffer.concat(chunks);
    const write = WRITE_OPERATIONS.has(operation);
    if (write) {
      try {
        const parsed = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
        if (parsed.ReturnConsumedCapacity === undefined || parsed.ReturnConsumedCapacity === "NONE") {
          parsed.ReturnConsumedCapacity = "TOTAL";
          body = Buffer.from(JSON.stringify(parsed), "utf8");
        }
      } catch {
        // Not JSON: passed on as it is, for DynamoDB Local to refuse.
      }
    }
    requests[operation] = (requests[operation] ?? 0) + 1;
    const up = upstreamUrl();
    const headers = { ...req.headers, "content-length": String(body.length) };
    const out = http.request(
      { agent, host: up.hostname, port: up.port, method: req.method, path: req.url, headers },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on("data", (c: Buffer) => parts.push(c));
        answer.on("end", () => {
          const text = Buffer.concat(parts);
          if (write && (answer.statusCode ?? 0) < 300) {
            try {
              const parsed = JSON.parse(text.toString("utf8")) as {
                ConsumedCapacity?: Capacity | Capacity[];
              };
              writeUnits[operation] = (writeUnits[operation] ?? 0) + unitsOf(parsed.ConsumedCapacity);
            } catch {
              // Not JSON: nothing to count.
            }
          }
          const back = { ...answer.headers, "content-length": String(text.length) };
          delete back["transfer-encoding"];
          res.writeHead(answer.statusCode ?? 502, back).end(text);
        });
      },
    );
    out.on("error", (e) => res.writeHead(502).end(String(e)));
    out.end(body);
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + "\n");
});

process.on("SIGTERM", () => {
  process.stderr.write(`dynamodb meter: ${JSON.stringify({ requests, writeUnits })}\n`);
  process.exit(0);
});
