/**
 * Measures DynamoDB write units per request of the bench workloads: a runtime node on the DynamoDB
 * store (DynamoDB Local + the S3 stand-in), the bench services as an HTTP deployment, each workload's
 * requests sent by `clients` closed-loop clients, and the write units DynamoDB reported for the log's
 * appends divided by the requests. The numbers for docs/operations.md come from here.
 *
 * Usage: node -r ./test/chaos/support/swc-register.js runtime/src/storage/test-support/dynamodb-write-units.ts [requests] [clients...]
 */
import { serve } from "@capstan/sdk/http";
import { bench, counter } from "../../../../bench/functions/bench/services";
import { clientScripts, WORKLOAD_NAMES } from "../../../../bench/src/workloads";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HttpInvoker } from "../../invoker/http-invoker";
import { loadNodeCredentials } from "../../security/node-credentials";
import { startRuntimeNode } from "../../node";
import { openDynamoDbStores } from "../dynamodb-stores";
import { startDynamoDbLocal } from "./dynamodb-local";
import { startS3StandIn } from "./s3-stand-in";

/** On-demand price of a million write request units (us-east-1). */
const USD_PER_MILLION_WRU = 0.625;

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 300);
  const clientCounts = process.argv.slice(3).map(Number);
  if (clientCounts.length === 0) clientCounts.push(1, 16);
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3StandIn()]);
  const deployment = await serve({ services: [bench, counter], port: 0, host: "127.0.0.1" });
  // The node's credentials and partition state files: the log and snapshots are in DynamoDB and S3.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-write-units-"));
  const stores = await openDynamoDbStores(
    {
      kind: "dynamodb",
      tableName: "write-units",
      endpoint: ddb.endpoint,
      s3Bucket: "write-units",
      s3Endpoint: s3.endpoint,
    },
    { region: "us-east-1", createTable: true, dataDir },
  );
  const credentials = loadNodeCredentials(dataDir);
  const node = await startRuntimeNode({
    dataDir,
    credentials,
    stores,
    partitions: 16,
    host: "127.0.0.1",
    ingressPort: 0,
    adminPort: 0,
    checkpointPort: 0,
    invoker: new HttpInvoker(),
    log: () => undefined,
  });
  try {
    const registered = await fetch(`${node.adminUrl}/deployments`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${credentials.adminToken}` },
      body: JSON.stringify({ uri: deployment.url }),
    });
    if (registered.status !== 201) throw new Error(`register: HTTP ${registered.status}`);
    const rows: string[] = [
      "| workload | clients | WRU per request | records per append | $ per million requests |",
    ];
    rows.push("| --- | --- | --- | --- | --- |");
    for (const clients of clientCounts) {
      for (const workload of WORKLOAD_NAMES) {
        const scripts = clientScripts(workload, `wu${clients}`, clients);
        const before = stores.logStore.stats();
        let sent = 0;
        await Promise.all(
          scripts.map(async (script) => {
            while (sent < requests) {
              sent++;
              const { path, body } = script.next();
              const res = await fetch(node.ingressUrl + path, { method: "POST", body });
              const problem = script.check(res.status, await res.text());
              if (problem !== undefined) throw new Error(`${workload}: ${problem}`);
            }
          }),
        );
        // Let what the requests started finish (timers, outbox deliveries) before reading the counters.
        await new Promise((r) => setTimeout(r, 500));
        const after = stores.logStore.stats();
        const wru = (after.appendWriteUnits - before.appendWriteUnits) / sent;
        const perAppend = (after.records - before.records) / Math.max(1, after.appends - before.appends);
        rows.push(
          `| ${workload} | ${clients} | ${wru.toFixed(1)} | ${perAppend.toFixed(1)} | ${(wru * USD_PER_MILLION_WRU).toFixed(2)} |`,
        );
      }
    }
    process.stdout.write(rows.join("\n") + "\n");
  } finally {
    await node.close();
    await deployment.close();
    await Promise.all([ddb.stop(), s3.stop()]);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
  process.exit(1);
});
