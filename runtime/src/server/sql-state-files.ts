/**
 * The SQL tables read straight from partitions' state files (storage/sqlite-state-schema.ts), in the
 * query's process: each file is opened read-only and a per-partition SELECT projects its stored
 * columns and JSON into exactly the columns of sql-schema.ts, so SQLite does the reading where the
 * data is and nothing copies a partition's state into the query's database.
 *
 * The files reach the statement through JS virtual tables (`file_invocations`, `file_journal`,
 * `file_state`), one scan walking the files in turn: better-sqlite3 is built with
 * SQLITE_MAX_ATTACHED = 10 and a runtime has up to 1024 partitions, so ATTACH does not scale. A scan
 * computes only the columns the statement reads (found in its bytecode, see `usedColumns`): the others
 * are NULL in the per-partition SELECT, so `count(*)` or a filter on `status` never parses a JSON body.
 *
 * Consistency: each per-partition SELECT reads its file at its own instant (its own read
 * transaction, from its first row to its last); two files, or two scans of one file in one
 * statement, may be read at different instants. In WAL mode the runtime's writer is never blocked.
 */
import Database from "better-sqlite3";
import { SQL_TABLES, type SqlTable } from "./sql-schema";

/**
 * SQLite's page cache of one state file opened by a query (KiB). Files are read one after the other,
 * but every opened connection keeps its cache until the query ends: 1024 partitions × 256 KiB stay
 * well within MAX_QUERY_MEMORY_BYTES.
 */
export const STATE_FILE_QUERY_CACHE_KIB = 256;

/** The virtual table holding the file-read rows of `table`. */
export function fileTableOf(table: SqlTable): string {
  return `file_${table}`;
}

/** Parts of the per-partition SELECT of each table: the column's expression, then FROM and the rest. */
const PROJECTIONS: Record<SqlTable, { columns: Record<string, string>; from: string }> = {
  invocations: {
    columns: {
      id: "id",
      service: "service",
      handler: "body ->> '$.target.handler'",
      key: "body ->> '$.target.key'",
      status: "status",
      outcome:
        "CASE WHEN status = 'completed' THEN " +
        "CASE WHEN body ->> '$.result.kind' = 'failure' THEN 'failed' ELSE 'succeeded' END END",
      attempt: "body ->> '$.attempt'",
      handler_invocations: "body ->> '$.handlerInvocations'",
      deployment_id: "body ->> '$.deploymentId'",
      idempotency_key: "body ->> '$.idempotencyKey'",
      created_at_ms: "created_at_ms",
      modified_at_ms: "body ->> '$.modifiedAtMs'",
      completed_at_ms: "body ->> '$.completedAtMs'",
      last_failure: "body ->> '$.lastFailure.message'",
    },
    from: "FROM invocations",
  },
  // One row per journal entry, as journalRows in sql-schema.ts.
  journal: {
    columns: {
      invocation_id: "i.id",
      idx: "e.value ->> '$.index'",
      kind: "e.value ->> '$.kind'",
      name:
        "CASE WHEN json_type(e.value, '$.target') IS NOT NULL " +
        "THEN (e.value ->> '$.target.service') || '/' || (e.value ->> '$.target.handler') " +
        "WHEN json_type(e.value, '$.name') = 'text' THEN e.value ->> '$.name' " +
        "WHEN json_type(e.value, '$.key') = 'text' THEN e.value ->> '$.key' END",
      has_result:
        "CASE WHEN e.value ->> '$.kind' = 'input' OR json_type(e.value, '$.result') IS NOT NULL THEN 1 ELSE 0 END",
      result:
        "CASE WHEN e.value ->> '$.kind' = 'input' THEN e.value ->> '$.value' " +
        "ELSE CASE e.value ->> '$.result.kind' WHEN 'value' THEN e.value ->> '$.result.value' " +
        "WHEN 'failure' THEN e.value ->> '$.result.failure.message' END END",
    },
    from: "FROM invocations i, json_each(i.body, '$.journal') e",
  },
  // `object_key` is `service/key` (core/state.ts objectKey): the service ends at the first slash.
  state: {
    columns: {
      service: "substr(object_key, 1, instr(object_key, '/') - 1)",
      key: "substr(object_key, instr(object_key, '/') + 1)",
      state_key: "state_key",
      value: "value",
    },
    from: "FROM object_state",
  },
};

/**
 * The per-partition SELECT of `table`, computing only `used` columns (the others are NULL).
 *
 * @example projectionSql("state", new Set(["value"])) // → "SELECT NULL, NULL, NULL, value FROM object_state"
 */
export function projectionSql(table: SqlTable, used?: ReadonlySet<string>): string {
  const { columns, from } = PROJECTIONS[table];
  const exprs = SQL_TABLES[table].map((c) => (used === undefined || used.has(c) ? columns[c]! : "NULL"));
  return `SELECT ${exprs.join(", ")} ${from}`;
}

/** The partitions' state files, opened read-only when a scan first needs them, closed with the query. */
export class StateFiles {
  private readonly connections: Array<Database.Database | undefined>;

  constructor(
    private readonly files: readonly string[],
    private readonly cacheKib = STATE_FILE_QUERY_CACHE_KIB,
  ) {
    this.connections = files.map(() => undefined);
  }

  get size(): number {
    return this.files.length;
  }

  /**
   * Rows of `table` in every file, one file after the other; `used` columns computed, others NULL.
   * A fresh statement per scan: a statement may scan one table twice at once (a self-join).
   */
  *rows(table: SqlTable, used?: ReadonlySet<string>): Generator<unknown[]> {
    const sql = projectionSql(table, used);
    for (let i = 0; i < this.files.length; i++) {
      const stmt = this.connection(i).prepare(sql).raw(true);
      yield* stmt.iterate() as IterableIterator<unknown[]>;
    }
  }

  private connection(i: number): Database.Database {
    let db = this.connections[i];
    if (db === undefined) {
      db = new Database(this.files[i], { readonly: true, fileMustExist: true });
      // Defence in depth: the connection is read-only already.
      db.pragma("query_only = ON");
      db.pragma(`cache_size = -${this.cacheKib}`);
      this.connections[i] = db;
    }
    return db;
  }

  close(): void {
    for (const db of this.connections) db?.close();
  }
}
