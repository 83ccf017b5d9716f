import { runReadOnlyQuery } from "./sql-query";
import { invocationRow, journalRows, stateRows, type SqlViews } from "./sql-schema";

function views(invocationCount = 3): SqlViews {
  const invocations = Array.from({ length: invocationCount }, (_, i) =>
    invocationRow({
      id: `inv_1_${String(i).padStart(8, "0")}`,
      target: { service: "Cart", handler: "add", key: `k${i % 2}` },
      status: i === 0 ? "running" : "completed",
      ...(i !== 0 && { outcome: "succeeded" as const }),
      attempt: 1,
      handlerInvocations: 1,
      deploymentId: "dp_1",
      createdAtMs: 1000 + i,
      modifiedAtMs: 2000 + i,
    }),
  );
  return {
    invocations,
    journal: journalRows("inv_1_00000000", [
      { index: 0, kind: "input", value: '{"n":1}' },
      { index: 1, kind: "run", name: "charge-card", result: { kind: "value", value: "42" } },
      { index: 2, kind: "call", target: { service: "Other", handler: "go" }, parameter: "null" },
    ]),
    state: stateRows("Cart", "k0", { items: "[1,2]" }),
  };
}

function codeOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return "no error";
}

describe("runReadOnlyQuery", () => {
  it("runs SELECT and WITH over the three tables with their schema columns", () => {
    const v = views();
    expect(
      runReadOnlyQuery("SELECT status, count(*) AS n FROM invocations GROUP BY status ORDER BY status", v),
    ).toEqual({
      columns: ["status", "n"],
      rows: [
        ["completed", 2],
        ["running", 1],
      ],
      truncated: false,
    });
    const journal = runReadOnlyQuery(
      "-- the steps\nWITH j AS (SELECT * FROM journal) SELECT idx, kind, name, has_result, result FROM j ORDER BY idx",
      v,
    );
    expect(journal.rows).toEqual([
      [0, "input", null, 1, '{"n":1}'],
      [1, "run", "charge-card", 1, "42"],
      [2, "call", "Other/go", 0, null],
    ]);
    const joined = runReadOnlyQuery(
      "SELECT i.key, s.state_key, s.value FROM invocations i JOIN state s ON s.service = i.service AND s.key = i.key WHERE i.id = 'inv_1_00000000'",
      v,
    );
    expect(joined.rows).toEqual([["k0", "items", "[1,2]"]]);
  });

  it("rejects writes, schema changes, ATTACH, PRAGMA, transactions and multiple statements", () => {
    const v = views();
    for (const sql of [
      "INSERT INTO invocations (id) VALUES ('x')",
      "DROP TABLE invocations",
      "DELETE FROM state",
      "UPDATE invocations SET status = 'x'",
      "ATTACH DATABASE '/tmp/capstan-sql-test.db' AS evil",
      "PRAGMA user_version = 5",
      "PRAGMA table_info(invocations)",
      "BEGIN",
      "WITH x AS (SELECT 1) INSERT INTO state (service) SELECT * FROM x",
      "/* sneaky */ CREATE TABLE t (a)",
    ]) {
      expect([sql, codeOf(() => runReadOnlyQuery(sql, v))]).toEqual([sql, "ADMIN_QUERY_NOT_READ_ONLY"]);
    }
    expect(codeOf(() => runReadOnlyQuery("SELECT 1; DROP TABLE invocations", v))).toBe(
      "ADMIN_QUERY_MULTIPLE_STATEMENTS",
    );
    expect(codeOf(() => runReadOnlyQuery("SELECT nope FROM invocations", v))).toBe("ADMIN_QUERY_INVALID");
    expect(codeOf(() => runReadOnlyQuery("SELECT load_extension('/tmp/x.so')", v))).toBe(
      "ADMIN_QUERY_INVALID",
    );
    // The tables are intact afterwards (each query has its own database anyway).
    expect(runReadOnlyQuery("SELECT count(*) FROM invocations", v).rows).toEqual([[3]]);
  });

  it("truncates at the row limit and returns exactly the limit when it is reached", () => {
    const v = views(5);
    const atLimit = runReadOnlyQuery("SELECT id FROM invocations", v, { maxRows: 5, maxMs: 60_000 });
    expect(atLimit.rows).toHaveLength(5);
    expect(atLimit.truncated).toBe(false);
    const over = runReadOnlyQuery("SELECT id FROM invocations ORDER BY id", v, { maxRows: 4, maxMs: 60_000 });
    expect(over.rows).toHaveLength(4);
    expect(over.truncated).toBe(true);
  });

  it("stops a query that runs past the time limit (fake clock)", () => {
    let t = 0;
    const nowMs = (): number => (t += 10);
    const sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n";
    expect(codeOf(() => runReadOnlyQuery(sql, views(), { maxRows: 1_000_000, maxMs: 100, nowMs }))).toBe(
      "ADMIN_QUERY_TIMEOUT",
    );
  });
});
