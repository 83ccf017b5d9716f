/**
 * How a query answered here reads the partitions other nodes lead: page by page from each leader,
 * one page at a time as the query takes them, and refused (503, retry) — never partial — when a
 * partition has no leader, moves, or its leader stops answering for it. A fake stands for the peers
 * (the real listener is crossed in cluster-query.test.ts).
 */
import { RuntimeError } from "../runtime-error";
import type { Row, SqlTable, ViewChunk } from "../server/sql-schema";
import { remoteSqlRows, type RemotePartition } from "./remote-sql-rows";
import type { LedSqlRowsPage, SqlPageRequest } from "./sql-rows-page";

/** Leaders holding `rows[partition][table]`, answering pages of `maxRows` with numeric cursors. */
function fakePeers(
  rows: Record<number, Partial<Record<SqlTable, Row[]>>>,
  epochOf = (_p: number, _call: number) => 7,
) {
  const calls: Array<[string, SqlPageRequest]> = [];
  const peers = {
    call: async (address: string, method: string, args: unknown[]) => {
      expect(method).toBe("sqlRowsPage");
      const request = args[0] as SqlPageRequest;
      calls.push([address, request]);
      const all = rows[request.partition]?.[request.table] ?? [];
      const from = request.after === undefined ? 0 : Number(request.after.item) + 1;
      const page = all.slice(from, from + request.maxRows);
      const answer: LedSqlRowsPage = { rows: page, epoch: epochOf(request.partition, calls.length) };
      if (from + page.length < all.length) answer.next = { item: String(from + page.length - 1) };
      return answer;
    },
  };
  return { peers, calls };
}

const at = (partition: number, address: string | undefined): RemotePartition => ({
  partition,
  leaderAddress: () => address,
});
const rowsOf = (n: number, tag: string): Row[] => Array.from({ length: n }, (_, i) => ({ id: `${tag}${i}` }));

async function collect(chunks: AsyncIterable<ViewChunk>): Promise<ViewChunk[]> {
  const out: ViewChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

test("each partition's tables are read from its leader a page at a time, each page once", async () => {
  const { peers, calls } = fakePeers({
    1: { invocations: rowsOf(5, "a"), state: rowsOf(1, "s") },
    3: { invocations: rowsOf(2, "b") },
  });
  const chunks = await collect(
    remoteSqlRows(peers, [at(1, "http://b"), at(3, "http://c")], new Set(["invocations", "state"]), 2),
  );
  expect(chunks.map((c) => [c.table, c.rows.map((r) => r.id)])).toEqual([
    ["invocations", ["a0", "a1"]],
    ["invocations", ["a2", "a3"]],
    ["invocations", ["a4"]],
    ["state", ["s0"]],
    ["invocations", ["b0", "b1"]],
  ]);
  expect(calls.map(([address, r]) => [address, r.partition, r.table, r.after?.item])).toEqual([
    ["http://b", 1, "invocations", undefined],
    ["http://b", 1, "invocations", "1"],
    ["http://b", 1, "invocations", "3"],
    ["http://b", 1, "state", undefined],
    ["http://c", 3, "invocations", undefined],
    ["http://c", 3, "state", undefined],
  ]);
});

test("the next page is asked for only once the previous one was taken", async () => {
  const { peers, calls } = fakePeers({ 0: { journal: rowsOf(10, "j") } });
  const chunks = remoteSqlRows(peers, [at(0, "http://b")], new Set(["journal"]), 3)[Symbol.asyncIterator]();
  await chunks.next();
  expect(calls).toHaveLength(1);
  await chunks.next();
  expect(calls).toHaveLength(2);
  await chunks.return(undefined);
  expect(calls).toHaveLength(2);
});

test("a partition with no live leader refuses the query before any page is read", async () => {
  const { peers, calls } = fakePeers({ 0: { state: rowsOf(1, "s") } });
  await expect(
    collect(remoteSqlRows(peers, [at(0, "http://b"), at(2, undefined)], new Set(["state"]))),
  ).rejects.toMatchObject({ code: "RUNTIME_PARTITION_UNAVAILABLE", retryAfterMs: expect.any(Number) });
  expect(calls).toEqual([]);
});

test("a partition that moves between pages, or whose leader stops leading it, refuses the query", async () => {
  // The epoch changes after the first page: another leadership answered the rest.
  const moved = fakePeers({ 0: { invocations: rowsOf(4, "a") } }, (_p, call) => (call === 1 ? 7 : 8));
  await expect(
    collect(remoteSqlRows(moved.peers, [at(0, "http://b")], new Set(["invocations"]), 2)),
  ).rejects.toMatchObject({ code: "RUNTIME_PARTITION_UNAVAILABLE", retryAfterMs: expect.any(Number) });

  const handedOver = {
    call: async () => {
      throw new RuntimeError("RUNTIME_PARTITION_UNAVAILABLE", "partition 0 is not led by this node", {
        retryAfterMs: 5_000,
      });
    },
  };
  await expect(
    collect(remoteSqlRows(handedOver, [at(0, "http://b")], new Set(["invocations"]))),
  ).rejects.toMatchObject({
    code: "RUNTIME_PARTITION_UNAVAILABLE",
    retryAfterMs: expect.any(Number),
    message: expect.stringContaining("partition 0"),
  });
  // Anything else the leader answers is passed on as it is.
  const refusing = {
    call: async () => {
      throw new RuntimeError("ADMIN_QUERY_BUSY", "busy");
    },
  };
  await expect(
    collect(remoteSqlRows(refusing, [at(0, "http://b")], new Set(["invocations"]))),
  ).rejects.toMatchObject({ code: "ADMIN_QUERY_BUSY" });
});
