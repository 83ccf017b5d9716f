/**
 * Rows of the read-only SQL tables, read from every partition's view a chunk at a time while they are
 * streamed to the query's process (server/sql-query-process.ts): never the whole data set at once.
 * Between chunks the partitions move on: a query sees each invocation as it was when its rows were
 * read, not one instant of the whole runtime.
 */
import type { PartitionRouter } from "../partition/partition-router";
import { QUERY_ROWS_PER_CHUNK } from "../server/limits";
import type { SqlTable, ViewChunk } from "../server/sql-schema";

export async function* queryViewChunks(
  router: PartitionRouter,
  tables: ReadonlySet<SqlTable>,
): AsyncGenerator<ViewChunk> {
  for (let p = 0; p < router.partitions; p++) yield* router.view(p).sqlRows(tables, QUERY_ROWS_PER_CHUNK);
}
