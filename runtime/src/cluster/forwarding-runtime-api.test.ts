/**
 * Where ForwardingRuntimeApi runs each call: here when this node leads the partition, on its leader
 * otherwise, and a 503 with a retry hint when no live leader is known. Fakes stand for the runtime,
 * the membership and the peers (the real ones are crossed in cluster-nodes.test.ts).
 */
import { randomBytes } from "node:crypto";
import { formatInvocationId, partitionOfTarget } from "@capstan/sdk/protocol";
import { ManualClock } from "../testing/manual-clock";
import { AttemptCredentials } from "../security/attempt-credentials";
import type { PartitionHealth } from "../partition/partition-router";
import type { Runtime } from "../runtime";
import type { ClusterMember } from "./cluster-member";
import { ForwardingRuntimeApi } from "./forwarding-runtime-api";
import type { PeerClient } from "./peer-client";
import type { PartitionsElsewhere } from "../invocation/query-views";
import { QUERY_ROWS_PER_CHUNK } from "../server/limits";

const PARTITIONS = 4;
const credentials = new AttemptCredentials(randomBytes(32));
const clock = new ManualClock(1_000);

function setup(ledHere: number[], leaders: Record<number, string>) {
  const localCalls: string[] = [];
  const peerCalls: Array<[string, string, unknown[]]> = [];
  const local = {
    router: {
      partitions: PARTITIONS,
      health: (p: number): PartitionHealth =>
        ledHere.includes(p) ? { state: "leading", epoch: 1, pendingRecords: 0 } : { state: "elsewhere" },
      leading: () => ledHere,
    },
    output: async (id: string) => (localCalls.push(`output ${id}`), { ready: false }),
    submit: async () => (localCalls.push("submit"), { invocationId: "local", existing: false }),
    authenticateCheckpoint: () => {
      localCalls.push("authenticate");
      return {};
    },
  } as unknown as Runtime;
  const member = {
    leaderOf: (p: number) =>
      leaders[p] === undefined ? undefined : { nodeId: leaders[p], address: leaders[p] },
    peers: () => Object.values(leaders).map((a) => ({ nodeId: a, address: a })),
  } as unknown as ClusterMember;
  const peers = {
    call: async (address: string, method: string, args: unknown[]) => {
      peerCalls.push([address, method, args]);
      return method === "submit" ? { invocationId: "remote", existing: false } : { ready: true };
    },
  } as unknown as PeerClient;
  return { api: new ForwardingRuntimeApi(local, member, peers, credentials, clock), localCalls, peerCalls };
}

test("a call for a partition led here runs here; one led elsewhere goes to its leader", async () => {
  const { api, localCalls, peerCalls } = setup([0], { 1: "http://b" });
  await api.output(formatInvocationId(0, "a1b2c3d4e5f6a1b2c3d4e5f6"));
  await api.output(formatInvocationId(1, "b1b2c3d4e5f6a1b2c3d4e5f6"));
  expect(localCalls).toEqual([`output ${formatInvocationId(0, "a1b2c3d4e5f6a1b2c3d4e5f6")}`]);
  expect(peerCalls).toEqual([["http://b", "output", [formatInvocationId(1, "b1b2c3d4e5f6a1b2c3d4e5f6")]]]);
});

test("no live leader known: 503 RUNTIME_PARTITION_UNAVAILABLE with a retry hint, nothing run", async () => {
  const { api, localCalls, peerCalls } = setup([0], {});
  await expect(api.output(formatInvocationId(2, "c1b2c3d4e5f6a1b2c3d4e5f6"))).rejects.toMatchObject({
    code: "RUNTIME_PARTITION_UNAVAILABLE",
    retryAfterMs: expect.any(Number),
  });
  expect([localCalls, peerCalls]).toEqual([[], []]);
});

test("keyed submits follow their key; keyless ones stay here unless this node leads nothing", async () => {
  const key = "k";
  const p = partitionOfTarget({ service: "Obj", handler: "h", key }, undefined, PARTITIONS)!;
  const other = (p + 1) % PARTITIONS;
  const { api, localCalls, peerCalls } = setup([other], { [p]: "http://leader" });
  const request = { target: { service: "Obj", handler: "h", key }, input: "1", headers: {} };
  expect(await api.submit(request)).toMatchObject({ invocationId: "remote" });
  expect(await api.submit({ ...request, target: { service: "Svc", handler: "h" } })).toMatchObject({
    invocationId: "local",
  });
  expect(localCalls).toEqual(["submit"]);
  expect(peerCalls.map(([address, method]) => [address, method])).toEqual([["http://leader", "submit"]]);

  const idle = setup([], { 1: "http://b" });
  expect(await idle.api.submit({ ...request, target: { service: "Svc", handler: "h" } })).toMatchObject({
    invocationId: "remote",
  });
});

