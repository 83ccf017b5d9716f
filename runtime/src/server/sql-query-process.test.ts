import { ApiError } from "./api-error";
import { MAX_CONCURRENT_QUERIES } from "./limits";
import { runQueryInProcess } from "./sql-query-process";
import type { SqlViews } from "./sql-schema";

const views: SqlViews = {
  invocations: [{ id: "inv_1", service: "Greeter", handler: "greet", status: "completed" }],
  journal: [],
  state: [],
};
const RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
const limits = (maxMs: number) => ({ maxRows: 10, maxMs });

jest.setTimeout(30_000);

test("a query runs in its own process and answers its rows", async () => {
  await expect(runQueryInProcess("SELECT service, status FROM invocations", views)).resolves.toEqual({
    columns: ["service", "status"],
    rows: [["Greeter", "completed"]],
    truncated: false,
  });
});

test("a refusal comes back as the same ApiError", async () => {
  await expect(runQueryInProcess("DELETE FROM invocations", views)).rejects.toMatchObject({
    status: 400,
    code: "ADMIN_QUERY_NOT_READ_ONLY",
  });
});

test("a query that never ends is killed at its time limit; this process never stops answering", async () => {
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 20);
  const started = performance.now();
  const err = await runQueryInProcess(RUNAWAY, views, limits(300)).catch((e: unknown) => e);
  clearInterval(ticker);
  expect(err).toBeInstanceOf(ApiError);
  expect(err).toMatchObject({ status: 400, code: "ADMIN_QUERY_TIMEOUT" });
  expect(performance.now() - started).toBeGreaterThanOrEqual(300);
  expect(ticks).toBeGreaterThan(5); // the event loop ran while the query did
});

test(`at most MAX_CONCURRENT_QUERIES (${MAX_CONCURRENT_QUERIES}) run at once; one more is refused`, async () => {
  const runaways = Array.from({ length: MAX_CONCURRENT_QUERIES }, () =>
    runQueryInProcess(RUNAWAY, views, limits(1_000)).catch((e: unknown) => e),
  );
  await expect(runQueryInProcess("SELECT 1", views)).rejects.toMatchObject({
    status: 429,
    code: "ADMIN_QUERY_BUSY",
  });
  for (const r of await Promise.all(runaways)) expect(r).toMatchObject({ code: "ADMIN_QUERY_TIMEOUT" });
  await expect(runQueryInProcess("SELECT 1 AS one", views)).resolves.toMatchObject({ rows: [[1]] });
});
