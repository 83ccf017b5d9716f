/**
 * The tables a statement sees when state files are read in place (sql-state-files.ts): each of
 * `invocations`, `journal`, `state` is a view, the UNION ALL of its file table (a JS virtual table over
 * the files) and the table the streamed rows are loaded into.
 *
 * A file table's view is first "linked": `WHERE id_eq = id AND …` holds for every row and lets SQLite
 * carry a statement's `id = 'x'` to the hidden parameter `id_eq`, which the scan answers from the
 * file's index. Reading both columns costs each row two values more, so once the statement is
 * compiled, each view keeps only the links of parameters a scan got a constraint on (`narrow`).
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
      this.createView(table, (1 << fileTableParameters(table).length) - 1);
    }
  }

  /** The view of `table`, linking the parameters whose bit is set in `mask` to their columns. */
  private createView(table: SqlTable, mask: number): void {
    const columns = SQL_TABLES[table].join(", ");
    const link = fileTableParameters(table)
      .flatMap((p, i) => ((mask & (1 << i)) !== 0 ? [`${p} = ${parameterColumns(table)[i]}`] : []))
      .join(" AND ");
    this.db.exec(
      `CREATE VIEW ${table} AS SELECT ${columns} FROM ${fileTableOf(table)}${link === "" ? "" : ` WHERE ${link}`} ` +
        `UNION ALL SELECT ${columns} FROM ${this.streamedTable(table)}`,
    );
  }

  /**
   * Once `sql` compiled: keeps linked only the parameters some scan is constrained by (the plan's
   * `VIRTUAL TABLE INDEX n`: better-sqlite3 sets bit i for parameter i), then records the columns the
   * scans compute. @returns whether a view changed (the statement must be prepared again).
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
      const all = (1 << fileTableParameters(table).length) - 1;
      let mask = 0;
      let scanned = false;
      for (const detail of plan) {
        const m = new RegExp(`\\b${fileTableOf(table)} VIRTUAL TABLE INDEX (\\d+)`).exec(detail);
        if (m === null) continue;
        scanned = true;
        mask |= Number(m[1]);
      }
      if (!scanned || (mask & all) === all) continue;
      this.db.exec(`DROP VIEW ${table}`);
      this.createView(table, mask & all);
      changed = true;
    }
    for (const [table, columns] of usedColumns(this.db, sql, TABLES)) this.used.set(table, columns);
    return changed;
  }
}