test("a checkpoint for a partition led elsewhere: forged or expired refused here, genuine forwarded raw", async () => {
  const { api, peerCalls } = setup([0], { 1: "http://b" });
  const id = formatInvocationId(1, "d1b2c3d4e5f6a1b2c3d4e5f6");
  expect(() => api.authenticateCheckpoint(id, "forged")).toThrow(
    expect.objectContaining({ code: "CHECKPOINT_UNAUTHORIZED" }),
  );
  const expired = credentials.issue({
    partition: 1,
    invocationId: id,
    attempt: 1,
    epoch: 3,
    expiresAtMs: 500,
  });
  expect(() => api.authenticateCheckpoint(id, expired)).toThrow(
    expect.objectContaining({ code: "CHECKPOINT_CREDENTIAL_EXPIRED" }),
  );
  const token = credentials.issue({
    partition: 1,
    invocationId: id,
    attempt: 1,
    epoch: 3,
    expiresAtMs: 9_000,
  });
  const verified = api.authenticateCheckpoint(id, token);
  const body = { type: "checkpoint", protocolVersion: 1, entries: [], pending: [] };
  await api.checkpoint({ ...body, invocationId: id, attemptToken: token } as never, verified);
  expect(peerCalls).toEqual([["http://b", "checkpoint", [id, token, body]]]);
});

test("a list merges every node's part, each invocation once, and refuses when a partition is in no part", async () => {
  const summary = (p: number, n: number) => ({
    id: formatInvocationId(p, `${n}`.padStart(24, "0")),
    createdAtMs: n,
  });
  const parts: Record<string, { invocations: unknown[]; partitions: number[] }> = {
    here: { invocations: [summary(0, 1)], partitions: [0] },
    // Partition 2 moved from b to c during the fan-out: both read it.
    "http://b": { invocations: [summary(1, 2), summary(2, 3)], partitions: [1, 2] },
    "http://c": { invocations: [summary(2, 3)], partitions: [2, 3] },
  };
  const list = (peersAnswering: string[]) => {
    const { api } = setup([0], { 1: "http://b", 3: "http://c" });
    const local = (api as unknown as { local: Record<string, unknown> }).local;
    local.listLedInvocations = async () => parts.here;
    const peers = (api as unknown as { peers: { call: unknown } }).peers;
    peers.call = async (address: string) =>
      peersAnswering.includes(address) ? parts[address] : { invocations: [], partitions: [] };
    return api.listInvocations({ limit: 10 });
  };
  const merged = await list(["http://b", "http://c"]);
  expect(merged.map((s) => s.id)).toEqual([summary(2, 3).id, summary(1, 2).id, summary(0, 1).id]);
  // c has not taken partition 3 yet (it answers for nothing): the list is refused, not partial.
  await expect(list(["http://b"])).rejects.toMatchObject({
    code: "RUNTIME_PARTITION_UNAVAILABLE",
    retryAfterMs: expect.any(Number),
  });
});

test("a request-response call for a partition led elsewhere is one forwarded call, not a submit and a wait", async () => {
  // Two forwarded steps would miss a result purged as soon as it is recorded (retention 0).
  const key = "k";
  const p = partitionOfTarget({ service: "Obj", handler: "h", key }, undefined, PARTITIONS)!;
  const { api, peerCalls } = setup([(p + 1) % PARTITIONS], { [p]: "http://leader" });
  const request = { target: { service: "Obj", handler: "h", key }, input: "1", headers: {} };
  await api.call(request, new AbortController().signal);
  expect(peerCalls.map(([address, method]) => [address, method])).toEqual([["http://leader", "call"]]);
});

test("SQL runs here over the partitions led here, with the others' rows paged from their leaders", async () => {
  const { api, peerCalls } = setup([0, 2], { 1: "http://b", 3: "http://c" });
  const local = (api as unknown as { local: Record<string, unknown> }).local;
  const asked: Array<[string, unknown]> = [];
  local.query = async (sql: string, elsewhere?: PartitionsElsewhere) => {
    asked.push([sql, elsewhere?.partitions]);
    const rows: unknown[] = [];
    for await (const chunk of elsewhere!.rows(new Set(["state"]))) rows.push(...chunk.rows);
    return JSON.stringify(rows);
  };
  const peers = (api as unknown as { peers: { call: unknown } }).peers;
  peers.call = async (address: string, method: string, args: unknown[]) => {
    peerCalls.push([address, method, args]);
    return { rows: [{ from: address }], epoch: 1 };
  };
  expect(JSON.parse(await api.query("SELECT * FROM state"))).toEqual([
    { from: "http://b" },
    { from: "http://c" },
  ]);
  expect(asked).toEqual([["SELECT * FROM state", new Set([1, 3])]]);
  expect(peerCalls.map(([address, method, [request]]) => [address, method, request])).toEqual([
    ["http://b", "sqlRowsPage", { partition: 1, table: "state", maxRows: QUERY_ROWS_PER_CHUNK }],
    ["http://c", "sqlRowsPage", { partition: 3, table: "state", maxRows: QUERY_ROWS_PER_CHUNK }],
  ]);

  // Leading every partition: nothing elsewhere.
  const all = setup([0, 1, 2, 3], {});
  const allLocal = (all.api as unknown as { local: Record<string, unknown> }).local;
  allLocal.query = async (_sql: string, elsewhere?: PartitionsElsewhere) => JSON.stringify(elsewhere ?? null);
  expect(await all.api.query("SELECT 1")).toBe("null");
});
