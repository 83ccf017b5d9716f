import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyBatch } from "../core/apply";
import type { LogRecord } from "../core/records";
import { exclusive, invId, newInvocation, obj, svc, wf, workflowRun } from "../core/test-support/builders";
import { LocalPartitionView } from "../partition/local-partition-view";
import { SqliteStateStore, SqliteStateStores } from "../storage/sqlite-state-store";
import { DEFAULT_QUERY_LIMITS, runReadOnlyQuery } from "./sql-query";
import { runQueryInProcess, viewsSource } from "./sql-query-process";
import { SQL_TABLES, type Row, type SqlTable, type SqlViews } from "./sql-schema";
import { MAX_IDLE_STATE_FILE_CONNECTIONS, STATE_FILE_QUERY_CACHE_KIB, StateFiles } from "./sql-state-files";

const NOW = 1_700_000_000_000;
const EMPTY: SqlViews = { invocations: [], journal: [], state: [] };
const TABLES = Object.keys(SQL_TABLES) as SqlTable[];

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-sql-files-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every kind of invocation and entry the SQL tables show, applied through the state machine. */
function records(p: number): LogRecord[] {
  const id = (n: number) => invId(p, n);
  const at = (n: number) => ({ atMs: NOW + n });
  return [
    // Completed with state (a counter), its journal with getState/setState/output.
    { kind: "invoke", invocation: exclusive(id(1), "k1", { idempotencyKey: "idem-1" }), ...at(1) },
    {
      kind: "entries",
      invocationId: id(1),
      attempt: 1,
      entries: [
        { index: 1, kind: "getState", key: "count", result: { kind: "empty" } },
        { index: 2, kind: "setState", key: "count", value: "7" },
        { index: 3, kind: "setState", key: "name/with/slash", value: '"x"' },
      ],
      outcome: { kind: "completed", value: "7" },
      ...at(2),
    },
    // Failed.
    { kind: "invoke", invocation: newInvocation(id(2)), ...at(3) },
    {
      kind: "entries",
      invocationId: id(2),
      attempt: 1,
      entries: [
        {
          index: 1,
          kind: "run",
          name: "step",
          result: { kind: "failure", failure: { code: 500, message: "boom" } },
        },
      ],
      outcome: { kind: "failed", failure: { code: 500, message: "terminal" } },
      ...at(4),
    },
    // Backing off after a retryable failure.
    { kind: "invoke", invocation: newInvocation(id(3), { target: svc("flaky") }), ...at(5) },
    {
      kind: "attempt-failed",
      invocationId: id(3),
      attempt: 1,
      message: "network down",
      retryable: true,
      ...at(6),
    },
    // Scheduled (a delayed send).
    { kind: "invoke", invocation: newInvocation(id(4), { notBeforeMs: NOW + 3_600_000 }), ...at(7) },
    // Suspended on calls, a send, an awakeable, a sleep and a workflow promise.
    { kind: "invoke", invocation: workflowRun(id(5), "w1"), ...at(8) },
    {
      kind: "entries",
      invocationId: id(5),
      attempt: 1,
      entries: [
        { index: 1, kind: "call", target: obj("k9", "get"), parameter: '"p"' },
        { index: 2, kind: "send", target: svc("fire"), parameter: "1", delayMs: 10 },
        { index: 3, kind: "awakeable", name: "approval" },
        { index: 4, kind: "promiseComplete", name: "done", completion: { kind: "value", value: '"ok"' } },
        { index: 5, kind: "promiseGet", name: "other" },
        { index: 6, kind: "sleep", durationMs: 60_000, wakeUpAtMs: NOW + 60_009 },
        { index: 7, kind: "run", name: "r", result: { kind: "value", value: "42" } },
      ],
      outcome: { kind: "suspended", awaiting: [3] },
      ...at(9),
    },
    { kind: "invoke", invocation: newInvocation(id(6), { target: wf("w1", "signal") }), ...at(10) },
  ] as LogRecord[];
}

async function filledStore(p: number, partitions: number): Promise<SqliteStateStore> {
  const store = await new SqliteStateStores(dir).open(p, partitions);
  applyBatch(store, 1, records(p));
  return store;
}

async function streamedRows(store: SqliteStateStore, table: SqlTable): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const chunk of new LocalPartitionView(() => store).sqlRows(new Set([table]), 100))
    rows.push(...chunk.rows);
  return rows;
}

const sorted = (rows: unknown[][]): string[] => rows.map((r) => JSON.stringify(r)).sort();

function asArrays(table: SqlTable, rows: Row[]): unknown[][] {
  return rows.map((r) => SQL_TABLES[table].map((c) => r[c] ?? null));
}

