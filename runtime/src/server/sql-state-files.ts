/**
 * The SQL tables read straight from partitions' state files (storage/sqlite-state-schema.ts), in the
 * query's process: each file is opened read-only and a per-partition SELECT projects its stored
 * columns and JSON into exactly the columns of sql-schema.ts, so SQLite does the reading where the
 * data is and nothing copies a partition's state into the query's database.
 *
 * The files reach the statement through JS virtual tables (`file_invocations`, `file_journal`,
 * `file_state`), one scan walking the files in turn: better-sqlite3 is built with
 * SQLITE_MAX_ATTACHED = 10 and a runtime has up to 1024 partitions, so ATTACH does not scale. A scan
 * computes only the columns the statement reads (found in its bytecode, sql-used-columns.ts): the
 * others are NULL in the per-partition SELECT, so `count(*)` or a filter on `status` never parses a
 * JSON body. A statement's `=` on `invocations.id`, `invocations.status`, `journal.invocation_id`,
 * `state.service` and `state.key` reaches the scan through hidden parameter columns
 * (sql-virtual-table.ts) and is answered from the file's index, so a lookup by id reads one row.
 *
 * Consistency: each per-partition SELECT reads its file at its own instant (its own read
 * transaction, from its first row to its last); two files, or two scans of one file in one
 * statement, may be read at different instants. In WAL mode the runtime's writer is never blocked.
 */
import Database from "better-sqlite3";
import { ApiError } from "./api-error";
import { SQL_TABLES, type SqlTable } from "./sql-schema";

/** SQLite's page cache of one state file opened by a query (KiB); a scan reads pages once. */
export const STATE_FILE_QUERY_CACHE_KIB = 256;
/**
 * Connections a query keeps open between scans (the next scan of the file reuses one); beyond, a
 * finished scan closes its connection. With up to 1024 partitions, keeping every file open would put
 * 1024 caches and schemas (~300 MiB) under the query's MAX_QUERY_MEMORY_BYTES.
 */
export const MAX_IDLE_STATE_FILE_CONNECTIONS = 64;

/** The virtual table holding the file-read rows of `table`. */
export function fileTableOf(table: SqlTable): string {
  return `file_${table}`;
}

/** `service` and `key` of the `state` table from `object_key` (`service/key`, core/state.ts objectKey). */
const STATE_SERVICE = "substr(object_key, 1, instr(object_key, '/') - 1)";
const STATE_KEY = "substr(object_key, instr(object_key, '/') + 1)";

/**
 * A hidden parameter column of a file table: a statement's `column = value` reaches the scan as
 * `value` (sql-virtual-table.ts), which the per-partition SELECT filters by, with the file's index.
 */
interface Parameter {
  name: string;
  column: string;
}

interface Projection {
  parameters: readonly Parameter[];
  /** Each column's expression. */
  columns: Record<string, string>;
  from: string;
  /** The WHERE terms for the constrained parameters (named `@<parameter>`), indexed where they can be. */
  where: (constrained: ReadonlySet<string>) => string[];
}

/** The per-partition SELECT of each table: parameters, then the columns of sql-schema.ts. */
const PROJECTIONS: Record<SqlTable, Projection> = {
  invocations: {
    parameters: [
      { name: "id_eq", column: "id" },
      { name: "status_eq", column: "status" },
    ],
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
    // The primary key and `invocations_by_status`.
    where: (c) => [
      ...(c.has("id_eq") ? ["id = @id_eq"] : []),
      ...(c.has("status_eq") ? ["status = @status_eq"] : []),
    ],
  },
  // One row per journal entry, as journalRows in sql-schema.ts.
  journal: {
    parameters: [{ name: "invocation_id_eq", column: "invocation_id" }],
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
    where: (c) => (c.has("invocation_id_eq") ? ["i.id = @invocation_id_eq"] : []),
  },
  state: {
    parameters: [
      { name: "service_eq", column: "service" },
      { name: "key_eq", column: "key" },
    ],
    columns: { service: STATE_SERVICE, key: STATE_KEY, state_key: "state_key", value: "value" },
    from: "FROM object_state",
    // The primary key (object_key, state_key): one object, or the range of a service's objects
    // (`service/` up to `service0`, '0' following '/'); then exactly, as a service has no slash.
    where: (c) => [
      ...(c.has("service_eq") && c.has("key_eq") ? ["object_key = @service_eq || '/' || @key_eq"] : []),
      ...(c.has("service_eq") && !c.has("key_eq")
        ? ["object_key >= @service_eq || '/'", "object_key < @service_eq || '0'"]
        : []),
      ...(c.has("service_eq") ? [`${STATE_SERVICE} = @service_eq`] : []),
      ...(c.has("key_eq") ? [`${STATE_KEY} = @key_eq`] : []),
    ],
  },
};

/** The hidden parameter columns of `table`'s file table, before its columns. */
export function fileTableParameters(table: SqlTable): readonly string[] {
  return PROJECTIONS[table].parameters.map((p) => p.name);
}

