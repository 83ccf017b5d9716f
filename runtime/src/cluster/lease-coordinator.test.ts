/**
 * Three nodes share 12 partitions over one log (each node its own SQLite log store on one file, so
 * the fences are real) and one membership table; each node has its own fake clock.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SqliteLogStore } from "../storage/sqlite-log-store";
import { ManualClock } from "../testing/manual-clock";
import { DEFAULT_LEASE_DURATION_MS, LeaseCoordinator } from "./lease-coordinator";
import type { NodeHeartbeat } from "./membership-store";
import { MemoryMembershipStore } from "./memory-membership-store";
import { ownerOf } from "./rendezvous";

const PARTITIONS = 12;
const LEASE_MS = DEFAULT_LEASE_DURATION_MS;

interface TestNode {
  id: string;
  clock: ManualClock;
  log: SqliteLogStore;
  leases: LeaseCoordinator;
  /** Partition → epoch as told by onAcquired; removed by onReleasing and onLost. */
  leading: Map<number, number>;
  /** Partitions told lost (another node claimed them while this one held them). */
  lost: number[];
}

let dir: string;
let nodes: TestNode[];
const table = new Map<string, NodeHeartbeat>();
/** Whether a node's change notices reach the nodes it names (what the peer listener does). */
let deliverNotices = false;
/** A partition's hand-over waits for its gate (a slow snapshot), when it has one. */
const releaseGates = new Map<number, Promise<void>>();

function startNode(id: string, leaseMs = LEASE_MS): TestNode {
  const clock = new ManualClock(0);
  const log = SqliteLogStore.open(dir, { writer: "inline" });
  const leading = new Map<number, number>();
  const lost: number[] = [];
  const leases = new LeaseCoordinator({
    node: { nodeId: id, address: `http://${id}`, pid: 1 },
    partitions: PARTITIONS,
    membership: new MemoryMembershipStore(table),
    fences: log,
    clock,
    leaseDurationMs: leaseMs,
    announce: async (peers, notice) => {
      if (!deliverNotices) return;
      for (const peer of peers) nodes.find((n) => n.id === peer.nodeId)?.leases.tickSoon(notice);
    },
    leader: {
      onAcquired: async (p, epoch) => void leading.set(p, epoch),
      onReleasing: async (p) => {
        await releaseGates.get(p);
        leading.delete(p);
      },
      onLost: async (p) => {
        lost.push(p);
        leading.delete(p);
      },
    },
  });
  return { id, clock, log, leases, leading, lost };
}

/** Ticks every node in turn, as many rounds as it takes for nothing to move (bounded). */
async function settle(live: TestNode[]): Promise<void> {
  for (let round = 0; round < 5; round++) for (const n of live) await n.leases.tick();
}

