/**
 * An eponymous JS virtual table whose generator yields its rows as SQLite sees them: the values of the
 * hidden parameter columns first, then the columns. better-sqlite3's public `db.table()` fills the
 * hidden columns with the arguments (NULL when a parameter is not constrained) and copies every row
 * into an array of its own; the file tables (sql-state-files.ts) need a hidden column to hold the
 * row's own value when unconstrained, so that a view's `WHERE id_eq = id` is always true and SQLite's
 * constant propagation turns a statement's `id = 'x'` into the constraint `id_eq = 'x'`, which the
 * generator receives and answers from the state file's index. This registers the table through the
 * same native call `db.table()` makes (better-sqlite3 12, lib/methods/table.js), without the copy.
 * sql-virtual-table.test.ts checks that contract, so an upgrade that changes it fails there.
 */
import type Database from "better-sqlite3";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { cppdb } = require("better-sqlite3/lib/util") as { cppdb: symbol };

interface NativeDatabase {
  table(factory: () => unknown[], name: string, eponymous: boolean): void;
}

/** better-sqlite3's "use the database's default" for safe integers. */
const DEFAULT_SAFE_INTEGERS = 2;

export interface RawTable {
  /** Hidden columns, constrained only by `=`: each constrained value is passed to `rows`. */
  parameters: readonly string[];
  columns: readonly string[];
  /** Arrays of parameters.length + columns.length values; unconstrained parameters are `undefined`. */
  rows: (...args: unknown[]) => Iterator<unknown[]>;
}

const identifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** @example rawTable(db, "t", { parameters: ["k_eq"], columns: ["k"], *rows(k) { yield [k ?? 1, k ?? 1]; } }) */
export function rawTable(db: Database.Database, name: string, table: RawTable): void {
  const declared = [
    ...table.parameters.map((p) => `${identifier(p)} HIDDEN`),
    ...table.columns.map(identifier),
  ];
  const definition = [
    `CREATE TABLE x(${declared.join(", ")});`,
    table.rows,
    [...table.parameters],
    DEFAULT_SAFE_INTEGERS,
    false,
  ];
  (db as unknown as Record<symbol, NativeDatabase>)[cppdb]!.table(() => definition, name, true);
}
