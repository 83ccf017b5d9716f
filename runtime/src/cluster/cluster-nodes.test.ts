/**
 * Three runtime nodes of one cluster, in this process, on DynamoDB Local and the S3 stand-in (both
 * started here) with a 1 s lease: real fences, real membership, real peer HTTP between the nodes. The
 * handlers run in-process; every node tells them one checkpoint URL (node A's), so checkpoints of
 * attempts led by B and C are forwarded too. Everything waits on conditions, never on time.
 */
import { object, service } from "@capstan/sdk";
import { partitionOfInvocationId, parseInvocationId } from "@capstan/sdk/protocol";
import type { RuntimeNode } from "../node";
import {
  LEASE_MS,
  PARTITIONS,
  POLL_MS,
  call,
  clusterInfo as cluster,
  counter,
  inProcessCluster,
  keysLedBy,
} from "./test-support/in-process-cluster";

// DynamoDB Local is a JVM on a shared machine: slow first requests; takeovers wait a lease.
jest.setTimeout(120_000);

const chain = service({
  name: "Chain",
  handlers: {
    /** Adds 1 to each key's counter (objects on several partitions) and returns the new counts' sum. */
    run: async (ctx, keys: string[]) => {
      let sum = 0;
      for (const key of keys) sum += await ctx.objectClient(counter, key).add(1);
      return sum;
    },
  },
});

const waiter = object({
  name: "Waiter",
  handlers: {
    /** Publishes an awakeable's id in its state, then waits for it. */
    wait: async (ctx) => {
      const awk = ctx.awakeable<string>();
      ctx.set("awakeable", awk.id);
      await ctx.run("published", () => awk.id);
      return `got ${await awk.promise}`;
    },
  },
});

const sleeper = service({
  name: "Sleeper",
  handlers: {
    nap: async (ctx, ms: number) => {
      await ctx.sleep(ms);
      return `slept ${ms}`;
    },
  },
});

const harness = inProcessCluster({
  dataDirPrefix: "capstan-cluster-",
  services: [counter, chain, waiter, sleeper],
});
const { nodes, startNode, waitFor, settled } = harness;

async function ready(node: RuntimeNode): Promise<boolean> {
  return (await fetch(`${node.adminUrl}/health/ready`)).status === 200;
}

/** Attaches to an invocation's result; retried while its partition moves (503), as a client would. */
async function attach(node: RuntimeNode, invocationId: string): Promise<unknown> {
  for (;;) {
    const res = await fetch(`${node.ingressUrl}/restate/invocation/${invocationId}/attach`);
    if (res.status === 503) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      continue;
    }
    expect(res.status).toBe(200);
    return res.json();
  }
}

