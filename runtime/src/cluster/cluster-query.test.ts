/**
 * SQL over a cluster (`POST /query` on any node): three runtime nodes of one cluster in this process,
 * on DynamoDB Local and the S3 stand-in (both started here), with real peer HTTP between them.
 * Invocations land on partitions led by each node; counts, a GROUP BY, a journal and a state query
 * give the whole cluster's answer from every node. A partition its leader no longer answers for
 * refuses the query (503, retry) on every node — never a partial answer — until it is led again.
 * Everything waits on conditions, never on time.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createEndpoint, object } from "@capstan/sdk";
import { partitionOfTarget } from "@capstan/sdk/protocol";
import { systemClock } from "../core/clock";
import { startRuntimeNode, type RuntimeNode } from "../node";
import { loadNodeCredentials, type NodeCredentials } from "../security/node-credentials";
import type { ClusterInfo } from "../server/runtime-api";
import { openDynamoDbStores } from "../storage/dynamodb-stores";
import { startAwsLocal, type AwsLocal } from "../storage/test-support/aws-local";
import { freshTable } from "../storage/test-support/dynamodb-fixture";
import { freshBucket } from "../storage/test-support/s3-fixture";
import { InProcessInvoker } from "../testing/in-process-invoker";
import { DynamoDbMembershipStore } from "./dynamodb-membership-store";

// DynamoDB Local is a JVM on a shared machine: slow first requests; takeovers wait a lease.
jest.setTimeout(120_000);

const PARTITIONS = 8;
const LEASE_MS = 1_000;
/** How often the conditions below are looked at again. */
const POLL_MS = 50;
const NODE_IDS = ["node-a", "node-b", "node-c"];
/** Keys per node, each on a partition that node leads; every key gets one add through every node. */
const KEYS_PER_NODE = 3;

const counter = object({
  name: "Counter",
  handlers: {
    add: async (ctx, delta: number) => {
      const v = ((await ctx.get<number>("count")) ?? 0) + delta;
      ctx.set("count", v);
      return v;
    },
  },
});

let aws: AwsLocal;
let tableName: string;
let bucket: string;
let dataDir: string;
let credentials: NodeCredentials;
let invoker: InProcessInvoker;
const clusterKey = randomBytes(32);
const nodes = new Map<string, RuntimeNode>();
/** The keys added to, by the node leading their partition when they were chosen. */
const keysOf = new Map<string, string[]>();

async function startNode(nodeId: string, checkpointBaseUrl?: string): Promise<RuntimeNode> {
  const nodeDir = path.join(dataDir, nodeId);
  const stores = await openDynamoDbStores(
    {
      kind: "dynamodb",
      tableName,
      endpoint: aws.ddb.endpoint,
      s3Bucket: bucket,
      s3Endpoint: aws.s3.endpoint,
    },
    { region: "us-east-1", dataDir: nodeDir },
  );
  const node = await startRuntimeNode({
    stores,
    cluster: {
      membership: new DynamoDbMembershipStore({ client: aws.dynamodb, tableName, clock: systemClock }),
      leaseDurationMs: LEASE_MS,
      peerPort: 0,
      clusterKey,
    },
    nodeId,
    dataDir: nodeDir,
    partitions: PARTITIONS,
    host: "127.0.0.1",
    ingressPort: 0,
    adminPort: 0,
    checkpointPort: 0,
    ...(checkpointBaseUrl !== undefined && { checkpointBaseUrl }),
    credentials,
    invoker,
    completedRetentionMs: 3_600_000,
    log: () => undefined,
  });
  nodes.set(nodeId, node);
  return node;
}

async function waitFor(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  for (;;) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (nodes.size === 0) throw new Error(`gave up waiting for ${what}`);
  }
}

async function cluster(node: RuntimeNode): Promise<ClusterInfo> {
  const res = await fetch(`${node.adminUrl}/cluster`, {
    headers: { authorization: `Bearer ${node.adminToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as ClusterInfo;
}

/** Every live node sees the same single leader of every partition, and every live node as live. */
async function settled(live: string[]): Promise<boolean> {
  const infos = await Promise.all(live.map((id) => cluster(nodes.get(id)!)));
  const leaders = new Map<number, string>();
  for (const info of infos)
    for (const p of info.partitions)
      if (p.state === "leading") {
        if (leaders.has(p.partition)) return false;
        leaders.set(p.partition, info.nodeId);
      }
  return (
    leaders.size === PARTITIONS &&
    infos.every(
      (info) =>
        info.partitions.every((p) => leaders.get(p.partition) === p.leader) &&
        live.every((id) => info.nodes.some((n) => n.nodeId === id && n.live)),
    )
  );
}

/** An ingress call; retried while a partition moves (503), as a client would. */
async function call(node: RuntimeNode, urlPath: string, body: unknown): Promise<unknown> {
  for (;;) {
    const res = await fetch(`${node.ingressUrl}${urlPath}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status === 503) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      continue;
    }
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${urlPath}: ${res.status} ${text}`);
    return JSON.parse(text);
  }
}

interface Answer {
  status: number;
  body: { columns?: string[]; rows?: unknown[][]; truncated?: boolean; code?: string };
  retryAfter: string | null;
}

async function query(node: RuntimeNode, sql: string): Promise<Answer> {
  const res = await fetch(`${node.adminUrl}/query`, {
    method: "POST",
    headers: { authorization: `Bearer ${node.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ query: sql }),
  });
  return {
    status: res.status,
    body: (await res.json()) as Answer["body"],
    retryAfter: res.headers.get("retry-after"),
  };
}

