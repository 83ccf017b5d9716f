/**
 * The reads of a partition led in this process, over its state store (PartitionStateHandle: point
 * lookups and paged views, in memory or in the partition's SQLite file). This file is the only reader
 * of partition state outside the state machine (core/) and the processor.
 */
import type { InvocationId, Payload, Target } from "@capstan/sdk/protocol";
import { idempotencyTableKey } from "../core/keys";
import { objectKey, type Invocation, type InvocationStatus, type Timer } from "../core/state";
import { timerIds, type TimerKey } from "../core/timers";
import { summarize } from "../invocation/summarize";
import type { InvocationDetail, InvocationFilter, InvocationSummary } from "../server/runtime-api";
import {
  invocationRow,
  journalRows,
  stateRows,
  type Row,
  type SqlTable,
  type ViewChunk,
} from "../server/sql-schema";
import type { PartitionStateHandle } from "../storage/partition-state-store";
import type { PartitionView, SqlRowCursor, SqlRowsPage } from "./partition-router";

/** Invocations or objects read from a store per page while building the SQL rows. */
export const SQL_ROWS_PAGE = 1_000;
/**
 * Items the first store read of a page of rows asks for; each further read doubles, up to the page's
 * row count: an item may hold many rows (a journal), so a page does not read hundreds of
 * invocations to answer with the entries of a few.
 */
const FIRST_PAGE_ITEMS = 16;

export class LocalPartitionView implements PartitionView {
  /** `state` is read on each call: the processor replaces its state when it loads. */
  constructor(private readonly state: () => PartitionStateHandle) {}

  async invocation(id: Invocation["id"]): Promise<Invocation | undefined> {
    return this.state().invocation(id);
  }

  async describe(id: Invocation["id"]): Promise<InvocationDetail | undefined> {
    const inv = this.state().invocation(id);
    if (inv === undefined) return undefined;
    const summary = this.summary(inv);
    return {
      ...summary,
      journal: inv.journal,
      entryTimes: inv.entryTimes,
      ...(inv.result !== undefined && { result: inv.result }),
      awaiting: inv.awaiting,
      headers: inv.headers,
      // The stack is for the one invocation described, never in lists.
      ...(inv.lastFailure?.stack !== undefined && {
        lastFailure: { ...summary.lastFailure!, stack: inv.lastFailure.stack },
      }),
      ...(inv.trace !== undefined && { traceId: inv.trace.traceId }),
    };
  }

  /** The store's newest `limit` matching ones after the filter's position: never a walk over every invocation. */
  async listInvocations(filter: InvocationFilter): Promise<InvocationSummary[]> {
    return this.state()
      .listInvocations(filter, filter.limit)
      .map((inv) => this.summary(inv));
  }

  async timersPage(after: TimerKey | undefined, limit: number): Promise<Timer[]> {
    return this.state().timersPage(after, limit);
  }

  async timerCount(): Promise<number> {
    return this.state().timerCount();
  }

  async countByStatus(): Promise<Map<InvocationStatus, number>> {
    return this.state().countInvocationsByStatus();
  }

  async objectState(service: string, key: string): Promise<Map<string, Payload>> {
    return new Map(this.state().objectState(objectKey(service, key)));
  }

  async idempotentInvocation(target: Target, idempotencyKey: string): Promise<string | undefined> {
    return this.state().idempotency(idempotencyTableKey(target, idempotencyKey));
  }

  async workflowInvocation(service: string, workflowId: string): Promise<string | undefined> {
    return this.state().workflow(objectKey(service, workflowId));
  }

  /**
   * The named tables' rows, `chunkRows` at a time, read lazily: the store is walked page by page
   * (SQL_ROWS_PAGE per read) while the chunks are consumed, so neither a read nor the rows held at
   * once grow with the partition.
   */
  async *sqlRows(tables: ReadonlySet<SqlTable>, chunkRows: number): AsyncGenerator<ViewChunk> {
    for (const table of tables) {
      let rows: Row[] = [];
      for (const row of this.tableRows(table)) {
        rows.push(row);
        if (rows.length === chunkRows) {
          yield { table, rows };
          rows = [];
        }
      }
      if (rows.length > 0) yield { table, rows };
    }
  }