async function admin(node: RuntimeNode, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${node.adminUrl}${path}`, {
    headers: { authorization: `Bearer ${node.adminToken}` },
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** The node leading `partition` as the cluster reports it. */
async function leaderOf(partition: number, via: RuntimeNode): Promise<string | undefined> {
  return (await cluster(via)).partitions.find((p) => p.partition === partition)?.leader;
}

/** A key of `service` whose partition `nodeId` leads now. */
async function keyLedBy(nodeId: string, via: RuntimeNode, prefix: string): Promise<string> {
  return (await keysLedBy(nodeId, via, 1, prefix))[0]!;
}

beforeAll(() => harness.start(["node-a", "node-b", "node-c"]), 180_000);

afterAll(() => harness.close());

test("every partition is led by exactly one node, as each node's GET /cluster and the fences say", async () => {
  const a = nodes.get("node-a")!;
  const info = await cluster(a);
  expect(info.mode).toBe("cluster");
  expect(info.leaseDurationMs).toBe(LEASE_MS);
  expect(info.nodes.map((n) => n.nodeId).sort()).toEqual(["node-a", "node-b", "node-c"]);
  expect(info.nodes.every((n) => n.live && n.pid === process.pid && n.address.startsWith("http://"))).toBe(
    true,
  );
  const held = new Map<number, string>();
  for (const [id, node] of nodes)
    for (const [p, epoch] of node.runtime.cluster!.coordinator.heldPartitions()) {
      expect(held.has(p)).toBe(false);
      held.set(p, id);
      expect(info.partitions[p]).toMatchObject({ leader: id, epoch });
    }
  expect(held.size).toBe(PARTITIONS);
  for (const node of nodes.values()) await waitFor("readiness", () => ready(node));
});

test("each node's /metrics names it on every series and counts only the partitions it holds", async () => {
  const depthSeries: string[] = [];
  for (const [id, node] of nodes) {
    const res = await fetch(`${node.adminUrl}/metrics`, {
      headers: { authorization: `Bearer ${node.adminToken}` },
    });
    expect(res.status).toBe(200);
    const series = (await res.text()).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(series.filter((l) => !l.includes(`node_id="${id}"`))).toEqual([]);
    const partitions = series
      .filter((l) => l.startsWith("capstan_partition_queue_depth{"))
      .map((l) => Number(/partition="(\d+)"/.exec(l)![1]));
    // The partitions it leads (settled above: no partition moves in between).
    expect(partitions.sort((x, y) => x - y)).toEqual(
      [...node.runtime.cluster!.coordinator.heldPartitions().keys()].sort((x, y) => x - y),
    );
    depthSeries.push(...partitions.map(String));
  }
  // Summed over the nodes, every partition is counted once.
  expect(depthSeries.sort()).toEqual(Array.from({ length: PARTITIONS }, (_, p) => String(p)).sort());
});

test("a request for any key sent to any node completes: objects, a cross-partition chain, an awakeable", async () => {
  const all = [...nodes.values()];
  const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
  // Each key's object gets one add through every node: the counts prove each add ran once.
  for (const node of all) for (const key of keys) await call(node, `/Counter/${key}/add`, 1);
  for (const key of keys) expect(await call(all[0]!, `/Counter/${key}/add`, 0)).toBe(3);
  // A chain of calls from one partition to objects on others (outbox delivery across nodes).
  expect(await call(all[1]!, "/Chain/run", keys)).toBe(4 * keys.length);
  // An awakeable created on one node, read through another, completed through the third.
  const sent = (await call(all[0]!, "/Waiter/w1/wait/send", null)) as { invocationId: string };
  let awakeableId: string | undefined;
  await waitFor("the awakeable id", async () => {
    const state = await admin(all[1]!, "/state/Waiter/w1");
    awakeableId = (state.body as { state?: { awakeable?: string } } | undefined)?.state?.awakeable;
    return state.status === 200 && awakeableId !== undefined;
  });
  const id = awakeableId!;
  await call(all[2]!, `/restate/awakeables/${encodeURIComponent(id)}/resolve`, "yes");
  const attached = await fetch(`${all[1]!.ingressUrl}/restate/invocation/${sent.invocationId}/attach`);
  expect(attached.status).toBe(200);
  expect(await attached.json()).toBe("got yes");
  // Lists merge every node's invocations.
  const list = await admin(all[2]!, "/invocations?limit=1000");
  expect((list.body as { invocations: Array<{ id: string }> }).invocations.map((i) => i.id)).toContain(
    sent.invocationId,
  );
  // SQL on a node that leads only some partitions reads the others from their leaders
  // (cluster-query.test.ts covers it in depth).
  const sql = await fetch(`${all[2]!.adminUrl}/query`, {
    method: "POST",
    headers: { authorization: `Bearer ${all[2]!.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ query: `SELECT status FROM invocations WHERE id = '${sent.invocationId}'` }),
  });
  expect(sql.status).toBe(200);
  expect(((await sql.json()) as { rows: unknown[][] }).rows).toEqual([["completed"]]);
});

test("a node stopped without leaving: its partitions are taken over and its accepted invocations finish", async () => {
  const a = nodes.get("node-a")!;
  const c = nodes.get("node-c")!;
  // Sleeps accepted on partitions node C leads (keyless sends through C land on C's partitions).
  const sent: string[] = [];
  for (let i = 0; i < 4; i++)
    sent.push(((await call(c, "/Sleeper/nap/send", 300)) as { invocationId: string }).invocationId);
  for (const id of sent)
    expect(await leaderOf(partitionOfInvocationId(parseInvocationId(id)), a)).toBe("node-c");
  nodes.delete("node-c");
  await c.close({ handOver: false });
  await waitFor("A and B to take C's partitions", () => settled(["node-a", "node-b"]));
  for (const id of sent) expect(await attach(a, id)).toBe("slept 300");
});

