/**
 * The tables of the read-only SQL endpoint. The runtime fills rows with exactly these column names
 * (the row builders below do it from RuntimeApi types); `runReadOnlyQuery` creates the tables from them.
 */
import type { Completion, JournalEntry, Payload } from "@capstan/sdk/protocol";
import type { InvocationSummary } from "./runtime-api";

export type SqlValue = string | number | null;
export type Row = Record<string, SqlValue>;

export const INVOCATIONS_COLUMNS = [
  "id",
  "service",
  "handler",
  "key",
  "status",
  "outcome",
  "attempt",
  "handler_invocations",
  "deployment_id",
  "idempotency_key",
  "created_at_ms",
  "modified_at_ms",
  "completed_at_ms",
  "last_failure",
] as const;

export const JOURNAL_COLUMNS = ["invocation_id", "idx", "kind", "name", "has_result", "result"] as const;

export const STATE_COLUMNS = ["service", "key", "state_key", "value"] as const;

export const SQL_TABLES = {
  invocations: INVOCATIONS_COLUMNS,
  journal: JOURNAL_COLUMNS,
  state: STATE_COLUMNS,
} as const;

export type SqlTable = keyof typeof SQL_TABLES;

/** Rows of one table, a chunk at a time (what a query's process is streamed). */
export interface ViewChunk {
  table: SqlTable;
  rows: Row[];
}

export type InvocationRow = Record<(typeof INVOCATIONS_COLUMNS)[number], SqlValue>;
export type JournalRow = Record<(typeof JOURNAL_COLUMNS)[number], SqlValue>;
export type StateRow = Record<(typeof STATE_COLUMNS)[number], SqlValue>;

export interface SqlViews {
  invocations: Row[];
  journal: Row[];
  state: Row[];
}

/** @example views.invocations.push(invocationRow(summary)) */
export function invocationRow(s: InvocationSummary): InvocationRow {
  return {
    id: s.id,
    service: s.target.service,
    handler: s.target.handler,
    key: s.target.key ?? null,
    status: s.status,
    outcome: s.outcome ?? null,
    attempt: s.attempt,
    handler_invocations: s.handlerInvocations,
    deployment_id: s.deploymentId,
    idempotency_key: s.idempotencyKey ?? null,
    created_at_ms: s.createdAtMs,
    modified_at_ms: s.modifiedAtMs,
    completed_at_ms: s.completedAtMs ?? null,
    last_failure: s.lastFailure?.message ?? null,
  };
}

/**
 * One row per entry. `name`: the step/state/promise name, or `service/handler` for calls and sends.
 * `result`: the value's JSON text, the failure's message, or null.
 */
export function journalRows(invocationId: string, journal: JournalEntry[]): JournalRow[] {
  return journal.map((e) => {
    const result = entryResult(e);
    return {
      invocation_id: invocationId,
      idx: e.index,
      kind: e.kind,
      name: entryName(e),
      has_result: result === undefined ? 0 : 1,
      result: result === undefined ? null : completionText(result),
    };
  });
}

export function stateRows(service: string, key: string, state: Record<string, Payload>): StateRow[] {
  return Object.entries(state).map(([stateKey, value]) => ({ service, key, state_key: stateKey, value }));
}

function entryName(e: JournalEntry): string | null {
  if ("target" in e) return `${e.target.service}/${e.target.handler}`;
  if ("name" in e && typeof e.name === "string") return e.name;
  if ("key" in e && typeof e.key === "string") return e.key;
  return null;
}

function entryResult(e: JournalEntry): Completion | undefined {
  if (e.kind === "input") return { kind: "value", value: e.value };
  if ("result" in e) return e.result;
  return undefined;
}

function completionText(c: Completion): string | null {
  switch (c.kind) {
    case "value":
      return c.value;
    case "empty":
      return null;
    case "failure":
      return c.failure.message;
  }
}
