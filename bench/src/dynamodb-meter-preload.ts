/**
 * `cluster` mode: loaded with `-r` into `capstan dev --nodes` (the dev cluster starts its nodes
 * with the same Node.js flags, so each node loads it too). In a node (CAPSTAN_STORE=dynamodb), it
 * points the DynamoDB client at the bench's metering proxy (dynamodb-meter-child.ts) and writes the
 * real DynamoDB Local endpoint where the proxy reads it, before the node reads its configuration.
 * Anywhere else (the dev process, worker threads) it does nothing. No runtime code changes for it.
 */
import { writeFileSync } from "node:fs";

const meter = process.env.BENCH_DYNAMODB_METER_URL;
const upstreamFile = process.env.BENCH_DYNAMODB_UPSTREAM_FILE;
const real = process.env.CAPSTAN_DYNAMODB_ENDPOINT;
if (process.env.CAPSTAN_STORE === "dynamodb" && meter && upstreamFile && real && real !== meter) {
  writeFileSync(upstreamFile, real);
  process.env.CAPSTAN_DYNAMODB_ENDPOINT = meter;
}
