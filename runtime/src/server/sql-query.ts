/**
 * Read-only SQL over snapshots of invocations, journal and state: an in-memory SQLite database per
 * query, built from rows the runtime supplies. Only one SELECT/WITH statement that SQLite itself
 * reports as read-only is run, bounded in rows and time.
 */
import Database from "better-sqlite3";
import { ApiError } from "./api-error";
import { MAX_QUERY_MS, MAX_QUERY_ROWS } from "./limits";
import type { QueryResult } from "./runtime-api";
import { SQL_TABLES, type SqlViews } from "./sql-schema";

export interface QueryLimits {
  maxRows: number;
  maxMs: number;
  /** Clock for the time limit (tests inject a fake). */
  nowMs?: () => number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxRows: MAX_QUERY_ROWS, maxMs: MAX_QUERY_MS };

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

/**
 * Runs one read-only query.
 *
 * @throws ApiError 400 ADMIN_QUERY_NOT_READ_ONLY (writes, ATTACH, PRAGMA, transactions),
 *   ADMIN_QUERY_MULTIPLE_STATEMENTS, ADMIN_QUERY_INVALID (SQL error), ADMIN_QUERY_TIMEOUT.
 * @example
 * runReadOnlyQuery("SELECT status, count(*) FROM invocations GROUP BY status", views)
 * // → { columns: ["status", "count(*)"], rows: [["completed", 3]], truncated: false }
 */
export function runReadOnlyQuery(
  sql: string,
  views: SqlViews,
  limits: QueryLimits = DEFAULT_QUERY_LIMITS,
): QueryResult {
  const keyword = firstKeyword(sql);
  if (keyword !== "SELECT" && keyword !== "WITH")
    throw notReadOnly(`statement starts with ${keyword || "nothing"}`);

  const db = new Database(":memory:");
  try {
    load(db, views);
    // Defence in depth: even a statement that slipped through cannot write.
    db.pragma("query_only = ON");
    let stmt: Database.Statement;
    try {
      stmt = db.prepare(sql);
    } catch (e) {
      const message = (e as Error).message;
      if (/more than one statement/i.test(message)) {
        throw new ApiError(400, "ADMIN_QUERY_MULTIPLE_STATEMENTS", "only a single statement is allowed", {
          cause: e,
        });
      }
      throw new ApiError(400, "ADMIN_QUERY_INVALID", message, { cause: e });
    }
    // `readonly` alone lets ATTACH/BEGIN through (they do not write the file); `reader` requires rows.
    if (!stmt.readonly || !stmt.reader) throw notReadOnly("statement may write or returns no rows");
    stmt.raw(true);
    const columns = stmt.columns().map((c) => c.name);
    return collect(stmt, columns, limits);
  } finally {
    db.close();
  }
}

function collect(stmt: Database.Statement, columns: string[], limits: QueryLimits): QueryResult {
  const now = limits.nowMs ?? (() => performance.now());
  const started = now();
  const rows: unknown[][] = [];
  let truncated = false;
  try {
    for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
      if (now() - started > limits.maxMs) {
        throw new ApiError(400, "ADMIN_QUERY_TIMEOUT", `query ran longer than ${limits.maxMs} ms`);
      }
      if (rows.length === limits.maxRows) {
        truncated = true;
        break;
      }
      rows.push(row.map(toJsonValue));
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, "ADMIN_QUERY_INVALID", (e as Error).message, { cause: e });
  }
  return { columns, rows, truncated };
}

function load(db: Database.Database, views: SqlViews): void {
  for (const [table, columns] of Object.entries(SQL_TABLES)) {
    db.exec(`CREATE TABLE ${table} (${columns.join(", ")})`);
    const insert = db.prepare(
      `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    );
    const rows = views[table as keyof SqlViews];
    db.transaction(() => {
      for (const row of rows) insert.run(columns.map((c) => row[c] ?? null));
    })();
  }
  db.exec("CREATE INDEX invocations_service ON invocations (service, key)");
  db.exec("CREATE INDEX journal_invocation ON journal (invocation_id, idx)");
  db.exec("CREATE INDEX state_object ON state (service, key)");
}
