/**
 * Port: the only way anything outside a partition — the ingress and admin APIs, the checkpoint channel,
 * outbox delivery, the timer service, the attempt driver — reaches it. A partition takes records
 * (append) and answers narrow reads (its view); nothing outside holds a partition's objects, so a
 * partition can be led by this process (LocalPartitionRouter) or by another node (a remote router).
 *
 * Reads are asynchronous for that reason. What they return is read-only to the caller: the local
 * router hands out its live objects without copying them (a checkpoint reads a journal per request).
 */
import type { Payload, Target } from "@capstan/sdk/protocol";
import type { Effect } from "../core/effects";
import type { Invocation, InvocationStatus, Timer } from "../core/state";
import type { TimerKey } from "../core/timers";
import type { InvocationDetail, InvocationFilter, InvocationSummary } from "../server/runtime-api";
import type { Row, SqlTable, ViewChunk } from "../server/sql-schema";
import type { AppendSource, RecordInput } from "./partition-processor";

/** What a partition says about itself. */
export type PartitionHealth =
  /** `epoch`: of the leadership (its `recover` record); attempt credentials carry it. */
  | { state: "leading"; epoch: number; pendingRecords: number }
  /** Stopped: fenced by another writer, a failed store or apply; appends are refused. */
  | { state: "stopped"; reason: string }
  /** Not led by this node (a cluster: another node leads it, or it is moving); appends are refused. */
  | { state: "elsewhere" };

/** Why a node of a cluster refuses a partition another node leads. */
export const NOT_LED_HERE = "not led by this node";

/** The reads a partition answers, one per question its callers ask (never "give me the state"). */
export interface PartitionView {
  /** The invocation with its journal, or undefined when the partition does not hold it (any more). */
  invocation(id: Invocation["id"]): Promise<Invocation | undefined>;
  /** The admin read model of one invocation (summary, journal, timings). */
  describe(id: Invocation["id"]): Promise<InvocationDetail | undefined>;
  /** At most `filter.limit` invocations matching the filter, newest first. */
  listInvocations(filter: InvocationFilter): Promise<InvocationSummary[]>;
  /**
   * The partition's timers in due order (fire time, then id) strictly after `after`, at most
   * `limit`: the timer service pages its schedule from here.
   */
  timersPage(after: TimerKey | undefined, limit: number): Promise<Timer[]>;
  /** How many timers the partition holds (for metrics; kept by commits, never a scan). */
  timerCount(): Promise<number>;
  /** How many invocations the partition holds per status (for metrics). */
  countByStatus(): Promise<Map<InvocationStatus, number>>;
  /** An object's or workflow's K/V state (empty when it has none). */
  objectState(service: string, key: string): Promise<Map<string, Payload>>;
  /** The invocation an idempotency key maps to for this target, within its retention. */
  idempotentInvocation(target: Target, idempotencyKey: string): Promise<string | undefined>;
  /** The invocation of a workflow's `run` for this workflow id. */
  workflowInvocation(service: string, workflowId: string): Promise<string | undefined>;
  /**
   * The rows this partition contributes to the named read-only SQL tables, at most `chunkRows` per
   * chunk, read lazily as the chunks are consumed (a query streams them; it never holds them all).
   */
  sqlRows(tables: ReadonlySet<SqlTable>, chunkRows: number): AsyncIterable<ViewChunk>;
  /**
   * One page of one table's rows after `after` (from the start without it): at most `maxRows` rows
   * and about `maxBytes` of JSON (always at least one row), with the cursor of its last row when more
   * may follow. A node answering a cluster-wide query reads a partition led elsewhere page by page.
   */
  sqlRowsPage(
    table: SqlTable,
    after: SqlRowCursor | undefined,
    maxRows: number,
    maxBytes: number,
  ): Promise<SqlRowsPage>;
  /**
   * The partition's SQLite state file on this node's disk, when its state is in one: a query's
   * process reads it in place, read-only, instead of being streamed its rows (server/sql-state-files.ts).
   * Undefined (or absent, for a partition led elsewhere): the rows are streamed through `sqlRows`.
   */
  sqlStateFile?(): string | undefined;
}

/**
 * Where a page of a table's rows stopped: the last row's item (an invocation id; `service/key` for
 * `state`) and, for tables with several rows per item, the row within it (`journal`: the entry's
 * index; `state`: the state key). Rows are walked in (item, row) order, so a cursor stays valid while
 * the partition moves on: new rows after it are read, removed ones are simply not.
 */
export interface SqlRowCursor {
  item: string;
  row?: number | string;
}

export interface SqlRowsPage {
  rows: Row[];
  /** Absent on the last page. */
  next?: SqlRowCursor;
}

export interface PartitionRouter {
  /** The fixed number of partitions; partition numbers are 0 … partitions-1. */
  readonly partitions: number;
  /**
   * Appends `record` to the partition's log and resolves with its effects once it is durable and
   * applied. Rejects, having recorded nothing, with PartitionOverloadedError (external records only)
   * or PartitionUnavailableError (the partition is not led: stopped, fenced, elsewhere unreachable).
   */
  append(partition: number, record: RecordInput, source: AppendSource): Promise<Effect[]>;
  /** The partition's reads. */
  view(partition: number): PartitionView;
  /** Whether the partition takes appends, and why not. */
  health(partition: number): PartitionHealth;
}