const partitionOfKey = (key: string): number =>
  partitionOfTarget({ service: "Counter", handler: "add", key }, undefined, PARTITIONS)!;

/** `count` keys of Counter whose partitions `nodeId` leads, as `via` reports the leaders. */
async function keysLedBy(nodeId: string, via: RuntimeNode, count: number): Promise<string[]> {
  const info = await cluster(via);
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${nodeId}-${i}`;
    if (info.partitions[partitionOfKey(key)]?.leader === nodeId) keys.push(key);
  }
  return keys;
}

/** The four queries and the whole cluster's answers to them, given every key's count of adds. */
function expectations(adds: Map<string, number>): Array<[string, unknown[][]]> {
  const keys = [...adds.keys()].sort();
  const total = [...adds.values()].reduce((a, b) => a + b, 0);
  return [
    ["SELECT count(*) FROM invocations", [[total]]],
    [
      "SELECT key, count(*) FROM invocations WHERE service = 'Counter' GROUP BY key ORDER BY key",
      keys.map((k) => [k, adds.get(k)]),
    ],
    [
      "SELECT kind, count(DISTINCT invocation_id) FROM journal WHERE kind IN ('input', 'getState') GROUP BY kind ORDER BY kind",
      [
        ["getState", total],
        ["input", total],
      ],
    ],
    [
      "SELECT key, value FROM state WHERE service = 'Counter' AND state_key = 'count' ORDER BY key",
      keys.map((k) => [k, String(adds.get(k))]),
    ],
  ];
}

beforeAll(async () => {
  aws = await startAwsLocal();
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  tableName = await freshTable(aws.dynamodb);
  bucket = await freshBucket(aws.s3Client);
  dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-cluster-query-"));
  credentials = loadNodeCredentials(dataDir);
  invoker = new InProcessInvoker(() => 15 * 60_000, credentials.identity);
  const deployment = invoker.add(
    "services",
    createEndpoint(counter, { identityKeys: [credentials.identity.publicKey] }),
  );
  const a = await startNode(NODE_IDS[0]!);
  await a.runtime.registerDeployment(deployment, { force: true });
  await Promise.all(NODE_IDS.slice(1).map((id) => startNode(id, a.checkpointUrl)));
  await waitFor("the cluster to settle", () => settled(NODE_IDS));
  for (const id of NODE_IDS) keysOf.set(id, await keysLedBy(id, a, KEYS_PER_NODE));
}, 180_000);

afterAll(async () => {
  const open = [...nodes.values()];
  nodes.clear();
  for (const node of open) await node.close({ handOver: false }).catch(() => undefined);
  await aws?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("every node answers SQL for the whole cluster: a count, a GROUP BY, the journal and the state", async () => {
  const all = NODE_IDS.map((id) => nodes.get(id)!);
  const adds = new Map<string, number>();
  for (const node of all)
    for (const key of [...keysOf.values()].flat()) {
      await call(node, `/Counter/${key}/add`, 1);
      adds.set(key, (adds.get(key) ?? 0) + 1);
    }
  // The keys' partitions are led by all three nodes: each node's answer needs the other two.
  const leaders = new Set((await cluster(all[0]!)).partitions.map((p) => p.leader));
  for (const id of NODE_IDS) expect(leaders).toContain(id);
  for (const node of all)
    for (const [sql, rows] of expectations(adds)) {
      const answer = await query(node, sql);
      expect([sql, answer.status, answer.body.rows, answer.body.truncated]).toEqual([sql, 200, rows, false]);
    }
});

test("a partition its leader no longer answers for refuses the query on every node until it is led again", async () => {
  const c = nodes.get("node-c")!;
  const p = partitionOfKey(keysOf.get("node-c")![0]!);
  const [sql, whole] = expectations(
    new Map([...keysOf.values()].flat().map((k) => [k, NODE_IDS.length])),
  )[0]!;
  // C stops leading p, while C's claim on it stands: every node still sends p's pages to C.
  await c.runtime.router.release(p);
  for (const id of NODE_IDS) {
    const answer = await query(nodes.get(id)!, sql);
    expect([id, answer.status, answer.body.code]).toEqual([id, 503, "RUNTIME_PARTITION_UNAVAILABLE"]);
    expect(Number(answer.retryAfter)).toBeGreaterThan(0);
  }
  // C leaves: A and B take its partitions over (p from the state its release persisted).
  nodes.delete("node-c");
  await c.close();
  await waitFor("A and B to lead every partition", () => settled(["node-a", "node-b"]));
  for (const id of ["node-a", "node-b"]) {
    const answer = await query(nodes.get(id)!, sql);
    expect([id, answer.status, answer.body.rows]).toEqual([id, 200, whole]);
  }
});
