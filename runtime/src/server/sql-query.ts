/**
 * Read-only SQL over snapshots of invocations, journal and state: an in-memory SQLite database per
 * query, filled with rows the runtime supplies. Only one SELECT/WITH statement that SQLite itself
 * reports as read-only is run, bounded in rows, result bytes, memory and time. The statement is
 * checked against the empty tables before any row is loaded, so a refusal costs no data.
 */
import Database from "better-sqlite3";
import { ApiError } from "./api-error";
import { MAX_QUERY_MEMORY_BYTES, MAX_QUERY_MS, MAX_QUERY_RESULT_BYTES, MAX_QUERY_ROWS } from "./limits";
import type { QueryResult } from "./runtime-api";
import { SQL_TABLES, type Row, type SqlTable, type SqlViews } from "./sql-schema";
import { FileViews } from "./sql-file-views";
import { StateFiles } from "./sql-state-files";

export interface QueryLimits {
  maxRows: number;
  maxMs: number;
  /** Bytes of the result's JSON text; beyond: 400 ADMIN_QUERY_RESULT_TOO_LARGE. */
  maxResultBytes?: number;
  /** SQLite's heap (tables and the statement's work); beyond: 400 ADMIN_QUERY_TOO_LARGE. */
  maxMemoryBytes?: number;
  /** Clock for the time limit (tests inject a fake). */
  nowMs?: () => number;
}

/** Where a query's rows come from besides those streamed to it. */
export interface QuerySources {
  /**
   * Partitions' state files (storage/sqlite-state-schema.ts), read in place, read-only: their rows
   * join the streamed ones in each table. A partition read from a file must not also be streamed.
   */
  files?: readonly string[];
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxRows: MAX_QUERY_ROWS,
  maxMs: MAX_QUERY_MS,
  maxResultBytes: MAX_QUERY_RESULT_BYTES,
  maxMemoryBytes: MAX_QUERY_MEMORY_BYTES,
};

/**
 * The tables a statement can read: those whose name appears in it as a word (SQLite needs the name in
 * the text, quoted or not, to read a table), so `SELECT 1` loads nothing. Over-approximates safely.
 *
 * @example referencedTables("select * from Journal j") // → Set { "journal" }
 */
export function referencedTables(sql: string): Set<SqlTable> {
  const out = new Set<SqlTable>();
  for (const table of Object.keys(SQL_TABLES) as SqlTable[]) {
    if (new RegExp(`\\b${table}\\b`, "i").test(sql)) out.add(table);
  }
  return out;
}

/** Strips leading whitespace and SQL comments, to read the statement's first keyword. */
function firstKeyword(sql: string): string {
  let s = sql;
  for (;;) {
    const t = s.trimStart();
    if (t.startsWith("--")) {
      const nl = t.indexOf("\n");
      s = nl === -1 ? "" : t.slice(nl + 1);
    } else if (t.startsWith("/*")) {
      const end = t.indexOf("*/");
      s = end === -1 ? "" : t.slice(end + 2);
    } else {
      return (/^[A-Za-z]+/.exec(t)?.[0] ?? "").toUpperCase();
    }
  }
}

function notReadOnly(what: string): ApiError {
  return new ApiError(
    400,
    "ADMIN_QUERY_NOT_READ_ONLY",
    `only a single read-only SELECT/WITH query is allowed (${what})`,
  );
}

function toJsonValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Buffer.isBuffer(v)) return v.toString("base64");
  return v;
}

/** SQLite's own failures, as the client's 400s: its statement asked for too much, or is wrong. */
function sqliteRefusal(e: unknown, limits: QueryLimits): ApiError {
  if (e instanceof ApiError) return e;
  const { code, message } = e as { code?: string; message: string };
  if (code === "SQLITE_NOMEM" || code === "SQLITE_TOOBIG") {
    return new ApiError(
      400,
      "ADMIN_QUERY_TOO_LARGE",
      `the query needs more than ${limits.maxMemoryBytes ?? "its"} bytes of memory (${message})`,
      { cause: e },
    );
  }
  return new ApiError(400, "ADMIN_QUERY_INVALID", message, { cause: e });
}

/**
 * One query's database: the schema, then the statement checked against it, then the rows, then the
 * run. `open` refuses a statement that is not a single read-only SELECT/WITH before any row is loaded.
 */
export class QueryDatabase {
  private readonly db: Database.Database;
  private readonly stmt: Database.Statement;
  private readonly inserts = new Map<SqlTable, Database.Statement>();
  private readonly files: StateFiles | undefined;
  /** Where streamed rows go: the table itself, or (with files) a table the view adds to the files' rows. */
  private readonly streamedTable: (table: SqlTable) => string;

