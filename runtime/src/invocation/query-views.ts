/**
 * Where a query's rows come from. The partitions this node leads whose state is in a SQLite file are
 * read in place by the query's process (server/sql-state-files.ts); the rows of every other partition
 * (an in-memory state store) are read from its view a chunk at a time while they are streamed to that
 * process (server/sql-query-process.ts): never the whole data set at once. A partition is read one way
 * or the other, never both. Between files and between chunks the partitions move on: a query sees each
 * file, and each invocation streamed, as it was when it was read, not one instant of the whole runtime.
 *
 * In a cluster the partitions this node leads are read here and those other nodes lead arrive as
 * `PartitionsElsewhere` (cluster/remote-sql-rows.ts, page by page from their leaders). A partition
 * that is neither led here throughout its read nor covered elsewhere fails the query with
 * RUNTIME_PARTITION_UNAVAILABLE (503, retry): an answer is whole or refused, never partial.
 */
import { PARTITION_UNAVAILABLE_RETRY_AFTER_MS } from "../partition/partition-errors";
import type { PartitionHealth, PartitionRouter } from "../partition/partition-router";
import { RuntimeError } from "../runtime-error";
import { QUERY_ROWS_PER_CHUNK } from "../server/limits";
import type { ViewSource } from "../server/sql-query-process";
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

/** What a query on this node reads, for runQueryInProcess. */
export interface QueryInputs {
  /** State files the query's process reads in place. */
  files: string[];
  /** The rows of the other partitions here, then those of `elsewhere`, streamed. */
  source: ViewSource;
  /**
   * Once the query's process answered (or failed, with `failure`): throws the refusal of a partition
   * read from its file that was handed over meanwhile (its file may have been read after it moved).
   */
  confirm: (failure?: unknown) => void;
}

/**
 * The inputs of a query over `here` (partitions this node answers for) and `elsewhere`.
 *
 * @example
 * const { files, source, confirm } = queryInputs(router, here, elsewhere);
 * const json = await runQueryInProcess(sql, source, limits, { files }).catch((e) => { confirm(e); throw e; });
 * confirm();
 */
export function queryInputs(
  router: PartitionRouter,
  here: readonly number[],
  elsewhere: PartitionsElsewhere | undefined,
): QueryInputs {
  const files: string[] = [];
  const read: Array<{ p: number; before: PartitionHealth }> = [];
  const streamed: number[] = [];
  for (const p of here) {
    const before = router.health(p);
    const file = before.state === "elsewhere" ? undefined : router.view(p).sqlStateFile?.();
    if (file === undefined) {
      streamed.push(p);
      continue;
    }
    files.push(file);
    read.push({ p, before });
  }
  return {
    files,
    source: (tables) => queryChunks(router, streamed, tables, elsewhere),
    confirm: (failure) => {
      for (const { p, before } of read) {
        const after = router.health(p);
        if (before.state === "leading" && (after.state !== "leading" || after.epoch !== before.epoch))
          throw movedDuringQuery(p, "it was handed over while it was read", failure);
      }
    },
  };
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
