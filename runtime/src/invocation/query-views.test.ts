/**
 * The rows a query reads on this node: the partitions it answers for from their views, then those
 * led elsewhere; a partition not led here, or handed over while read, refuses the query (503, retry).
 * Partitions with a state file are read from it by the query's process instead of being streamed.
 */
import type { PartitionHealth, PartitionRouter } from "../partition/partition-router";
import type { SqlTable, ViewChunk } from "../server/sql-schema";
import { queryChunks, queryInputs } from "./query-views";

/** Partitions with one invocation row each; `onRead` runs as partition p's rows are read. */
function fakeRouter(health: PartitionHealth[], onRead: (p: number) => void = () => undefined) {
  return {
    partitions: health.length,
    health: (p: number) => health[p]!,
    view: (p: number) => ({
      async *sqlRows(tables: ReadonlySet<SqlTable>): AsyncGenerator<ViewChunk> {
        onRead(p);
        for (const table of tables) yield { table, rows: [{ id: `p${p}` }] };
      },
    }),
  } as unknown as PartitionRouter;
}

const leading = (epoch: number): PartitionHealth => ({ state: "leading", epoch, pendingRecords: 0 });
const tables = new Set<SqlTable>(["invocations"]);

async function ids(chunks: AsyncIterable<ViewChunk>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const chunk of chunks) out.push(...chunk.rows.map((r) => r.id));
  return out;
}

test("the partitions read here, then the rows of those led elsewhere", async () => {
  const router = fakeRouter([leading(1), { state: "elsewhere" }, leading(1)]);
  const elsewhere = {
    partitions: new Set([1]),
    rows: async function* (): AsyncGenerator<ViewChunk> {
      yield { table: "invocations", rows: [{ id: "p1 from its leader" }] };
    },
  };
  expect(await ids(queryChunks(router, [0, 2], tables, elsewhere))).toEqual([
    "p0",
    "p2",
    "p1 from its leader",
  ]);
});

test("a partition led elsewhere that nothing else covers, or one handed over while read, refuses the query", async () => {
  const refusal = { code: "RUNTIME_PARTITION_UNAVAILABLE", retryAfterMs: expect.any(Number) };
  const elsewhere = fakeRouter([leading(1), { state: "elsewhere" }]);
  await expect(ids(queryChunks(elsewhere, [0, 1], tables, undefined))).rejects.toMatchObject(refusal);

  const health = [leading(1), leading(4)];
  const handedOver = fakeRouter(health, (p) => {
    if (p === 1) health[1] = leading(5); // released and taken back at a new epoch meanwhile
  });
  await expect(ids(queryChunks(handedOver, [0, 1], tables, undefined))).rejects.toMatchObject(refusal);
});

test("partitions with a state file are read from it, the others are streamed, never both", async () => {
  const router = fakeRouter([leading(1), leading(1), leading(1), { state: "elsewhere" }, leading(1)]);
  const view = router.view.bind(router);
  // 0 and 2 have a state file, 1 is in memory, 4 has no such method (a remote view).
  router.view = (p: number) =>
    p === 4
      ? view(p)
      : { ...view(p), sqlStateFile: () => (p % 2 === 0 ? `/data/partitions/p${p}.db` : undefined) };
  const elsewhere = {
    partitions: new Set([3]),
    rows: async function* (): AsyncGenerator<ViewChunk> {
      yield { table: "invocations", rows: [{ id: "p3 from its leader" }] };
    },
  };
  const { files, source, confirm } = queryInputs(router, [0, 1, 2, 4], elsewhere);
  expect(files).toEqual(["/data/partitions/p0.db", "/data/partitions/p2.db"]);
  expect(await ids(source(tables) as AsyncIterable<ViewChunk>)).toEqual(["p1", "p4", "p3 from its leader"]);
  expect(() => confirm()).not.toThrow();
});

test("a partition read from its file and handed over meanwhile refuses the query", () => {
  const health = [leading(1), leading(4)];
  const router = fakeRouter(health);
  const view = router.view.bind(router);
  router.view = (p: number) => ({ ...view(p), sqlStateFile: () => `/data/partitions/p${p}.db` });
  const { confirm } = queryInputs(router, [0, 1], undefined);
  health[1] = leading(5); // released and taken back at a new epoch while the query's process read it
  expect(() => confirm()).toThrow(expect.objectContaining({ code: "RUNTIME_PARTITION_UNAVAILABLE" }));
});