  /**
   * @throws ApiError 400 ADMIN_QUERY_NOT_READ_ONLY (writes, ATTACH, PRAGMA, transactions),
   *   ADMIN_QUERY_MULTIPLE_STATEMENTS, ADMIN_QUERY_INVALID (SQL error).
   */
  constructor(
    sql: string,
    private readonly limits: QueryLimits = DEFAULT_QUERY_LIMITS,
    sources: QuerySources = {},
  ) {
    const keyword = firstKeyword(sql);
    if (keyword !== "SELECT" && keyword !== "WITH")
      throw notReadOnly(`statement starts with ${keyword || "nothing"}`);
    const files = sources.files ?? [];
    this.files = files.length > 0 ? new StateFiles(files) : undefined;
    this.streamedTable = this.files === undefined ? (t) => t : (t) => `streamed_${t}`;
    this.db = new Database(":memory:");
    try {
      if (limits.maxMemoryBytes !== undefined) this.db.pragma(`hard_heap_limit = ${limits.maxMemoryBytes}`);
      for (const [table, columns] of Object.entries(SQL_TABLES) as Array<[SqlTable, readonly string[]]>) {
        const streamed = this.streamedTable(table);
        this.db.exec(`CREATE TABLE ${streamed} (${columns.join(", ")})`);
        this.inserts.set(
          table,
          this.db.prepare(
            `INSERT INTO ${streamed} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          ),
        );
      }
      const views =
        this.files === undefined ? undefined : new FileViews(this.db, this.files, this.streamedTable);
      let stmt = this.prepare(sql);
      if (views?.narrow(sql) === true) stmt = this.prepare(sql);
      this.stmt = stmt;
    } catch (e) {
      this.db.close();
      this.files?.close();
      throw e;
    }
  }

  private prepare(sql: string): Database.Statement {
    let stmt: Database.Statement;
    try {
      stmt = this.db.prepare(sql);
    } catch (e) {
      if (/more than one statement/i.test((e as Error).message)) {
        throw new ApiError(400, "ADMIN_QUERY_MULTIPLE_STATEMENTS", "only a single statement is allowed", {
          cause: e,
        });
      }
      throw sqliteRefusal(e, this.limits);
    }
    // `readonly` alone lets ATTACH/BEGIN through (they do not write the file); `reader` requires rows.
    if (!stmt.readonly || !stmt.reader) throw notReadOnly("statement may write or returns no rows");
    stmt.raw(true);
    return stmt;
  }

  /** @throws ApiError 400 ADMIN_QUERY_TOO_LARGE when the tables outgrow the memory limit. */
  load(table: SqlTable, rows: readonly Row[]): void {
    const insert = this.inserts.get(table)!;
    const columns = SQL_TABLES[table];
    try {
      this.db.transaction(() => {
        for (const row of rows) insert.run(columns.map((c) => row[c] ?? null));
      })();
    } catch (e) {
      throw sqliteRefusal(e, this.limits);
    }
  }

  /**
   * Runs the statement over what was loaded and returns the QueryResult as JSON text, built row by
   * row so the result's bound holds before it is all in memory.
   *
   * @throws ApiError 400 ADMIN_QUERY_TIMEOUT, ADMIN_QUERY_RESULT_TOO_LARGE, ADMIN_QUERY_TOO_LARGE,
   *   ADMIN_QUERY_INVALID (a run-time SQL error).
   */
  run(): string {
    const { limits } = this;
    try {
      const t = this.streamedTable;
      this.db.exec(`CREATE INDEX invocations_service ON ${t("invocations")} (service, key)`);
      this.db.exec(`CREATE INDEX journal_invocation ON ${t("journal")} (invocation_id, idx)`);
      this.db.exec(`CREATE INDEX state_object ON ${t("state")} (service, key)`);
      // Defence in depth: even a statement that slipped through cannot write.
      this.db.pragma("query_only = ON");
    } catch (e) {
      throw sqliteRefusal(e, limits);
    }
    const now = limits.nowMs ?? (() => performance.now());
    const maxBytes = limits.maxResultBytes ?? Number.POSITIVE_INFINITY;
    const started = now();
    const head = `{"columns":${JSON.stringify(this.stmt.columns().map((c) => c.name))},"rows":[`;
    const parts: string[] = [head];
    // Counted with the longest tail, so the whole text is within the bound whichever tail it gets.
    let bytes = Buffer.byteLength(head, "utf8") + RESULT_TAIL_MAX_BYTES;
    let count = 0;
    let truncated = false;
    try {
      for (const row of this.stmt.iterate() as IterableIterator<unknown[]>) {
        if (now() - started > limits.maxMs) {
          throw new ApiError(400, "ADMIN_QUERY_TIMEOUT", `query ran longer than ${limits.maxMs} ms`);
        }
        if (count === limits.maxRows) {
          truncated = true;
          break;
        }
        // A single cell can be far larger than the limit (`printf('%.*c', 5e8, 'x')`): measured first.
        for (const cell of row) {
          if (typeof cell === "string" && cell.length > maxBytes) throw resultTooLarge(maxBytes);
        }
        const text = (count === 0 ? "" : ",") + JSON.stringify(row.map(toJsonValue));
        bytes += Buffer.byteLength(text, "utf8");
        if (bytes > maxBytes) throw resultTooLarge(maxBytes);
        parts.push(text);
        count += 1;
      }
    } catch (e) {
      throw sqliteRefusal(e, limits);
    }
    parts.push(`],"truncated":${truncated}}`);
    return parts.join("");
  }

  close(): void {
    this.db.close();
    this.files?.close();
  }
}

const RESULT_TAIL_MAX_BYTES = '],"truncated":false}'.length;

function resultTooLarge(maxBytes: number): ApiError {
  return new ApiError(
    400,
    "ADMIN_QUERY_RESULT_TOO_LARGE",
    `the result is larger than ${maxBytes} bytes; select fewer columns or rows`,
  );
}

/**
 * Runs one read-only query over `views`, in this thread. The runtime runs queries in a process of
 * their own (sql-query-process.ts); this is the same work for tests and tools.
 *
 * @throws ApiError as QueryDatabase.
 * @example
 * runReadOnlyQuery("SELECT status, count(*) FROM invocations GROUP BY status", views)
 * // → { columns: ["status", "count(*)"], rows: [["completed", 3]], truncated: false }
 */
export function runReadOnlyQuery(
  sql: string,
  views: SqlViews,
  limits: QueryLimits = DEFAULT_QUERY_LIMITS,
  sources: QuerySources = {},
): QueryResult {
  const db = new QueryDatabase(sql, limits, sources);
  try {
    for (const table of referencedTables(sql)) db.load(table, views[table]);
    return JSON.parse(db.run()) as QueryResult;
  } finally {
    db.close();
  }
}
