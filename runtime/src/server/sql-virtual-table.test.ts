import Database from "better-sqlite3";
import { rawTable } from "./sql-virtual-table";

/** The contract sql-state-files.ts relies on, checked against the installed better-sqlite3. */
function database(calls: unknown[][]): Database.Database {
  const db = new Database(":memory:");
  const rows = [
    ["a", "x"],
    ["b", "y"],
  ];
  rawTable(db, "t", {
    parameters: ["k_eq"],
    columns: ["k", "v"],
    *rows(...args: unknown[]) {
      calls.push(args);
      for (const [k, v] of rows) if (args[0] === undefined || args[0] === k) yield [k, k, v];
    },
  });
  db.exec("CREATE VIEW w AS SELECT k, v FROM t WHERE k_eq = k");
  return db;
}

test("rows are read as yielded, hidden parameters first; unconstrained parameters are undefined", () => {
  const calls: unknown[][] = [];
  const db = database(calls);
  expect(db.prepare("SELECT k, v FROM w").raw(true).all()).toEqual([
    ["a", "x"],
    ["b", "y"],
  ]);
  expect(calls).toEqual([[undefined]]);
  db.close();
});

test("a view's `k_eq = k` carries a statement's `k = constant` to the generator", () => {
  const calls: unknown[][] = [];
  const db = database(calls);
  expect(db.prepare("SELECT v FROM w WHERE k = 'b'").raw(true).all()).toEqual([["y"]]);
  expect(calls).toEqual([["b"]]);
  db.close();
});

test("other comparisons on the column still read every row and filter them", () => {
  const calls: unknown[][] = [];
  const db = database(calls);
  expect(db.prepare("SELECT v FROM w WHERE k > 'a'").raw(true).all()).toEqual([["y"]]);
  expect(db.prepare("SELECT v FROM w WHERE k LIKE 'a%'").raw(true).all()).toEqual([["x"]]);
  expect(calls).toEqual([[undefined], [undefined]]);
  db.close();
});
