/**
 * Runtime nodes of one cluster in the test's process, for the cluster tests (cluster-nodes,
 * cluster-query): DynamoDB Local and the S3 stand-in (both started here), one table and one bucket,
 * a 1 s lease, real fences, real membership and real peer HTTP between the nodes. Each node has its
 * own disk for its partitions' state files, as separate machines would. The handlers run in-process
 * (one deployment, registered through the first node); every later node tells them the first node's
 * checkpoint URL. The waits poll conditions, never sleep a guessed time.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createEndpoint, object, type Definition } from "@capstan/sdk";
import { partitionOfTarget } from "@capstan/sdk/protocol";
import { systemClock } from "../../core/clock";
import { startRuntimeNode, type RuntimeNode } from "../../node";
import { loadNodeCredentials, type NodeCredentials } from "../../security/node-credentials";
import type { ClusterInfo } from "../../server/runtime-api";
import { openDynamoDbStores } from "../../storage/dynamodb-stores";
import { startAwsLocal, type AwsLocal } from "../../storage/test-support/aws-local";
import { freshTable } from "../../storage/test-support/dynamodb-fixture";
import { freshBucket } from "../../storage/test-support/s3-fixture";
import { InProcessInvoker } from "../../testing/in-process-invoker";
import { DynamoDbMembershipStore } from "../dynamodb-membership-store";

export const PARTITIONS = 8;
export const LEASE_MS = 1_000;
/** How often conditions are looked at again. */
export const POLL_MS = 50;

/** `add(delta)` returns the key's new count. */
export const counter = object({
  name: "Counter",
  handlers: {
    add: async (ctx, delta: number) => {
      const v = ((await ctx.get<number>("count")) ?? 0) + delta;
      ctx.set("count", v);
      return v;
    },
  },
});

