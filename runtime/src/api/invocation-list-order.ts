/**
 * The order of invocation lists and its cursor. Newest first: `createdAtMs` descending, then id
 * descending — a total order, so a page boundary is exact even among invocations created in the same
 * millisecond. A cursor is the last listed invocation's position, opaque to clients; every partition
 * (and every node of a cluster) answers "the next `limit` after this position" from its own state, so
 * merging their pages in this order and cutting at `limit` is the next page of the whole list.
 */
import { isInvocationId } from "@capstan/sdk/protocol";
import type { InvocationListPosition, InvocationSummary } from "../server/runtime-api";

/** Version prefix of the cursor text, so a later encoding can be told apart. */
const CURSOR_PREFIX = "c1.";
/** Longest cursor accepted (a position's JSON is well under this). */
export const MAX_CURSOR_LENGTH = 256;

/** Negative when `a` comes first in the list. */
export function compareListOrder(a: InvocationListPosition, b: InvocationListPosition): number {
  if (a.createdAtMs !== b.createdAtMs) return b.createdAtMs - a.createdAtMs;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * One page from several sources' pages (partitions, nodes), each already in list order after the same
 * position: merged in that order and cut at `limit`.
 *
 * @example
 * const page = mergeInvocationPages([await nodeA.listInvocations(f), await nodeB.listInvocations(f)], f.limit);
 */
export function mergeInvocationPages(pages: InvocationSummary[][], limit: number): InvocationSummary[] {
  return pages.flat().sort(compareListOrder).slice(0, limit);
}

/**
 * A page of at most `limit` from `rows`, read with `limit + 1` so the cursor is set only when another
 * row follows (no "next page" that turns out empty).
 *
 * @example
 * const rows = await api.listInvocations({ ...filter, limit: filter.limit + 1 });
 * const { invocations, nextCursor } = pageOf(rows, filter.limit);
 */
export function pageOf(
  rows: readonly InvocationSummary[],
  limit: number,
): { invocations: InvocationSummary[]; nextCursor?: string } {
  const invocations = rows.slice(0, limit);
  const last = invocations[invocations.length - 1];
  if (rows.length <= limit || last === undefined) return { invocations };
  return { invocations, nextCursor: encodeListCursor({ createdAtMs: last.createdAtMs, id: last.id }) };
}

export function encodeListCursor(position: InvocationListPosition): string {
  return (
    CURSOR_PREFIX + Buffer.from(JSON.stringify([position.createdAtMs, position.id])).toString("base64url")
  );
}

/** The position a cursor stands for; undefined when it is not one this runtime wrote. */
export function decodeListCursor(cursor: string): InvocationListPosition | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH || !cursor.startsWith(CURSOR_PREFIX)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor.slice(CURSOR_PREFIX.length), "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [createdAtMs, id] = value as unknown[];
  if (!Number.isSafeInteger(createdAtMs) || (createdAtMs as number) < 0) return undefined;
  if (typeof id !== "string" || !isInvocationId(id)) return undefined;
  return { createdAtMs: createdAtMs as number, id };
}
