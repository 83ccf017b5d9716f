/**
 * The peer method `sqlRowsPage`: one bounded page of one SQL table's rows of one partition, read on the
 * partition's leader for a query answered by another node of the cluster (remote-sql-rows.ts pages
 * through it). The leader answers only for a partition it leads, with its epoch, so the answering node
 * can tell a partition that moved between two pages (RUNTIME_PARTITION_UNAVAILABLE otherwise).
 *
 * The request crossed a network: everything in it is checked here before any read (the sender is
 * authenticated by the peer listener, but may run another version).
 */
import type { SqlRowCursor, SqlRowsPage } from "../partition/partition-router";
import { ApiError } from "../server/api-error";
import { MAX_PEER_SQL_PAGE_ROWS, MAX_SQL_CURSOR_LENGTH } from "../server/limits";
import { SQL_TABLES, type SqlTable } from "../server/sql-schema";

export interface SqlPageRequest {
  partition: number;
  table: SqlTable;
  /** The previous page's `next`; absent for the first page. */
  after?: SqlRowCursor;
  /** 1 … MAX_PEER_SQL_PAGE_ROWS. */
  maxRows: number;
}

/** A page read on the partition's leader, at the epoch it leads the partition at. */
export interface LedSqlRowsPage extends SqlRowsPage {
  epoch: number;
}

/**
 * The request, validated and bounded; 400 PEER_BAD_REQUEST naming the first thing wrong.
 *
 * @example decodeSqlPageRequest({ partition: 3, table: "journal", maxRows: 500 }, 8)
 */
export function decodeSqlPageRequest(value: unknown, partitions: number): SqlPageRequest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("must be an object");
  const { partition, table, after, maxRows } = value as Record<string, unknown>;
  if (
    typeof partition !== "number" ||
    !Number.isInteger(partition) ||
    partition < 0 ||
    partition >= partitions
  )
    throw bad(`partition must be a partition number below ${partitions}`);
  if (typeof table !== "string" || !Object.hasOwn(SQL_TABLES, table))
    throw bad(`table must be one of ${Object.keys(SQL_TABLES).join(", ")}`);
  if (
    typeof maxRows !== "number" ||
    !Number.isInteger(maxRows) ||
    maxRows < 1 ||
    maxRows > MAX_PEER_SQL_PAGE_ROWS
  )
    throw bad(`maxRows must be an integer from 1 to ${MAX_PEER_SQL_PAGE_ROWS}`);
  const request: SqlPageRequest = { partition, table: table as SqlTable, maxRows };
  if (after !== undefined) request.after = decodeCursor(after, table as SqlTable);
  return request;
}

/** A cursor as its table makes them: `invocations` an item; `journal` an entry index; `state` a state key. */
function decodeCursor(value: unknown, table: SqlTable): SqlRowCursor {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw bad("after must be an object");
  const { item, row } = value as Record<string, unknown>;
  if (typeof item !== "string" || item.length > MAX_SQL_CURSOR_LENGTH)
    throw bad(`after.item must be a string of at most ${MAX_SQL_CURSOR_LENGTH} characters`);
  switch (table) {
    case "invocations":
      if (row !== undefined) throw bad("an invocations cursor has no row");
      return { item };
    case "journal":
      if (typeof row !== "number" || !Number.isInteger(row) || row < 0)
        throw bad("a journal cursor's row is an entry index");
      return { item, row };
    case "state":
      if (typeof row !== "string" || row.length > MAX_SQL_CURSOR_LENGTH)
        throw bad(`a state cursor's row is a state key of at most ${MAX_SQL_CURSOR_LENGTH} characters`);
      return { item, row };
  }
}

function bad(message: string): ApiError {
  return new ApiError(400, "PEER_BAD_REQUEST", `sqlRowsPage: ${message}`);
}