/** A node's GET /cluster (asserted to answer 200). */
export async function clusterInfo(node: RuntimeNode): Promise<ClusterInfo> {
  const res = await fetch(`${node.adminUrl}/cluster`, {
    headers: { authorization: `Bearer ${node.adminToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as ClusterInfo;
}

/**
 * An ingress call; retried while a partition moves (503 with retry-after), as a client would. A
 * status not in `accepted` throws; an empty body is `undefined`.
 */
export async function call(
  node: RuntimeNode,
  urlPath: string,
  body: unknown,
  accepted: number[] = [200, 202],
): Promise<unknown> {
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
    if (!accepted.includes(res.status)) throw new Error(`${urlPath}: ${res.status} ${text}`);
    return text === "" ? undefined : JSON.parse(text);
  }
}

/** The partition of Counter's `key`. */
export const partitionOfKey = (key: string): number =>
  partitionOfTarget({ service: "Counter", handler: "add", key }, undefined, PARTITIONS)!;

/** `count` keys of Counter (`${prefix}-${i}`) whose partitions `nodeId` leads, as `via` reports them. */
export async function keysLedBy(
  nodeId: string,
  via: RuntimeNode,
  count: number,
  prefix = nodeId,
): Promise<string[]> {
  const info = await clusterInfo(via);
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}-${i}`;
    if (info.partitions[partitionOfKey(key)]?.leader === nodeId) keys.push(key);
  }
  return keys;
}

export interface InProcessClusterOptions {
  /** Prefix of the temporary directory holding the nodes' disks and the cluster's secrets. */
  dataDirPrefix: string;
  /** What the in-process handlers serve. */
  services: Definition[];
}

export interface InProcessCluster {
  /** The running nodes by id; a test that stops a node deletes it first (empty: waits give up). */
  readonly nodes: Map<string, RuntimeNode>;
  /**
   * Starts the stand-ins and the first node, registers the services through it, starts the other
   * nodes, and waits until the cluster has settled.
   */
  start(nodeIds: string[]): Promise<void>;
  /** Starts one more node of the cluster. */
  startNode(nodeId: string): Promise<RuntimeNode>;
  /** Polls `condition` until it holds (the test's timeout is the only bound); says what it waits on. */
  waitFor(what: string, condition: () => Promise<boolean> | boolean): Promise<void>;
  /** Every live node sees the same single leader of every partition, and every live node as live. */
  settled(live: string[]): Promise<boolean>;
  /** Closes every node still running (without handing over), the stand-ins and the directory. */
  close(): Promise<void>;
}

export function inProcessCluster(options: InProcessClusterOptions): InProcessCluster {
  let aws: AwsLocal;
  let tableName: string;
  let bucket: string;
  let dataDir: string;
  let credentials: NodeCredentials;
  let invoker: InProcessInvoker;
  const clusterKey = randomBytes(32);
  const nodes = new Map<string, RuntimeNode>();
  let checkpointUrl: string | undefined;

  async function startNode(nodeId: string): Promise<RuntimeNode> {
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
      ...(checkpointUrl !== undefined && { checkpointBaseUrl: checkpointUrl }),
      credentials,
      invoker,
      completedRetentionMs: 3_600_000,
      log: () => undefined,
    });
    nodes.set(nodeId, node);
    return node;
  }

  async function waitFor(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
    for (let polls = 1; ; polls++) {
      if (await condition()) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (nodes.size === 0) throw new Error(`gave up waiting for ${what}`);
      if (process.env.CAPSTAN_TEST_DEBUG !== undefined && polls % 100 === 0) {
        const seen = await Promise.all(
          [...nodes.values()].map((n) => clusterInfo(n).catch((e: unknown) => String(e))),
        );
        process.stderr.write(`still waiting for ${what}: ${JSON.stringify(seen)}\n`);
      }
    }
  }

  async function settled(live: string[]): Promise<boolean> {
    const infos = await Promise.all(live.map((id) => clusterInfo(nodes.get(id)!)));
    const leaders = new Map<number, string>();
    for (const info of infos)
      for (const p of info.partitions)
        if (p.state === "leading") {
          if (leaders.has(p.partition)) return false;
          leaders.set(p.partition, info.nodeId);
        }
    if (leaders.size !== PARTITIONS) return false;
    // Every node knows every leader, and it is live.
    return infos.every(
      (info) =>
        info.partitions.every((p) => leaders.get(p.partition) === p.leader) &&
        live.every((id) => info.nodes.some((n) => n.nodeId === id && n.live)),
    );
  }

  async function start(nodeIds: string[]): Promise<void> {
    aws = await startAwsLocal();
    process.env.AWS_ACCESS_KEY_ID ??= "local";
    process.env.AWS_SECRET_ACCESS_KEY ??= "local";
    tableName = await freshTable(aws.dynamodb);
    bucket = await freshBucket(aws.s3Client);
    dataDir = mkdtempSync(path.join(os.tmpdir(), options.dataDirPrefix));
    // One set of secrets for the whole cluster, as a deployment configures them.
    credentials = loadNodeCredentials(dataDir);
    invoker = new InProcessInvoker(() => 15 * 60_000, credentials.identity);
    const deployment = invoker.add(
      "services",
      createEndpoint(...options.services, { identityKeys: [credentials.identity.publicKey] }),
    );
    // The registry is read at start: register on the first node before the others start.
    const [first, ...others] = nodeIds;
    const a = await startNode(first!);
    checkpointUrl = a.checkpointUrl;
    await a.runtime.registerDeployment(deployment, { force: true });
    await Promise.all(others.map((id) => startNode(id)));
    await waitFor("the cluster to settle", () => settled(nodeIds));
  }

  async function close(): Promise<void> {
    const open = [...nodes.values()];
    nodes.clear();
    for (const node of open) await node.close({ handOver: false }).catch(() => undefined);
    await aws?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }

  return { nodes, start, startNode, waitFor, settled, close };
}