test("the file tables give exactly the rows the row builders give, for every kind of invocation and entry", async () => {
  const store = await filledStore(1, 4);
  try {
    for (const table of TABLES) {
      const expected = asArrays(table, await streamedRows(store, table));
      expect(expected.length).toBeGreaterThan(0);
      const fromFile = runReadOnlyQuery(`SELECT * FROM ${table}`, EMPTY, DEFAULT_QUERY_LIMITS, {
        files: [store.file],
      });
      expect(fromFile.columns).toEqual([...SQL_TABLES[table]]);
      expect(sorted(fromFile.rows)).toEqual(sorted(expected));
      // Column by column, as a statement reading one column computes it (the others NULL).
      for (const [i, column] of SQL_TABLES[table].entries()) {
        const one = runReadOnlyQuery(`SELECT ${column} FROM ${table}`, EMPTY, DEFAULT_QUERY_LIMITS, {
          files: [store.file],
        });
        expect(sorted(one.rows)).toEqual(sorted(expected.map((r) => [r[i]])));
      }
    }
    const statuses = runReadOnlyQuery(
      "SELECT DISTINCT status FROM invocations",
      EMPTY,
      DEFAULT_QUERY_LIMITS,
      {
        files: [store.file],
      },
    );
    expect(statuses.rows.flat()).toEqual(
      expect.arrayContaining(["completed", "backing-off", "scheduled", "suspended"]),
    );
  } finally {
    store.close();
  }
});

const literal = (v: unknown): string => (typeof v === "string" ? `'${v.replace(/'/g, "''")}'` : String(v));

test("a statement's = on a parameter column is answered from the file, with the same rows", async () => {
  const store = await filledStore(2, 4);
  const files = { files: [store.file] };
  const query = (sql: string) => sorted(runReadOnlyQuery(sql, EMPTY, DEFAULT_QUERY_LIMITS, files).rows);
  try {
    for (const [table, column] of [
      ["invocations", "id"],
      ["invocations", "status"],
      ["journal", "invocation_id"],
      ["state", "service"],
      ["state", "key"],
    ] as Array<[SqlTable, string]>) {
      const expected = asArrays(table, await streamedRows(store, table));
      const i = SQL_TABLES[table].indexOf(column as never);
      for (const value of new Set(expected.map((r) => r[i]))) {
        const want = sorted(expected.filter((r) => r[i] === value));
        expect(query(`SELECT * FROM ${table} WHERE ${column} = ${literal(value)}`)).toEqual(want);
        expect(query(`SELECT * FROM ${table} WHERE ${literal(value)} = ${column}`)).toEqual(want);
      }
      expect(query(`SELECT * FROM ${table} WHERE ${column} = 'none'`)).toEqual([]);
      // No text value equals a number, as in a table of the rows.
      expect(query(`SELECT * FROM ${table} WHERE ${column} = 1`)).toEqual([]);
    }
    expect(query("SELECT count(*) FROM state WHERE service = 'Obj/k1'")).toEqual(["[0]"]);
    expect(query("SELECT count(*) FROM state WHERE service = 'Obj' AND key = 'k1'")).toEqual(["[2]"]);
    const ids = [invId(2, 1), invId(2, 5)];
    expect(query(`SELECT id FROM invocations WHERE id IN (${ids.map(literal).join(", ")})`)).toEqual(
      sorted(ids.map((id) => [id])),
    );
    expect(
      query(`SELECT count(*) FROM invocations WHERE id = ${literal(ids[0])} AND status = 'suspended'`),
    ).toEqual(["[0]"]);
  } finally {
    store.close();
  }
});

test("= on a parameter column reaches the scan; the other parameters stay unconstrained", async () => {
  const store = await filledStore(2, 4);
  const scans = jest.spyOn(StateFiles.prototype, "rows");
  const query = (sql: string) => runReadOnlyQuery(sql, EMPTY, DEFAULT_QUERY_LIMITS, { files: [store.file] });
  try {
    query(`SELECT handler FROM invocations WHERE id = ${literal(invId(2, 1))}`);
    expect(scans.mock.calls.map((c) => [c[0], c[2]])).toEqual([["invocations", [invId(2, 1), undefined]]]);
    scans.mockClear();
    query("SELECT sum(CAST(value AS INTEGER)) FROM state WHERE service = 'Obj' AND state_key = 'count'");
    expect(scans.mock.calls.map((c) => [c[0], c[2]])).toEqual([["state", ["Obj", undefined]]]);
    // Not linked, not computed: a count reads no column at all.
    scans.mockClear();
    query("SELECT count(*) FROM journal");
    expect(scans.mock.calls.map((c) => [c[0], [...(c[1] ?? ["(all)"])], c[2]])).toEqual([
      ["journal", [], [undefined]],
    ]);
  } finally {
    scans.mockRestore();
    store.close();
  }
});

test("scans open at once (joins, subqueries, a scan LIMIT leaves unfinished) each read the files", async () => {
  const store = await filledStore(3, 4);
  const query = (sql: string) =>
    runReadOnlyQuery(sql, EMPTY, DEFAULT_QUERY_LIMITS, { files: [store.file] }).rows;
  try {
    const n = (await streamedRows(store, "invocations")).length;
    const entries = (await streamedRows(store, "journal")).length;
    expect(query("SELECT count(*) FROM invocations a JOIN invocations b ON a.id = b.id")).toEqual([[n]]);
    expect(query("SELECT count(*) FROM invocations a, invocations b")).toEqual([[n * n]]);
    expect(query("SELECT count(*) FROM journal j JOIN invocations i ON i.id = j.invocation_id")).toEqual([
      [entries],
    ]);
    expect(
      query("SELECT count(*) FROM invocations WHERE id = (SELECT invocation_id FROM journal LIMIT 1)"),
    ).toEqual([[1]]);
    expect(() => query("SELECT * FROM invocations WHERE id = ?")).toThrow(
      expect.objectContaining({ status: 400, code: "ADMIN_QUERY_INVALID" }),
    );
  } finally {
    store.close();
  }
});

