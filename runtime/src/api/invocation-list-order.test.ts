import type { InvocationSummary } from "../server/runtime-api";
import {
  decodeListCursor,
  encodeListCursor,
  MAX_CURSOR_LENGTH,
  mergeInvocationPages,
  pageOf,
} from "./invocation-list-order";

const summary = (createdAtMs: number, id: string) => ({ createdAtMs, id }) as InvocationSummary;

test("pages from several sources merge newest first, ties by id descending, cut at the limit", () => {
  const a = [summary(30, "inv_0_bbbbbbbb"), summary(10, "inv_0_aaaaaaaa")];
  const b = [summary(30, "inv_1_cccccccc"), summary(20, "inv_1_dddddddd")];
  const page = mergeInvocationPages([a, b], 3);
  expect(page.map((s) => s.id)).toEqual(["inv_1_cccccccc", "inv_0_bbbbbbbb", "inv_1_dddddddd"]);
  // Read with limit + 1: a cursor only when another row follows.
  const { invocations, nextCursor } = pageOf(page, 2);
  expect(invocations.map((s) => s.id)).toEqual(["inv_1_cccccccc", "inv_0_bbbbbbbb"]);
  expect(decodeListCursor(nextCursor!)).toEqual({ createdAtMs: 30, id: "inv_0_bbbbbbbb" });
  expect(pageOf(page, 3)).toEqual({ invocations: page });
});

test("a cursor is opaque, versioned and checked: anything else is refused", () => {
  const cursor = encodeListCursor({ createdAtMs: 1_700_000_000_000, id: "inv_3_abcdefgh" });
  expect(cursor.startsWith("c1.")).toBe(true);
  expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
  expect(decodeListCursor(cursor)).toEqual({ createdAtMs: 1_700_000_000_000, id: "inv_3_abcdefgh" });
  const bad = [
    "",
    "c2." + cursor.slice(3),
    "c1.!!!",
    "c1." + Buffer.from('{"a":1}').toString("base64url"),
    "c1." + Buffer.from('[-1,"inv_3_abcdefgh"]').toString("base64url"),
    "c1." + Buffer.from('[1,"../etc"]').toString("base64url"),
    cursor + "A".repeat(MAX_CURSOR_LENGTH),
  ];
  for (const c of bad) expect(decodeListCursor(c)).toBeUndefined();
});