/** The columns `table`'s parameters stand for, in the same order. */
export function parameterColumns(table: SqlTable): readonly string[] {
  return PROJECTIONS[table].parameters.map((p) => p.column);
}

/**
 * The per-partition SELECT of `table`: the parameters' columns, then the columns (only `used` ones
 * computed, parameters included, the others NULL or left out at the end), filtered by the
 * `constrained` parameters.
 *
 * @example projectionSql("state", new Set(["value"]), new Set())
 * // → "SELECT NULL, NULL, NULL, NULL, NULL, value FROM object_state"
 */
export function projectionSql(
  table: SqlTable,
  used: ReadonlySet<string> | undefined,
  constrained: ReadonlySet<string>,
): string {
  const { parameters, columns, from, where } = PROJECTIONS[table];
  const exprs = [
    ...parameters.map((p) => (used === undefined || used.has(p.name) ? columns[p.column]! : "NULL")),
    ...SQL_TABLES[table].map((c) => (used === undefined || used.has(c) ? columns[c]! : "NULL")),
  ];
  // Columns after the last one read are left out: a row shorter than the table reads as NULL there,
  // and a count yields one-value rows.
  while (exprs.length > 1 && exprs[exprs.length - 1] === "NULL") exprs.pop();
  const terms = where(constrained);
  return `SELECT ${exprs.join(", ")} ${from}${terms.length > 0 ? ` WHERE ${terms.join(" AND ")}` : ""}`;
}

/**
 * The partitions' state files, opened read-only when a scan first needs them, closed with the query.
 * better-sqlite3 runs nothing else on a connection while one of its statements is being iterated, and
 * a statement may scan a file table while another scan is open (a join, a subquery, a scan left
 * unfinished by LIMIT): each scan takes a connection no scan is using, opening one if there is none.
 */
export class StateFiles {
  /** Per file, the connections no scan is using. */
  private readonly idle: Database.Database[][];
  private idleCount = 0;
  private readonly open = new Set<Database.Database>();
  /** Scans being iterated (a connection cannot close while one of its statements is). */
  private readonly scans = new Set<IterableIterator<unknown[]>>();

  constructor(
    private readonly files: readonly string[],
    private readonly cacheKib = STATE_FILE_QUERY_CACHE_KIB,
    private readonly maxIdle = MAX_IDLE_STATE_FILE_CONNECTIONS,
  ) {
    this.idle = files.map(() => []);
  }

  /** Connections open now (idle or in use). */
  get connections(): number {
    return this.open.size;
  }

  /**
   * Rows of `table` in every file, one file after the other, as its file table's generator yields
   * them (sql-virtual-table.ts): `args` are its parameters' values, undefined when not constrained.
   * `used` columns are computed, the others NULL.
   */
  *rows(
    table: SqlTable,
    used: ReadonlySet<string> | undefined,
    args: readonly unknown[],
  ): Generator<unknown[]> {
    const params: Record<string, unknown> = {};
    PROJECTIONS[table].parameters.forEach((p, i) => {
      if (args[i] !== undefined) params[p.name] = args[i];
    });
    // Every column a parameter stands for holds text: another value equals no row.
    if (Object.values(params).some((v) => typeof v !== "string")) return;
    const sql = projectionSql(table, used, new Set(Object.keys(params)));
    for (let i = 0; i < this.files.length; i++) {
      const db = this.take(i);
      // A scan SQLite abandons is never finished: its connection stays in use until close().
      const scan = db.prepare(sql).raw(true).iterate(params) as IterableIterator<unknown[]>;
      this.scans.add(scan);
      yield* scan;
      this.scans.delete(scan);
      this.release(i, db);
    }
  }

  private take(i: number): Database.Database {
    const idle = this.idle[i]!.pop();
    if (idle === undefined) return this.connect(i);
    this.idleCount -= 1;
    return idle;
  }

  private release(i: number, db: Database.Database): void {
    if (this.idleCount >= this.maxIdle) {
      this.open.delete(db);
      db.close();
      return;
    }
    this.idle[i]!.push(db);
    this.idleCount += 1;
  }

  private connect(i: number): Database.Database {
    let db: Database.Database;
    try {
      db = new Database(this.files[i], { readonly: true, fileMustExist: true });
    } catch (e) {
      // Removed since the query started (the partition moved, or its file was replaced). The path
      // is the server's business: the client hears which partition-level condition it is.
      throw new ApiError(
        503,
        "RUNTIME_PARTITION_UNAVAILABLE",
        "a partition's state file could not be opened (the partition moved or was reloaded); retry",
        { cause: e },
      );
    }
    this.open.add(db);
    // Defence in depth: the connection is read-only already.
    db.pragma("query_only = ON");
    db.pragma(`cache_size = -${this.cacheKib}`);
    return db;
  }

  close(): void {
    for (const scan of this.scans) scan.return?.();
    for (const db of this.open) db.close();
    this.open.clear();
  }
}
