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
import type { PartitionView } from "./partition-router";

/** Invocations or objects read from a store per page while building the SQL rows. */
export const SQL_ROWS_PAGE = 1_000;

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
