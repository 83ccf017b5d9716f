/**
 * Partition state moves between nodes as shipped SQLite files (CAPSTAN_STORE=dynamodb): node A, on
 * its own data directory, DynamoDB Local and the S3 stand-in, takes counter updates through the
 * ingress until one partition has snapshotted its state file to S3 and trimmed its log below it; A
 * stops; node B, on a different and empty data directory, opens the same table and bucket and must
 * serve every key's value and every retained invocation exactly (counts, not timings). The trimmed
 * partition's state can only come from the S3 snapshot, the others' only from the log.
 */
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createEndpoint, object } from "@capstan/sdk";
import { createHttpHandler } from "@capstan/sdk/http";
import { partitionOfTarget } from "@capstan/sdk/protocol";
import { HttpInvoker, startRuntimeNode, type RuntimeNode } from "@capstan/runtime";
import { SNAPSHOT_EVERY_RECORDS } from "../../runtime/src/partition/partition-processor";
import { loadNodeCredentials } from "../../runtime/src/security/node-credentials";
import { openDynamoDbStores } from "../../runtime/src/storage/dynamodb-stores";
import { S3SnapshotStore } from "../../runtime/src/storage/s3-snapshot-store";
import { localDynamoDbClient } from "../../runtime/src/storage/test-support/dynamodb-fixture";
import { localS3Client } from "../../runtime/src/storage/test-support/s3-fixture";
import {
  startDynamoDbLocal,
  type DynamoDbLocal,
} from "../../runtime/src/storage/test-support/dynamodb-local";
import { startS3StandIn, type S3StandIn } from "../../runtime/src/storage/test-support/s3-stand-in";
import { AdminClient, UNFINISHED_STATUSES } from "../chaos/support/admin-client";

/**
 * Many partitions: the processor staggers their snapshot points (partition p snapshots first after
 * SNAPSHOT_EVERY_RECORDS × (1 − p/partitions) records), so the last one snapshots after a few hundred.
 */
const PARTITIONS = 32;
const SHIPPED = PARTITIONS - 1;
const RECORDS_TO_SNAPSHOT =
  SNAPSHOT_EVERY_RECORDS - Math.floor((SHIPPED * SNAPSHOT_EVERY_RECORDS) / PARTITIONS);
/** Keys on the shipped partition, and keys spread over all partitions. */
const SHIPPED_KEYS = 20;
const OTHER_KEYS = 64;
const CLIENTS = 8;
/**
 * Each request writes at least one record: this many are sure to pass the snapshot point. Below the
 * admin API's list limit (1,000), so one page counts the retained invocations.
 */
const MAX_SHIPPED_REQUESTS = RECORDS_TO_SNAPSHOT + 100;
const WAIT_MS = 60_000;
/** Completed invocations are kept (as the runtime's default does), so they can be counted. */
const RETENTION_MS = 60 * 60_000;

jest.setTimeout(180_000);

const tally = object({
  name: "Tally",
  handlers: {
    add: async (ctx, amount: number) => {
      const total = ((await ctx.get<number>("total")) ?? 0) + amount;
      ctx.set("total", total);
      return total;
    },
  },
});

const amountOf = (key: string): number => (key.length % 7) + 1;

