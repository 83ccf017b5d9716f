/**
 * The receiving side's check of a `sqlRowsPage` request: every field bounded before any read, with
 * the limits tested at the limit.
 */
import { MAX_PEER_SQL_PAGE_ROWS, MAX_SQL_CURSOR_LENGTH } from "../server/limits";
import { decodeSqlPageRequest } from "./sql-rows-page";

const PARTITIONS = 4;
const refused = (value: unknown) => () => decodeSqlPageRequest(value, PARTITIONS);
const badRequest = expect.objectContaining({ status: 400, code: "PEER_BAD_REQUEST" });

test("a first page and pages after each table's cursor are accepted as they are", () => {
  expect(decodeSqlPageRequest({ partition: 3, table: "invocations", maxRows: 1 }, PARTITIONS)).toEqual({
    partition: 3,
    table: "invocations",
    maxRows: 1,
  });
  const pages = [
    { partition: 0, table: "invocations", maxRows: 10, after: { item: "inv_1" } },
    { partition: 0, table: "journal", maxRows: 10, after: { item: "inv_1", row: 0 } },
    { partition: 0, table: "state", maxRows: 10, after: { item: "Counter/k", row: "count" } },
  ];
  for (const page of pages) expect(decodeSqlPageRequest(page, PARTITIONS)).toEqual(page);
});

test("maxRows is bounded at MAX_PEER_SQL_PAGE_ROWS, the partition by the partition count", () => {
  const page = { partition: 0, table: "journal" };
  expect(decodeSqlPageRequest({ ...page, maxRows: MAX_PEER_SQL_PAGE_ROWS }, PARTITIONS).maxRows).toBe(
    MAX_PEER_SQL_PAGE_ROWS,
  );
  for (const maxRows of [MAX_PEER_SQL_PAGE_ROWS + 1, 0, 1.5, "10", undefined])
    expect(refused({ ...page, maxRows })).toThrow(badRequest);
  for (const partition of [PARTITIONS, -1, 0.5, "0"])
    expect(refused({ ...page, partition, maxRows: 1 })).toThrow(badRequest);
  for (const table of ["log", "toString", 1])
    expect(refused({ partition: 0, table, maxRows: 1 })).toThrow(badRequest);
  for (const value of [null, [], "page"]) expect(refused(value)).toThrow(badRequest);
});

test("a cursor has its table's shape, its texts bounded at MAX_SQL_CURSOR_LENGTH", () => {
  const page = (table: string, after: unknown) => ({ partition: 1, table, maxRows: 5, after });
  const longest = "k".repeat(MAX_SQL_CURSOR_LENGTH);
  expect(decodeSqlPageRequest(page("state", { item: longest, row: longest }), PARTITIONS).after).toEqual({
    item: longest,
    row: longest,
  });
  const wrong = [
    page("state", { item: `${longest}k`, row: "a" }),
    page("state", { item: "S/k", row: `${longest}k` }),
    page("state", { item: "S/k", row: 1 }),
    page("journal", { item: "inv_1", row: "1" }),
    page("journal", { item: "inv_1", row: -1 }),
    page("journal", { item: "inv_1" }),
    page("invocations", { item: "inv_1", row: 3 }),
    page("invocations", { item: 7 }),
    page("invocations", "inv_1"),
    page("invocations", null),
  ];
  for (const request of wrong) expect(refused(request)).toThrow(badRequest);
});
