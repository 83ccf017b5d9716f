/**
 * Rows of the read-only SQL tables, read from every partition's view a chunk at a time while they are
 * streamed to the query's process (server/sql-query-process.ts): never the whole data set at once.
 * Between chunks the partitions move on: a query sees each invocation as it was when its rows were
 * read, not one instant of the whole runtime.
 *
 * In a cluster the partitions this node leads are read here and those other nodes lead arrive as
 * `PartitionsElsewhere` (cluster/remote-sql-rows.ts, page by page from their leaders). A partition
 * that is neither led here throughout its read nor covered elsewhere fails the query with
 * RUNTIME_PARTITION_UNAVAILABLE (503, retry): an answer is whole or refused, never partial.
 */
import { PARTITION_UNAVAILABLE_RETRY_AFTER_MS } from "../partition/partition-errors";
import type { PartitionRouter } from "../partition/partition-router";
import { RuntimeError } from "../runtime-error";
import { QUERY_ROWS_PER_CHUNK } from "../server/limits";
import type { SqlTable, ViewChunk } from "../server/sql-schema";

/** The partitions another node leads, and their rows for the tables a query names, read lazily. */
export interface PartitionsElsewhere {
  partitions: ReadonlySet<number>;
  rows: (tables: ReadonlySet<SqlTable>) => AsyncIterable<ViewChunk>;
}

/**
 * The rows of `here` (partitions this node answers for), then those of `elsewhere`.
 *
 * @example runQueryInProcess(sql, (tables) => queryChunks(router, [0, 1], tables, elsewhere))
 */
export async function* queryChunks(
  router: PartitionRouter,
  here: readonly number[],
  tables: ReadonlySet<SqlTable>,
  elsewhere: PartitionsElsewhere | undefined,
): AsyncGenerator<ViewChunk> {
  yield* ledPartitionChunks(router, here, tables);
  if (elsewhere !== undefined) yield* elsewhere.rows(tables);
}

/**
 * The rows of `partitions` read from this node's views. Each must not be led elsewhere, and one led
 * here must still be led at the same epoch once read (it was not handed over in between, when its
 * view would answer from a closed or stale state).
 */
export async function* ledPartitionChunks(
  router: PartitionRouter,
  partitions: readonly number[],
  tables: ReadonlySet<SqlTable>,
): AsyncGenerator<ViewChunk> {
  for (const p of partitions) {
    const before = router.health(p);
    if (before.state === "elsewhere") throw movedDuringQuery(p, "it is led by another node");
    try {
      yield* router.view(p).sqlRows(tables, QUERY_ROWS_PER_CHUNK);
    } catch (e) {
      if (before.state === "leading" && router.health(p).state !== "leading")
        throw movedDuringQuery(p, "it was handed over while it was read", e);
      throw e;
    }
    const after = router.health(p);
    if (before.state === "leading" && (after.state !== "leading" || after.epoch !== before.epoch))
      throw movedDuringQuery(p, "it was handed over while it was read");
  }
}

/** The refusal of a query missing a partition: what lists answer when a partition is uncovered. */
export function movedDuringQuery(partition: number, why: string, cause?: unknown): RuntimeError {
  return new RuntimeError(
    "RUNTIME_PARTITION_UNAVAILABLE",
    `partition ${partition} is moving between nodes (${why}): the query is refused rather than ` +
      "answered without it; retry",
    { retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS, ...(cause !== undefined && { cause }) },
  );
}
