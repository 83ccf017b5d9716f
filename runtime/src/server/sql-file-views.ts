/**
 * The tables a statement sees when state files are read in place (sql-state-files.ts): each of
 * `invocations`, `journal`, `state` is a view, the UNION ALL of its file table (a JS virtual table over
 * the files) and the table the streamed rows are loaded into.
 *
 * A file table's view is first "linked": `WHERE id_eq = id AND …` holds for every row and lets SQLite
 * carry a statement's `id = 'x'` to the hidden parameter `id_eq`, which the scan answers from the
 * file's index. Reading both columns costs each row two values more, so once the statement is
 * compiled, the views of tables no scan of which got a constraint are made plain again (`narrow`).
 */
import type Database from "better-sqlite3";
import { SQL_TABLES, type SqlTable } from "./sql-schema";
import { fileTableOf, fileTableParameters, parameterColumns, type StateFiles } from "./sql-state-files";
import { usedColumns } from "./sql-used-columns";
import { rawTable } from "./sql-virtual-table";

const TABLES = Object.keys(SQL_TABLES) as SqlTable[];

export class FileViews {
  /** Columns each file table's scans compute: known once the statement is compiled, all until then. */
  private readonly used = new Map<SqlTable, ReadonlySet<string> | undefined>();

  /** Registers the file tables and creates the linked views; the streamed tables must exist. */
  constructor(
    private readonly db: Database.Database,
    files: StateFiles,
    private readonly streamedTable: (table: SqlTable) => string,
  ) {
    const used = this.used;
    for (const table of TABLES) {
      rawTable(db, fileTableOf(table), {
        parameters: fileTableParameters(table),
        columns: SQL_TABLES[table],
        *rows(...args: unknown[]) {
          yield* files.rows(table, used.get(table), args);
        },
      });
      this.createView(table, true);
    }
  }

  private createView(table: SqlTable, linked: boolean): void {
    const columns = SQL_TABLES[table].join(", ");
    const link = fileTableParameters(table)
      .map((p, i) => `${p} = ${parameterColumns(table)[i]}`)
      .join(" AND ");
    this.db.exec(
      `CREATE VIEW ${table} AS SELECT ${columns} FROM ${fileTableOf(table)}${linked ? ` WHERE ${link}` : ""} ` +
        `UNION ALL SELECT ${columns} FROM ${this.streamedTable(table)}`,
    );
  }

  /**
   * Once `sql` compiled: unlinks the views whose file table no scan constrains, then records the
   * columns the scans compute. @returns whether a view changed (the statement must be prepared again).
   */
  narrow(sql: string): boolean {
    let plan: string[];
    try {
      plan = (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map(
        (r) => r.detail,
      );
    } catch {
      // E.g. a statement with `?`: it fails when run, with the client's error.
      return false;
    }
    let changed = false;
    for (const table of TABLES) {
      const scans = plan.flatMap((d) => {
        const m = new RegExp(`\\b${fileTableOf(table)} VIRTUAL TABLE INDEX (\\d+)`).exec(d);
        return m === null ? [] : [Number(m[1])];
      });
      if (scans.length === 0 || scans.some((idxNum) => idxNum !== 0)) continue;
      this.db.exec(`DROP VIEW ${table}`);
      this.createView(table, false);
      changed = true;
    }
    for (const [table, columns] of usedColumns(this.db, sql, TABLES)) this.used.set(table, columns);
    return changed;
  }
}