test("a graceful leave drains its ingress, hands over at once; the successor serves the partitions", async () => {
  const a = nodes.get("node-a")!;
  const b = nodes.get("node-b")!;
  const key = await keyLedBy("node-b", a, "leave");
  expect(await call(a, `/Counter/${key}/add`, 5)).toBe(5);
  // A sleep on one of B's partitions, attached to through A while B hands it over.
  const nap = (await call(b, "/Sleeper/nap/send", 1_000)) as { invocationId: string };
  const attached = attach(a, nap.invocationId);
  // A call on B's own ingress, in flight when B stops: B drains it before it hands over.
  const inFlight = fetch(`${b.ingressUrl}/Sleeper/nap`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": "drained" },
    body: "300",
  });
  await waitFor("the call to be accepted on B", async () => {
    const id = await b.runtime.idempotentInvocation({ service: "Sleeper", handler: "nap" }, "drained");
    return id !== undefined;
  });
  nodes.delete("node-b");
  await b.close(); // drains, then hands over: finish, snapshot, release, leave
  const drained = await inFlight;
  expect([drained.status, await drained.json()]).toEqual([200, "slept 300"]);
  // Released and left: A takes over on its next tick, with no lease to wait for.
  await waitFor("A to lead everything", () => settled(["node-a"]));
  // B left the membership (seen at A's next tick); C (stopped without leaving) is still listed, as dead.
  await waitFor("A to see B gone", async () => !(await cluster(a)).nodes.some((n) => n.nodeId === "node-b"));
  const members = (await cluster(a)).nodes;
  expect(members.map((n) => n.nodeId)).not.toContain("node-b");
  expect(members.filter((n) => n.live).map((n) => n.nodeId)).toEqual(["node-a"]);
  expect(await call(a, `/Counter/${key}/add`, 1)).toBe(6);
  expect(await attached).toBe("slept 1000");
  // Leading every partition, A answers SQL from its own partitions alone.
  const sql = await fetch(`${a.adminUrl}/query`, {
    method: "POST",
    headers: { authorization: `Bearer ${a.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ query: `SELECT value FROM state WHERE service = 'Counter' AND key = '${key}'` }),
  });
  expect(((await sql.json()) as { rows: unknown[][] }).rows).toEqual([["6"]]);
});

test("a stale leader (its coordinator stopped) is refused by the epoch and stops leading", async () => {
  const a = nodes.get("node-a")!;
  const d = await startNode("node-d");
  await waitFor("A and D to share the partitions", () => settled(["node-a", "node-d"]));
  const held = [...d.runtime.cluster!.coordinator.heldPartitions().keys()];
  expect(held.length).toBeGreaterThan(0);
  const p = held[0]!;
  // D stops heartbeating but keeps its processors: to A it is dead after the lease.
  d.runtime.cluster!.stop();
  await waitFor("A to take D's partitions", async () => (await leaderOf(p, a)) === "node-a");
  expect(d.runtime.router.health(p)).toMatchObject({ state: "leading" });
  await expect(
    d.runtime.router.append(
      p,
      {
        kind: "patch-state",
        service: "Counter",
        key: "stale",
        set: { count: "9" },
        clear: [],
        clearAll: false,
      },
      "external",
    ),
  ).rejects.toMatchObject({ code: "RUNTIME_PARTITION_UNAVAILABLE" });
  await waitFor("D to stop leading", () => d.runtime.router.health(p).state !== "leading");
  const state = await admin(a, "/state/Counter/stale");
  expect(state.body).toEqual({ state: {} });
  // D resumes heartbeating: it stops leading whatever else was taken from it and rejoins as a follower.
  d.runtime.cluster!.coordinator.start(() => undefined);
  await waitFor("A and D to share the partitions again", () => settled(["node-a", "node-d"]));
  nodes.delete("node-d");
  await d.close({ handOver: false });
});
