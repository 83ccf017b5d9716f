/**
 * The rows of partitions other nodes lead, for a query answered here: each partition's tables are
 * read from its leader a page at a time (the peer method `sqlRowsPage`, sql-rows-page.ts), one page
 * in flight and the next asked for only once the query's process has taken the previous one — the
 * answering node holds about a page, never a remote partition.
 *
 * A partition is read from one leader at one epoch: a leader that no longer leads it (the
 * partition-moved answer), one that cannot be reached, a page at another epoch, or a partition with
 * no live leader fails the query with RUNTIME_PARTITION_UNAVAILABLE and a retry hint — the answer the
 * invocation list gives for an uncovered partition — never a partial answer.
 */
import { movedDuringQuery } from "../invocation/query-views";
import { QUERY_ROWS_PER_CHUNK } from "../server/limits";
import type { SqlTable, ViewChunk } from "../server/sql-schema";
import { isRuntimeError } from "../runtime-error";
import type { PeerClient } from "./peer-client";
import type { LedSqlRowsPage, SqlPageRequest } from "./sql-rows-page";

/** A partition led elsewhere and the peer address of its leader, or undefined when it has none. */
export interface RemotePartition {
  partition: number;
  leaderAddress: () => string | undefined;
}

/**
 * Every row of `tables` of `partitions`, partition by partition, a page per chunk.
 *
 * @example
 * remoteSqlRows(peers, [{ partition: 3, leaderAddress: () => member.leaderOf(3)?.address }], tables)
 */
export async function* remoteSqlRows(
  peers: Pick<PeerClient, "call">,
  partitions: readonly RemotePartition[],
  tables: ReadonlySet<SqlTable>,
  pageRows: number = QUERY_ROWS_PER_CHUNK,
): AsyncGenerator<ViewChunk> {
  // Every leader known before any row is copied: a partition without one fails the query at once.
  const leaders = partitions.map(({ partition, leaderAddress }) => {
    const address = leaderAddress();
    if (address === undefined) throw movedDuringQuery(partition, "it has no live leader");
    return { partition, address };
  });
  for (const { partition, address } of leaders) {
    let epoch: number | undefined;
    for (const table of tables) {
      let request: SqlPageRequest = { partition, table, maxRows: pageRows };
      for (;;) {
        const page = await readPage(peers, address, request);
        if (epoch !== undefined && page.epoch !== epoch)
          throw movedDuringQuery(partition, `its leader's epoch went from ${epoch} to ${page.epoch}`);
        epoch = page.epoch;
        if (page.rows.length > 0) yield { table, rows: page.rows };
        if (page.next === undefined) break;
        request = { ...request, after: page.next };
      }
    }
  }
}

async function readPage(
  peers: Pick<PeerClient, "call">,
  address: string,
  request: SqlPageRequest,
): Promise<LedSqlRowsPage> {
  let page: LedSqlRowsPage;
  try {
    page = (await peers.call(address, "sqlRowsPage", [request])) as LedSqlRowsPage;
  } catch (e) {
    // The leader handed the partition over, or went away: the query cannot cover it.
    if (isRuntimeError(e) && e.code === "RUNTIME_PARTITION_UNAVAILABLE")
      throw movedDuringQuery(request.partition, `its leader at ${address} answered: ${e.message}`, e);
    throw e;
  }
  if (
    typeof page !== "object" ||
    page === null ||
    !Array.isArray(page.rows) ||
    page.rows.length > request.maxRows ||
    typeof page.epoch !== "number"
  )
    throw new Error(`the leader at ${address} answered sqlRowsPage with something else than a page`);
  return page;
}
