/**
 * What the lease coordinator's ticks read from DynamoDB (Local), measured from the ConsumedCapacity
 * it answers: 3 nodes × 16 partitions at the default lease, each node with its own fake clock moved
 * one tick interval per round. Every tick reads every fence (one read unit each) plus the `nodes`
 * query, so every node's view is fresh each tick; after a node leaves, the views match the fences
 * again. The read units per tick and their price are in docs/operations.md.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ManualClock } from "../testing/manual-clock";
import { DynamoDbLogStore } from "../storage/dynamodb-log-store";
import { dropTable, freshTable, localDynamoDbClient } from "../storage/test-support/dynamodb-fixture";
import { startDynamoDbLocal, type DynamoDbLocal } from "../storage/test-support/dynamodb-local";
import { DynamoDbMembershipStore } from "./dynamodb-membership-store";
import { DEFAULT_LEASE_DURATION_MS, HEARTBEATS_PER_LEASE, LeaseCoordinator } from "./lease-coordinator";

jest.setTimeout(120_000);

const PARTITIONS = 16;
const TICK_MS = DEFAULT_LEASE_DURATION_MS / HEARTBEATS_PER_LEASE;

let ddb: DynamoDbLocal;
let client: DynamoDBClient;
let tableName: string;
/** Read and write units DynamoDB reported, since the last reset. */
const units = { read: 0, write: 0 };
const READS = new Set(["GetItemCommand", "QueryCommand", "BatchGetItemCommand", "ScanCommand"]);

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  client = localDynamoDbClient(ddb.endpoint);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= "TOTAL";
      const result = await next(args);
      const consumed = (
        result.output as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> }
      ).ConsumedCapacity;
      const sum = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
        (n, c) => n + (c.CapacityUnits ?? 0),
        0,
      );
      if (READS.has(context.commandName ?? "")) units.read += sum;
      else units.write += sum;
      return result;
    },
    { step: "initialize", name: "consumedCapacity" },
  );
  tableName = await freshTable(client);
}, 180_000);

afterAll(async () => {
  if (tableName) await dropTable(client, tableName);
  client?.destroy();
  await ddb?.stop();
});

interface Node {
  id: string;
  clock: ManualClock;
  leases: LeaseCoordinator;
}

function startNode(id: string): Node {
  const clock = new ManualClock(0);
  const fences = new DynamoDbLogStore({ client, tableName });
  const leases = new LeaseCoordinator({
    node: { nodeId: id, address: `http://${id}`, pid: 1 },
    partitions: PARTITIONS,
    membership: new DynamoDbMembershipStore({ client, tableName, clock }),
    fences,
    clock,
    leader: { onAcquired: async () => undefined, onReleasing: async () => undefined },
  });
  return { id, clock, leases };
}

/** One tick interval passes on every node's clock, then each ticks once. */
async function round(nodes: Node[]): Promise<void> {
  for (const n of nodes) {
    n.clock.advanceBy(TICK_MS);
    await n.leases.tick();
  }
}

/** Every node's view names, for every partition, the node holding its fence, and all agree. */
function settled(nodes: Node[]): boolean {
  const held = new Map<number, string>();
  for (const n of nodes) for (const p of n.leases.heldPartitions().keys()) held.set(p, n.id);
  if (held.size !== PARTITIONS) return false;
  return nodes.every((n) => n.leases.observed()!.fences.every((f, p) => f.owner === held.get(p)));
}

async function settle(nodes: Node[]): Promise<void> {
  for (let i = 0; i < 20 && !settled(nodes); i++) await round(nodes);
  expect(settled(nodes)).toBe(true);
}

test("every tick reads every fence: the read units of a settled cluster; views match after a leave", async () => {
  const nodes = ["node-a", "node-b", "node-c"].map(startNode);
  await settle(nodes);

  const rounds = 3 * HEARTBEATS_PER_LEASE;
  units.read = 0;
  units.write = 0;
  for (let i = 0; i < rounds; i++) await round(nodes);
  const ticks = rounds * nodes.length;
  const readUnitsPerTick = units.read / ticks;
  // Every fence (1 RRU each: a consistent read of an item under 4 KB) and the `nodes` query.
  expect(readUnitsPerTick).toBeGreaterThanOrEqual(PARTITIONS);
  process.stdout.write(
    `lease ticks, ${nodes.length} nodes x ${PARTITIONS} partitions, lease ${DEFAULT_LEASE_DURATION_MS} ms: ` +
      `${readUnitsPerTick.toFixed(2)} read units and ${(units.write / ticks).toFixed(2)} write units per tick\n`,
  );

  const [a, b, c] = nodes as [Node, Node, Node];
  await c.leases.leave();
  await settle([a, b]);
  for (const n of [a, b])
    for (const [p, epoch] of n.leases.heldPartitions())
      expect(n.leases.observed()!.fences[p]).toEqual({ owner: n.id, epoch });
});