let ddb: DynamoDbLocal;
let s3: S3StandIn;
let server: Server;
let handlerUrl: string;
const dirs: string[] = [];
const open: RuntimeNode[] = [];
const clients: Array<{ destroy(): void }> = [];

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3StandIn()]);
  server = createServer(createHttpHandler(createEndpoint(tally)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  handlerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  for (const o of open.reverse()) await o.close().catch(() => undefined);
  for (const c of clients) c.destroy();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await Promise.all([ddb?.stop(), s3?.stop()]);
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-shipping-"));
  dirs.push(dir);
  return dir;
}

async function startNode(dataDir: string, nodeId: string, credentialsDir: string) {
  const stores = await openDynamoDbStores(
    {
      kind: "dynamodb",
      tableName: "shipping",
      endpoint: ddb.endpoint,
      s3Bucket: "shipping",
      s3Endpoint: s3.endpoint,
    },
    { region: "us-east-1", createTable: true, dataDir },
  );
  const node = await startRuntimeNode({
    stores,
    dataDir,
    nodeId,
    // The cluster's shared secrets (one admin token, attempt key and identity for every node).
    credentials: loadNodeCredentials(credentialsDir),
    partitions: PARTITIONS,
    host: "127.0.0.1",
    ingressPort: 0,
    adminPort: 0,
    checkpointPort: 0,
    invoker: new HttpInvoker(),
    completedRetentionMs: RETENTION_MS,
    log: () => undefined,
  });
  open.push(node);
  return { node, stores, admin: new AdminClient(node.adminUrl, credentialsDir) };
}

async function add(node: RuntimeNode, key: string): Promise<number> {
  const res = await fetch(`${node.ingressUrl}/Tally/${key}/add`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(amountOf(key)),
  });
  if (res.status !== 200) throw new Error(`add ${key}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as number;
}

async function waitFor(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const keysOn = (partition: number | undefined, count: number): string[] => {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `key-${i}`;
    const p = partitionOfTarget({ service: "Tally", handler: "add", key }, undefined, PARTITIONS);
    if (partition === undefined ? p !== SHIPPED : p === partition) keys.push(key);
  }
  return keys;
};

test("a node with an empty data directory serves exactly what another node shipped and logged", async () => {
  // Arrange: node A with the deployment registered.
  const credentialsDir = tempDir();
  const a = await startNode(tempDir(), "node-a", credentialsDir);
  await a.admin.registerDeployment(handlerUrl);
  const adds = new Map<string, number>();
  const send = async (keys: string[], until: () => Promise<boolean>, max: number): Promise<number> => {
    let sent = 0;
    let done = false;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (!done && sent < max) {
          const key = keys[sent++ % keys.length]!;
          await add(a.node, key);
          adds.set(key, (adds.get(key) ?? 0) + 1);
          if (await until()) done = true;
        }
      }),
    );
    return sent;
  };

  // Act: load until the shipped partition's state is in S3, its log trimmed below it; other keys too.
  const shippedKeys = keysOn(SHIPPED, SHIPPED_KEYS);
  const otherKeys = keysOn(undefined, OTHER_KEYS);
  const s3Client = localS3Client(s3.endpoint);
  const dynamodb = localDynamoDbClient(ddb.endpoint);
  clients.push(s3Client, dynamodb);
  const snapshots = new S3SnapshotStore({
    s3: s3Client,
    bucket: "shipping",
    dynamodb,
    tableName: "shipping",
  });
  const snapshotted = async () => (await snapshots.list(SHIPPED)).length > 0;
  const sentShipped = await send(shippedKeys, snapshotted, MAX_SHIPPED_REQUESTS);
  expect(await snapshotted()).toBe(true);
  await send(otherKeys, async () => false, OTHER_KEYS * 2);
  await waitFor("the shipped partition's log trimmed", async () => {
    const [first] = await a.stores.logStore.read(SHIPPED, 0, 1);
    return first !== undefined && first.lsn > 1;
  });
  const [snapshot] = await snapshots.list(SHIPPED);
  const [firstKept] = await a.stores.logStore.read(SHIPPED, 0, 1);
  expect(firstKept!.lsn).toBeGreaterThan(1);
  expect(firstKept!.lsn).toBeLessThanOrEqual(snapshot!.lsn + 1); // never trimmed past the snapshot
  await a.node.close();

  // Assert: node B, empty data directory, same table and bucket.
  const bDir = tempDir();
  const b = await startNode(bDir, "node-b", credentialsDir);
  for (const key of [...shippedKeys, ...otherKeys]) {
    const count = adds.get(key) ?? 0;
    expect({ key, state: await b.admin.state("Tally", key) }).toEqual({
      key,
      state: count === 0 ? {} : { total: count * amountOf(key) },
    });
  }
  expect((await b.admin.invocations("completed")).length).toBe(sentShipped + OTHER_KEYS * 2);
  for (const status of UNFINISHED_STATUSES) expect(await b.admin.invocations(status)).toEqual([]);
  expect(fs.existsSync(path.join(bDir, "shipped-state", "shipping", `p${SHIPPED}.db`))).toBe(true);
  // And it serves on: one more add continues from the shipped value.
  const key = shippedKeys[0]!;
  expect(await add(b.node, key)).toBe((adds.get(key)! + 1) * amountOf(key));
});