test("the tables are the union of the files' rows and the streamed rows, in the query's process", async () => {
  const a = await filledStore(0, 2);
  const b = await filledStore(1, 2);
  try {
    const streamed: SqlViews = {
      invocations: await streamedRows(b, "invocations"),
      journal: [],
      state: await streamedRows(b, "state"),
    };
    const json = await runQueryInProcess(
      "SELECT count(*), count(DISTINCT id) FROM invocations",
      viewsSource(streamed),
      DEFAULT_QUERY_LIMITS,
      { files: [a.file] },
    );
    const n = (await streamedRows(a, "invocations")).length;
    expect(JSON.parse(json)).toMatchObject({ rows: [[2 * n, 2 * n]] });
    const state = JSON.parse(
      await runQueryInProcess(
        "SELECT sum(CAST(value AS INTEGER)) FROM state WHERE service = 'Obj' AND state_key = 'count'",
        viewsSource(streamed),
        DEFAULT_QUERY_LIMITS,
        { files: [a.file] },
      ),
    ) as { rows: unknown[][] };
    expect(state.rows).toEqual([[14]]);
  } finally {
    a.close();
    b.close();
  }
});

test("a statement over the files still cannot write, attach or set pragmas", async () => {
  const store = await filledStore(0, 1);
  try {
    for (const sql of [
      "DELETE FROM invocations",
      `ATTACH '${store.file}' AS x`,
      "PRAGMA query_only = OFF",
      "SELECT 1; DELETE FROM state",
    ]) {
      await expect(
        runQueryInProcess(sql, viewsSource(EMPTY), DEFAULT_QUERY_LIMITS, { files: [store.file] }),
      ).rejects.toMatchObject({ status: 400 });
    }
    expect(store.invocation(invId(0, 1))).toBeDefined();
  } finally {
    store.close();
  }
});

test(`a query keeps at most MAX_IDLE_STATE_FILE_CONNECTIONS (${MAX_IDLE_STATE_FILE_CONNECTIONS}) files open between scans`, async () => {
  const store = await filledStore(0, 1);
  await store.persist();
  const n = (await streamedRows(store, "invocations")).length;
  const files = Array.from({ length: MAX_IDLE_STATE_FILE_CONNECTIONS + 1 }, (_, i) => {
    const copy = path.join(dir, `copy-${i}.db`);
    fs.copyFileSync(store.file, copy);
    return copy;
  });
  store.close();
  for (const count of [MAX_IDLE_STATE_FILE_CONNECTIONS, MAX_IDLE_STATE_FILE_CONNECTIONS + 1]) {
    const state = new StateFiles(files.slice(0, count));
    try {
      expect([...state.rows("invocations", new Set(), [])].length).toBe(n * count);
      expect(state.connections).toBe(MAX_IDLE_STATE_FILE_CONNECTIONS);
      // A second scan reuses the idle ones: the same number stays open.
      expect([...state.rows("invocations", new Set(), [])].length).toBe(n * count);
      expect(state.connections).toBe(MAX_IDLE_STATE_FILE_CONNECTIONS);
    } finally {
      state.close();
    }
  }
});

test("a state file gone since the query started is a 503 to retry, without its path", () => {
  const gone = path.join(dir, "partitions", "p9.db");
  let error: unknown;
  try {
    runReadOnlyQuery("SELECT count(*) FROM invocations", EMPTY, DEFAULT_QUERY_LIMITS, { files: [gone] });
  } catch (e) {
    error = e;
  }
  expect(error).toMatchObject({ status: 503, code: "RUNTIME_PARTITION_UNAVAILABLE" });
  expect((error as Error).message).not.toContain(dir);
  // A statement that reads no table opens no file.
  expect(runReadOnlyQuery("SELECT 1", EMPTY, DEFAULT_QUERY_LIMITS, { files: [gone] }).rows).toEqual([[1]]);
});

test("a reader on a state file never makes persist() wait, and the file stays the runtime's to write", async () => {
  const store = await filledStore(0, 1);
  const files = new StateFiles([store.file], STATE_FILE_QUERY_CACHE_KIB);
  try {
    const rows = files.rows("invocations", undefined, []);
    rows.next(); // a read transaction open on the file, as during a long query
    applyBatch(store, 100, [{ kind: "invoke", invocation: newInvocation(invId(0, 99)), atMs: NOW }]);
    // Either it persisted everything, or it refuses at once (the next snapshot tries again).
    await store.persist().catch((e: Error) => expect(e.message).toMatch(/blocked by a reader/));
    rows.return(undefined);
    await expect(store.persist()).resolves.toBe(100);
  } finally {
    files.close();
    store.close();
  }
});
