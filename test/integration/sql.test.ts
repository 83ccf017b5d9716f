/**
 * Read-only SQL on a real runtime over its admin HTTP API: the tables hold what the runtime holds,
 * more queries than MAX_CONCURRENT_QUERIES are refused with 429 while the ingress keeps serving, and
 * oversized results are a 400 instead of a stalled runtime.
 */
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";
import { MAX_CONCURRENT_QUERIES, QUERY_ROWS_PER_CHUNK } from "../../runtime/src/server/limits";
import { counter } from "./support/counter";

jest.setTimeout(60_000);

let env: TestEnvironment;
beforeAll(async () => {
  env = await startTestEnvironment({ services: [counter], time: "real" });
});
afterAll(async () => env.close());

async function query(sql: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${env.adminUrl}/query`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.adminToken}` },
    body: JSON.stringify({ query: sql }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function add(key: string): Promise<number> {
  const res = await fetch(`${env.ingressUrl}/Counter/${key}/add`, { method: "POST", body: "1" });
  expect(res.status).toBe(200);
  return (await res.json()) as number;
}

test("the tables hold every invocation, journal entry and state value, read from the state files", async () => {
  // More invocations than one chunk (as they were streamed before the files were read in place).
  const n = QUERY_ROWS_PER_CHUNK + 20;
  for (let i = 0; i < n; i++) await add(`k${i % 5}`);
  const counts = await query(
    "SELECT (SELECT count(*) FROM invocations WHERE service = 'Counter'), " +
      "(SELECT count(*) FROM journal WHERE kind = 'input'), " +
      "(SELECT sum(CAST(value AS INTEGER)) FROM state WHERE service = 'Counter' AND state_key = 'count')",
  );
  expect([counts.status, counts.body.rows, counts.body.truncated]).toEqual([200, [[n, n, n]], false]);
});

test(`beyond ${MAX_CONCURRENT_QUERIES} queries at once: 429 ADMIN_QUERY_BUSY, and the ingress keeps serving`, async () => {
  const runaway = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
  const flood = Array.from({ length: MAX_CONCURRENT_QUERIES + 4 }, () => query(runaway));
  // While the allowed queries run to their time limit, calls still complete.
  const before = await add("busy");
  expect(await add("busy")).toBe(before + 1);
  const answers = await Promise.all(flood);
  const busy = answers.filter((a) => a.status === 429);
  expect(busy.length).toBeGreaterThanOrEqual(4);
  for (const a of busy) expect(a.body.code).toBe("ADMIN_QUERY_BUSY");
  for (const a of answers.filter((x) => x.status !== 429)) expect(a.body.code).toBe("ADMIN_QUERY_TIMEOUT");
  expect((await query("SELECT 1 AS one")).body.rows).toEqual([[1]]);
});

test("8 clients looping queries over the state files do not stop the ingress", async () => {
  let stop = false;
  const statuses: number[] = [];
  const client = async (): Promise<void> => {
    while (!stop)
      statuses.push((await query("SELECT status, count(*) FROM invocations GROUP BY status")).status);
  };
  const clients = Array.from({ length: 8 }, client);
  // Sequential calls, each answered while the queries loop.
  for (let i = 1; i <= 20; i++) expect(await add("looping")).toBe(i);
  stop = true;
  await Promise.all(clients);
  expect(statuses).toContain(200);
  expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
});

test("a result larger than the bound is a 400, not a stalled runtime or a 500", async () => {
  const big = await query("SELECT printf('%.*c', 100000000, 'x')");
  expect(big.status).toBe(400);
  expect(["ADMIN_QUERY_RESULT_TOO_LARGE", "ADMIN_QUERY_TOO_LARGE"]).toContain(big.body.code);
  expect(await add("after")).toBe(1);
});
