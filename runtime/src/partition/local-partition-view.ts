/**
 * The reads of a partition led in this process, over its in-memory PartitionState. This file is the
 * only reader of partition state outside the state machine (core/) and the processor: a store-backed
 * partition re-implements exactly these reads.
 */
import type { Payload, Target } from "@capstan/sdk/protocol";
import { idempotencyTableKey } from "../core/keys";
import { objectKey, type Invocation, type InvocationStatus, type PartitionState } from "../core/state";
import { timerIds } from "../core/timers";
import { summarize } from "../invocation/summarize";
import type { InvocationDetail, InvocationFilter, InvocationSummary } from "../server/runtime-api";
import { invocationRow, journalRows, stateRows, type SqlViews } from "../server/sql-schema";
import type { PartitionView } from "./partition-router";

export class LocalPartitionView implements PartitionView {
  /** `state` is read on each call: the processor replaces its state object when it loads a snapshot. */
  constructor(private readonly state: () => PartitionState) {}

  async invocation(id: Invocation["id"]): Promise<Invocation | undefined> {
    return this.state().invocations.get(id);
  }

  async describe(id: Invocation["id"]): Promise<InvocationDetail | undefined> {
    const inv = this.state().invocations.get(id);
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

  async listInvocations(filter: InvocationFilter): Promise<InvocationSummary[]> {
    const out: InvocationSummary[] = [];
    for (const inv of this.state().invocations.values()) {
      if (filter.service !== undefined && inv.target.service !== filter.service) continue;
      if (filter.status !== undefined && inv.status !== filter.status) continue;
      if (filter.key !== undefined && inv.target.key !== filter.key) continue;
      out.push(this.summary(inv));
    }
    out.sort((a, b) => b.createdAtMs - a.createdAtMs);
    return out.slice(0, filter.limit);
  }

  async countByStatus(): Promise<Map<InvocationStatus, number>> {
    const byStatus = new Map<InvocationStatus, number>();
    for (const inv of this.state().invocations.values())
      byStatus.set(inv.status, (byStatus.get(inv.status) ?? 0) + 1);
    return byStatus;
  }

  async objectState(service: string, key: string): Promise<Map<string, Payload>> {
    return this.state().objectState.get(objectKey(service, key)) ?? new Map();
  }

  async idempotentInvocation(target: Target, idempotencyKey: string): Promise<string | undefined> {
    return this.state().idempotency.get(idempotencyTableKey(target, idempotencyKey));
  }

  async workflowInvocation(service: string, workflowId: string): Promise<string | undefined> {
    return this.state().workflows.get(objectKey(service, workflowId));
  }

  async sqlRows(): Promise<SqlViews> {
    const state = this.state();
    const views: SqlViews = { invocations: [], journal: [], state: [] };
    for (const inv of state.invocations.values()) {
      views.invocations.push(invocationRow(this.summary(inv)));
      for (const row of journalRows(inv.id, inv.journal)) views.journal.push(row);
    }
    for (const [objKey, values] of state.objectState) {
      const slash = objKey.indexOf("/");
      const rows = stateRows(objKey.slice(0, slash), objKey.slice(slash + 1), Object.fromEntries(values));
      for (const row of rows) views.state.push(row);
    }
    return views;
  }

  private summary(inv: Invocation): InvocationSummary {
    const scheduledAtMs =
      inv.status === "scheduled"
        ? this.state().timers.get(timerIds.delayedInvoke(inv.id))?.fireAtMs
        : undefined;
    return summarize(inv, scheduledAtMs);
  }
}
