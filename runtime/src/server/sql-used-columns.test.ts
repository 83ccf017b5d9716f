import Database from "better-sqlite3";
import { SQL_TABLES, type SqlTable } from "./sql-schema";
import { fileTableOf, fileTableParameters } from "./sql-state-files";
import { rawTable } from "./sql-virtual-table";
import { usedColumns } from "./sql-used-columns";

const TABLES = Object.keys(SQL_TABLES) as SqlTable[];

/** The file tables and views of a query's database, without files. */
function database(): Database.Database {
  const db = new Database(":memory:");
  for (const table of TABLES) {
    const columns = SQL_TABLES[table];
    rawTable(db, fileTableOf(table), { parameters: fileTableParameters(table), columns, *rows() {} });
    db.exec(`CREATE VIEW ${table} AS SELECT ${columns.join(", ")} FROM ${fileTableOf(table)}`);
  }
  return db;
}

test.each([
  ["SELECT count(*) FROM invocations", { invocations: [], journal: [], state: [] }],
  ["SELECT status, count(*) FROM invocations GROUP BY status", { invocations: ["status"] }],
  [
    "SELECT sum(CAST(value AS INTEGER)) FROM state WHERE service = 'counter'",
    { state: ["service", "value"] },
  ],
  [
    "SELECT i.id, j.kind FROM invocations i JOIN journal j ON j.invocation_id = i.id",
    { invocations: ["id"], journal: ["invocation_id", "kind"] },
  ],
])("%s reads only the columns it names", (sql, expected) => {
  const db = database();
  const used = usedColumns(db, sql, TABLES);
  for (const [table, columns] of Object.entries(expected)) {
    expect([...(used.get(table as SqlTable) ?? ["(all)"])].sort()).toEqual([...columns].sort());
  }
  db.close();
});

test("SELECT * reads every column", () => {
  const db = database();
  expect([...usedColumns(db, "SELECT * FROM journal", TABLES).get("journal")!]).toEqual([
    ...SQL_TABLES.journal,
  ]);
  db.close();
});

test("what cannot be read from the bytecode counts as every column", () => {
  const db = database();
  expect(usedColumns(db, "SELECT * FROM no_such_table", TABLES).get("invocations")).toBeUndefined();
  db.close();
});
