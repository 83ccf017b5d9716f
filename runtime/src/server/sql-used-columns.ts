/**
 * Which columns of the file tables (sql-state-files.ts) a compiled statement reads, from its bytecode
 * (`EXPLAIN`): a virtual table's cursor is opened by `VOpen` (P4 names the table instance) and each
 * column is read by `VColumn` (P1 the cursor, P2 the column). A scan then computes only those columns
 * and `count(*)` never parses a JSON body. Whatever cannot be read with certainty counts as every
 * column (`undefined`): the answer may only over-approximate.
 */
import type Database from "better-sqlite3";
import { SQL_TABLES, type SqlTable } from "./sql-schema";
import { fileTableOf, fileTableParameters } from "./sql-state-files";

interface Op {
  opcode: string;
  p1: number;
  p2: number;
  p4: string | null;
}

function explain(db: Database.Database, sql: string): Op[] {
  return db.prepare(`EXPLAIN ${sql}`).all() as Op[];
}

/**
 * @returns per table, the columns read (empty: none, e.g. `count(*)`), or undefined: all of them.
 * @example usedColumns(db, "SELECT count(*) FROM invocations WHERE status = 'x'", ["invocations"])
 * // → Map { "invocations" → Set { "status" } }
 */
export function usedColumns(
  db: Database.Database,
  sql: string,
  tables: readonly SqlTable[],
): Map<SqlTable, ReadonlySet<string> | undefined> {
  const all = new Map<SqlTable, ReadonlySet<string> | undefined>(tables.map((t) => [t, undefined]));
  let ops: Op[];
  const instances = new Map<string, SqlTable>();
  try {
    for (const table of tables) {
      const open = explain(db, `SELECT * FROM ${fileTableOf(table)}`).find((op) => op.opcode === "VOpen");
      if (open?.p4 === undefined || open.p4 === null || instances.has(open.p4)) return all;
      instances.set(open.p4, table);
    }
    ops = explain(db, sql);
  } catch {
    return all;
  }
  const cursors = new Map<number, SqlTable>();
  for (const op of ops) {
    if (op.opcode !== "VOpen") continue;
    const table = op.p4 === null ? undefined : instances.get(op.p4);
    // A virtual table the statement opens that is none of ours: nothing is known for certain.
    if (table === undefined) return all;
    cursors.set(op.p1, table);
  }
  const used = new Map<SqlTable, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  for (const op of ops) {
    if (op.opcode !== "VColumn") continue;
    const table = cursors.get(op.p1);
    // The hidden parameter columns come first.
    const column =
      table === undefined ? undefined : [...fileTableParameters(table), ...SQL_TABLES[table]][op.p2];
    if (table === undefined || column === undefined) return all;
    used.get(table)!.add(column);
  }
  return used;
}