function leaders(live: TestNode[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const n of live) for (const p of n.leading.keys()) out.set(p, n.id);
  return out;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-leases-"));
  table.clear();
  deliverNotices = false;
  releaseGates.clear();
  nodes = ["node-a", "node-b", "node-c"].map((id) => startNode(id));
});
afterEach(async () => {
  for (const n of nodes) n.leases.stop();
  for (const n of nodes) await n.log.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("live nodes share the partitions: each held by exactly one, as the fence says", async () => {
  await settle(nodes);

  const byPartition = leaders(nodes);
  expect(byPartition.size).toBe(PARTITIONS);
  expect(new Set(byPartition.values()).size).toBe(3);
  for (const [p, owner] of byPartition) {
    const fence = await nodes[0]!.log.fence(p);
    expect(fence.owner).toBe(owner);
    expect(nodes.find((n) => n.id === owner)!.leading.get(p)).toBe(fence.epoch);
  }
  const total = nodes.reduce((sum, n) => sum + n.leading.size, 0);
  expect(total).toBe(PARTITIONS);
});

test("a node whose heartbeat stops loses its partitions after the lease, not before; its writes are fenced", async () => {
  await settle(nodes);
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  const cPartitions = [...c.leading.keys()];
  expect(cPartitions.length).toBeGreaterThan(0);
  const p = cPartitions[0]!;
  await c.log.append(p, 1, ["written while leading"]);

  // c is paused (SIGSTOP): no more ticks. a and b see its last heartbeat at their time 0, then
  // keep going, just short of the lease.
  await settle([a, b]);
  for (const n of [a, b]) n.clock.advanceBy(LEASE_MS - 1);
  await settle([a, b]);
  expect(leaders([a, b]).has(p)).toBe(false);

  for (const n of [a, b]) n.clock.advanceBy(1);
  await settle([a, b]);

  const after = leaders([a, b]);
  expect(after.size).toBe(PARTITIONS);
  const taker = nodes.find((n) => n.id === after.get(p))!;
  expect(taker.leading.get(p)).toBeGreaterThan(c.leading.get(p)!);
  // c wakes up still believing it leads p: the log refuses it.
  await expect(c.log.append(p, 2, ["stale"])).rejects.toMatchObject({ code: "STORE_LOG_FENCED" });
  await taker.log.append(p, 2, ["new leader"]);
  // Its next tick reads the fences: it stops leading what was taken, without handing anything over.
  await c.leases.tick();
  expect(c.lost.sort()).toEqual(cPartitions.sort());
  expect(c.leading.size).toBe(0);
  expect((await c.log.fence(p)).owner).toBe(taker.id);
  await settle(nodes);
  expect(leaders(nodes).size).toBe(PARTITIONS);
});

test("a graceful leave hands over at once, without waiting for the lease", async () => {
  await settle(nodes);
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  const released = [...c.leading.keys()];

  await c.leases.leave();
  await settle([a, b]); // no clock moved

  expect(c.leading.size).toBe(0);
  const after = leaders([a, b]);
  for (const p of released) {
    expect(after.has(p)).toBe(true);
    expect((await a.log.fence(p)).owner).toBe(after.get(p));
  }
  expect(after.size).toBe(PARTITIONS);
});

test("a node that joins takes its share from the others, who hand it over", async () => {
  const [a, b] = nodes as [TestNode, TestNode, TestNode];
  await settle([a, b]);
  expect(leaders([a, b]).size).toBe(PARTITIONS);

  await settle(nodes);

  const after = leaders(nodes);
  expect(after.size).toBe(PARTITIONS);
  expect(nodes[2]!.leading.size).toBeGreaterThan(0);
  for (const [p, owner] of after) expect((await a.log.fence(p)).owner).toBe(owner);
});

/** Resolves once `condition` holds, checking every millisecond or so (bounded). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(condition()).toBe(true);
}

test("a leaving node's notice makes the others take over and see the new leaders at once, not at their interval", async () => {
  // A lease so long that no interval tick can happen during the test: what moves, the notices move.
  for (const n of nodes) n.leases.stop();
  await Promise.all(nodes.map((n) => n.log.close()));
  nodes = ["node-a", "node-b", "node-c"].map((id) => startNode(id, 3_600_000));
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  await settle(nodes);
  const released = [...c.leading.keys()];
  expect(released.length).toBeGreaterThan(0);
  deliverNotices = true;
  const onError = (e: unknown): never => {
    throw e;
  };
  for (const n of [a, b]) n.leases.start(onError);

  await c.leases.leave();

  // Every released partition is held by a or b (claimed at the epoch the fence showed), and both
  // of them observed that owner: the successor's own notice refreshed the other's view.
  await until(() => {
    const now = leaders([a, b]);
    return released.every((p) => {
      const owner = now.get(p);
      return (
        owner !== undefined &&
        a.leases.observed()?.fences[p]?.owner === owner &&
        b.leases.observed()?.fences[p]?.owner === owner
      );
    });
  });
  for (const p of released) {
    const fence = await a.log.fence(p);
    const taker = [a, b].find((n) => n.id === fence.owner)!;
    expect(taker.leading.get(p)).toBe(fence.epoch);
  }
});

test("a notice is only a prompt: a node that is not started, or is leaving, does not tick on it", async () => {
  await settle(nodes);
  const [a, , c] = nodes as [TestNode, TestNode, TestNode];
  const before = [...a.leading.keys()];
  await c.leases.leave();
  a.leases.tickSoon(); // a was never started: the notice changes nothing
  await new Promise((r) => setImmediate(r));
  expect([...a.leading.keys()]).toEqual(before);
});

test("a silent node is judged dead when its lease runs out, by a tick set for that moment", async () => {
  // A lease so long that the interval's tick never comes during the test: the expiry's tick must.
  for (const n of nodes) n.leases.stop();
  await Promise.all(nodes.map((n) => n.log.close()));
  const lease = 3_600_000;
  nodes = ["node-a", "node-b", "node-c"].map((id) => startNode(id, lease));
  const c = nodes[2]!;
  await settle(nodes);
  const cPartitions = [...c.leading.keys()];
  // The observer: a survivor that inherits some of c's partitions; the other one stays unmoved.
  const share = (n: TestNode): number[] =>
    cPartitions.filter((p) => ownerOf(p, ["node-a", "node-b"]) === n.id);
  const [observer, other] = share(nodes[0]!).length > 0 ? [nodes[0]!, nodes[1]!] : [nodes[1]!, nodes[0]!];
  expect(share(observer).length).toBeGreaterThan(0);

  // c stops (SIGKILL) after its last heartbeat, which the observer sees now. Two thirds of a lease
  // later the other survivor has beaten again, c has not.
  await observer.leases.tick();
  observer.clock.advanceBy((lease * 2) / 3);
  await other.leases.tick();
  await observer.leases.tick();
  expect(observer.leases.nextExpiryInMs()).toBe(lease / 3);

  // Just before c's expiry the observer starts (its interval is lease / 3 away): the tick it runs
  // now sets one for the expiry, a few ms ahead.
  observer.clock.advanceBy(lease / 3 - 3);
  observer.leases.start((e) => {
    throw e;
  });
  await observer.leases.runTick();
  expect(observer.leases.nextExpiryInMs()).toBe(3);
  for (const p of share(observer)) expect(observer.leading.has(p)).toBe(false);
  observer.clock.advanceBy(3);

  await until(() => share(observer).every((p) => observer.leading.has(p)));
  for (const p of share(observer)) expect((await observer.log.fence(p)).owner).toBe(observer.id);
});

test("a leaving node's partitions are claimed one by one as it releases each, not after the last", async () => {
  for (const n of nodes) n.leases.stop();
  await Promise.all(nodes.map((n) => n.log.close()));
  nodes = ["node-a", "node-b", "node-c"].map((id) => startNode(id, 3_600_000));
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  await settle(nodes);
  const released = [...c.leading.keys()];
  expect(released.length).toBeGreaterThan(1);
  // One partition's hand-over is slow (its snapshot): c holds it, and stays in the membership.
  const slow = released[0]!;
  let openGate = (): void => undefined;
  releaseGates.set(slow, new Promise<void>((resolve) => (openGate = resolve)));
  deliverNotices = true;
  const onError = (e: unknown): never => {
    throw e;
  };
  for (const n of [a, b]) n.leases.start(onError);

  const leaving = c.leases.leave();

  const fast = released.filter((p) => p !== slow);
  await until(() => fast.every((p) => a.leading.has(p) || b.leading.has(p)));
  // The slow one is still c's: held by a live owner, it is not taken from it.
  expect(c.leading.has(slow)).toBe(true);
  expect((await a.log.fence(slow)).owner).toBe("node-c");

  openGate();
  await leaving;
  await until(() => a.leading.has(slow) || b.leading.has(slow));
  expect(leaders([a, b]).size).toBe(PARTITIONS);
});
