import { ApiError } from "./api-error";
import { MAX_CONCURRENT_QUERIES, MAX_QUERY_RESULT_BYTES, QUERY_ROWS_PER_CHUNK } from "./limits";
import { runQueryInProcess, viewsSource, type ViewSource } from "./sql-query-process";
import { DEFAULT_QUERY_LIMITS } from "./sql-query";
import type { SqlViews } from "./sql-schema";

const views: SqlViews = {
  invocations: [{ id: "inv_1", service: "Greeter", handler: "greet", status: "completed" }],
  journal: [],
  state: [],
};
const source = viewsSource(views);
const RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
const limits = (maxMs: number) => ({ ...DEFAULT_QUERY_LIMITS, maxRows: 10, maxMs });

jest.setTimeout(30_000);

async function query(sql: string, from: ViewSource = source, l = DEFAULT_QUERY_LIMITS): Promise<unknown> {
  return JSON.parse(await runQueryInProcess(sql, from, l));
}

test("a query runs in its own process and answers its rows", async () => {
  await expect(query("SELECT service, status FROM invocations")).resolves.toEqual({
    columns: ["service", "status"],
    rows: [["Greeter", "completed"]],
    truncated: false,
  });
});

test("a refusal comes back as the same ApiError, before any row is read", async () => {
  const read: string[] = [];
  const watched: ViewSource = (tables) => {
    read.push(...tables);
    return source(tables);
  };
  await expect(query("DELETE FROM invocations", watched)).rejects.toMatchObject({
    status: 400,
    code: "ADMIN_QUERY_NOT_READ_ONLY",
  });
  await expect(query("SELECT nope FROM invocations", watched)).rejects.toMatchObject({
    code: "ADMIN_QUERY_INVALID",
  });
  // Only the tables a statement names are read at all.
  await expect(query("SELECT 1 AS one", watched)).resolves.toMatchObject({ rows: [[1]] });
  expect(read).toEqual([]);
});

test("tables stream in chunks: every row arrives, none is kept by the source", async () => {
  const many: SqlViews = {
    invocations: Array.from({ length: QUERY_ROWS_PER_CHUNK * 3 + 7 }, (_, i) => ({ id: `i${i}` })),
    journal: [],
    state: [{ service: "S", key: "k", state_key: "a", value: "1" }],
  };
  let chunks = 0;
  const counting: ViewSource = async function* (tables) {
    for await (const chunk of viewsSource(many)(tables)) {
      chunks += 1;
      expect(chunk.rows.length).toBeLessThanOrEqual(QUERY_ROWS_PER_CHUNK);
      yield chunk;
    }
  };
  await expect(
    query("SELECT (SELECT count(*) FROM invocations), (SELECT count(*) FROM state)", counting),
  ).resolves.toMatchObject({ rows: [[QUERY_ROWS_PER_CHUNK * 3 + 7, 1]] });
  expect(chunks).toBeGreaterThan(3);
});

test("a result at MAX_QUERY_RESULT_BYTES arrives whole; one byte more is a 400", async () => {
  // The JSON text around one string cell: {"columns":["v"],"rows":[["..."]],"truncated":false}
  const frame = JSON.stringify({ columns: ["v"], rows: [[""]], truncated: false }).length;
  const cell = (n: number) => `SELECT printf('%.*c', ${n}, 'x') AS v`;
  // A large answer is the case where the child's exit used to beat its message: it must still arrive.
  const json = await runQueryInProcess(cell(MAX_QUERY_RESULT_BYTES - frame), source);
  expect(json.length).toBe(MAX_QUERY_RESULT_BYTES);
  await expect(query(cell(MAX_QUERY_RESULT_BYTES - frame + 1))).rejects.toMatchObject({
    status: 400,
    code: "ADMIN_QUERY_RESULT_TOO_LARGE",
  });
  // A cell far beyond the limit (540 MB once stalled the runtime) is refused in the child.
  await expect(query(cell(600_000_000))).rejects.toMatchObject({ status: 400 });
});

test("a source that throws is a bug the caller hears of, not a query that hangs", async () => {
  const broken: ViewSource = function* () {
    yield* [];
    throw new TypeError("broken view");
  };
  await expect(query("SELECT * FROM invocations", broken)).rejects.toThrow("broken view");
  await expect(query("SELECT 1 AS one")).resolves.toMatchObject({ rows: [[1]] });
});

test("a query that never ends is killed at its time limit; this process never stops answering", async () => {
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 20);
  const started = performance.now();
  const err = await runQueryInProcess(RUNAWAY, source, limits(300)).catch((e: unknown) => e);
  clearInterval(ticker);
  expect(err).toBeInstanceOf(ApiError);
  expect(err).toMatchObject({ status: 400, code: "ADMIN_QUERY_TIMEOUT" });
  expect(performance.now() - started).toBeGreaterThanOrEqual(300);
  expect(ticks).toBeGreaterThan(5); // the event loop ran while the query did
});

test(`at most MAX_CONCURRENT_QUERIES (${MAX_CONCURRENT_QUERIES}) run at once; one more is refused before reading`, async () => {
  const runaways = Array.from({ length: MAX_CONCURRENT_QUERIES }, () =>
    runQueryInProcess(RUNAWAY, source, limits(1_000)).catch((e: unknown) => e),
  );
  let read = false;
  const watched: ViewSource = (tables) => {
    read = true;
    return source(tables);
  };
  await expect(runQueryInProcess("SELECT * FROM invocations", watched)).rejects.toMatchObject({
    status: 429,
    code: "ADMIN_QUERY_BUSY",
  });
  expect(read).toBe(false);
  for (const r of await Promise.all(runaways)) expect(r).toMatchObject({ code: "ADMIN_QUERY_TIMEOUT" });
  await expect(query("SELECT 1 AS one")).resolves.toMatchObject({ rows: [[1]] });
});
