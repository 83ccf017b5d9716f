/**
 * SQL over a cluster (`POST /query` on any node): three runtime nodes of one cluster in this process,
 * on DynamoDB Local and the S3 stand-in (both started here), with real peer HTTP between them.
 * Invocations land on partitions led by each node; counts, a GROUP BY, a journal and a state query
 * give the whole cluster's answer from every node. A partition its leader no longer answers for
 * refuses the query (503, retry) on every node — never a partial answer — until it is led again.
 * Everything waits on conditions, never on time.
 */
import type { RuntimeNode } from "../node";
import {
  call,
  clusterInfo as cluster,
  counter,
  inProcessCluster,
  keysLedBy,
  partitionOfKey,
} from "./test-support/in-process-cluster";

// DynamoDB Local is a JVM on a shared machine: slow first requests; takeovers wait a lease.
jest.setTimeout(120_000);

const NODE_IDS = ["node-a", "node-b", "node-c"];
/** Keys per node, each on a partition that node leads; every key gets one add through every node. */
const KEYS_PER_NODE = 3;

const harness = inProcessCluster({ dataDirPrefix: "capstan-cluster-query-", services: [counter] });
const { nodes, waitFor, settled } = harness;
/** The keys added to, by the node leading their partition when they were chosen. */
const keysOf = new Map<string, string[]>();

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
  await harness.start(NODE_IDS);
  const a = nodes.get(NODE_IDS[0]!)!;
  for (const id of NODE_IDS) keysOf.set(id, await keysLedBy(id, a, KEYS_PER_NODE));
}, 180_000);

afterAll(() => harness.close());

test("every node answers SQL for the whole cluster: a count, a GROUP BY, the journal and the state", async () => {
  const all = NODE_IDS.map((id) => nodes.get(id)!);
  const adds = new Map<string, number>();
  for (const node of all)
    for (const key of [...keysOf.values()].flat()) {
      await call(node, `/Counter/${key}/add`, 1, [200]);
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