  /** Rows after `after`, read lazily: the store is walked a page of items at a time while rows are taken. */
  async sqlRowsPage(
    table: SqlTable,
    after: SqlRowCursor | undefined,
    maxRows: number,
    maxBytes: number,
  ): Promise<SqlRowsPage> {
    const rows: Row[] = [];
    let bytes = 0;
    let last: SqlRowCursor | undefined;
    for (const [row, cursor] of this.rowsAfter(table, after, Math.min(SQL_ROWS_PAGE, maxRows + 1))) {
      const size = JSON.stringify(row).length;
      // The row that does not fit is read again by the next page: it proves one follows.
      if (rows.length === maxRows || (rows.length > 0 && bytes + size > maxBytes))
        return { rows, next: last! };
      rows.push(row);
      bytes += size;
      last = cursor;
    }
    return { rows };
  }

  /** Each row of `table` after `after` in (item, row) order, with its cursor; store reads of ≤ `maxItems`. */
  private *rowsAfter(
    table: SqlTable,
    after: SqlRowCursor | undefined,
    maxItems: number,
  ): Generator<[Row, SqlRowCursor]> {
    const state = this.state();
    let pageItems = Math.min(FIRST_PAGE_ITEMS, maxItems);
    const grow = (): void => void (pageItems = Math.min(pageItems * 2, maxItems));
    if (table === "state") {
      // The rest of an object a page stopped in, then the objects after it.
      if (after?.row !== undefined)
        yield* objectRowsAfter(after.item, state.objectState(after.item) ?? new Map(), String(after.row));
      for (let from = after?.item; ;) {
        const page = state.objectStatesPage(from, pageItems);
        for (const [objKey, values] of page) yield* objectRowsAfter(objKey, values, undefined);
        if (page.length < pageItems) return;
        from = page[page.length - 1]![0];
        grow();
      }
    }
    if (table === "journal" && after?.row !== undefined) {
      const inv = state.invocation(after.item as InvocationId);
      if (inv !== undefined) yield* journalRowsAfter(inv, Number(after.row));
    }
    for (let from = after?.item as InvocationId | undefined; ;) {
      const page = state.invocationsPage(from, pageItems);
      for (const inv of page) {
        if (table === "invocations") yield [invocationRow(this.summary(inv)), { item: inv.id }];
        else yield* journalRowsAfter(inv, -1);
      }
      if (page.length < pageItems) return;
      from = page[page.length - 1]!.id;
      grow();
    }
  }

  sqlStateFile(): string | undefined {
    const state = this.state();
    state.flush(); // the query reads the file: every committed batch must be in it
    return state.file;
  }

  private *tableRows(table: SqlTable): Generator<Row> {
    const state = this.state();
    if (table === "state") {
      for (let after: string | undefined; ;) {
        const page = state.objectStatesPage(after, SQL_ROWS_PAGE);
        for (const [objKey, values] of page) {
          const slash = objKey.indexOf("/");
          yield* stateRows(objKey.slice(0, slash), objKey.slice(slash + 1), Object.fromEntries(values));
        }
        if (page.length < SQL_ROWS_PAGE) return;
        after = page[page.length - 1]![0];
      }
    }
    for (let after: InvocationId | undefined; ;) {
      const page = state.invocationsPage(after, SQL_ROWS_PAGE);
      for (const inv of page) {
        if (table === "invocations") yield invocationRow(this.summary(inv));
        else yield* journalRows(inv.id, inv.journal);
      }
      if (page.length < SQL_ROWS_PAGE) return;
      after = page[page.length - 1]!.id;
    }
  }

  private summary(inv: Invocation): InvocationSummary {
    const scheduledAtMs =
      inv.status === "scheduled" ? this.state().timer(timerIds.delayedInvoke(inv.id))?.fireAtMs : undefined;
    return summarize(inv, scheduledAtMs);
  }
}

/** An invocation's journal rows with an index above `afterIdx`, each with its cursor. */
function* journalRowsAfter(inv: Invocation, afterIdx: number): Generator<[Row, SqlRowCursor]> {
  for (const row of journalRows(inv.id, inv.journal))
    if ((row.idx as number) > afterIdx) yield [row, { item: inv.id, row: row.idx as number }];
}

/** An object's state rows in state-key order, those after `afterKey` (all without it), each with its cursor. */
function* objectRowsAfter(
  objKey: string,
  values: ReadonlyMap<string, Payload>,
  afterKey: string | undefined,
): Generator<[Row, SqlRowCursor]> {
  const slash = objKey.indexOf("/");
  const rows = stateRows(objKey.slice(0, slash), objKey.slice(slash + 1), Object.fromEntries(values));
  const keyOf = (row: Row): string => row.state_key as string;
  rows.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  for (const row of rows)
    if (afterKey === undefined || keyOf(row) > afterKey) yield [row, { item: objKey, row: keyOf(row) }];
}
