/**
 * Partition state held in memory (MemoryStateStore) and made durable by writing it whole, as JSON, to
 * the PartitionStore's snapshot (ADR 0002's design). Memory grows with the state: for unit tests, the
 * simulation, and reading data directories written before the state files existed.
 */
import type { InvocationId, Payload } from "@capstan/sdk/protocol";
import { MemoryStateStore } from "../core/memory-state-store";
import { deserializeState, serializeState } from "../core/snapshot";
import { emptyPartitionState, type Invocation, type InvocationStatus, type Timer } from "../core/state";
import { compareTimerKeys, type TimerKey } from "../core/timers";
import type {
  InvocationListFilter,
  PartitionStateHandle,
  PartitionStateStores,
} from "./partition-state-store";
import type { PartitionStore } from "./partition-store";

/**
 * @example
 * const stores = new JsonSnapshotStateStores(partitionStore);
 * const state = await stores.open(0, 4); // the last snapshot; replay the log after state.appliedLsn()
 */
export class JsonSnapshotStateStores implements PartitionStateStores {
  constructor(private readonly snapshots: PartitionStore) {}

  async open(partition: number, partitions: number): Promise<JsonSnapshotStateStore> {
    const snapshot = await this.snapshots.loadSnapshot(partition);
    const state =
      snapshot === undefined ? emptyPartitionState(partition, partitions) : deserializeState(snapshot.state);
    if (snapshot !== undefined) state.appliedLsn = snapshot.lsn;
    return new JsonSnapshotStateStore(state, this.snapshots);
  }
}

export class JsonSnapshotStateStore extends MemoryStateStore implements PartitionStateHandle {
  constructor(
    state: ConstructorParameters<typeof MemoryStateStore>[0],
    /** Undefined: a state that is never persisted (the processor's before it is loaded). */
    private readonly snapshots: PartitionStore | undefined,
  ) {
    super(state);
  }

  listInvocations(filter: InvocationListFilter, limit: number): Invocation[] {
    const out: Invocation[] = [];
    for (const inv of this.state.invocations.values()) {
      if (filter.service !== undefined && inv.target.service !== filter.service) continue;
      if (filter.status !== undefined && inv.status !== filter.status) continue;
      if (filter.key !== undefined && inv.target.key !== filter.key) continue;
      if (
        filter.outcome !== undefined &&
        (inv.status !== "completed" || (inv.result?.kind === "failure") !== (filter.outcome === "failed"))
      )
        continue;
      if (filter.createdFromMs !== undefined && inv.createdAtMs < filter.createdFromMs) continue;
      if (filter.createdToMs !== undefined && inv.createdAtMs >= filter.createdToMs) continue;
      const after = filter.after;
      if (
        after !== undefined &&
        !(inv.createdAtMs < after.createdAtMs || (inv.createdAtMs === after.createdAtMs && inv.id < after.id))
      )
        continue;
      out.push(inv);
    }
    out.sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return out.slice(0, limit);
  }

  countInvocationsByStatus(): Map<InvocationStatus, number> {
    const counts = new Map<InvocationStatus, number>();
    for (const inv of this.state.invocations.values())
      counts.set(inv.status, (counts.get(inv.status) ?? 0) + 1);
    return counts;
  }

  timerCount(): number {
    return this.state.timers.size;
  }

  timersPage(after: TimerKey | undefined, limit: number): Timer[] {
    return [...this.state.timers.values()]
      .filter((t) => after === undefined || compareTimerKeys(t, after) > 0)
      .sort(compareTimerKeys)
      .slice(0, limit);
  }

  invocationsPage(afterId: InvocationId | undefined, limit: number): Invocation[] {
    return [...this.state.invocations.values()]
      .filter((inv) => afterId === undefined || inv.id > afterId)
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, limit);
  }

  objectStatesPage(afterKey: string | undefined, limit: number): Array<[string, Map<string, Payload>]> {
    return [...this.state.objectState.keys()]
      .filter((key) => afterKey === undefined || key > afterKey)
      .sort()
      .slice(0, limit)
      .map((key) => [key, new Map(this.state.objectState.get(key))]);
  }

  async persist(): Promise<number> {
    if (this.snapshots === undefined) throw new Error(`partition ${this.partition}'s state is not loaded`);
    const lsn = this.state.appliedLsn;
    await this.snapshots.saveSnapshot(this.partition, { lsn, state: serializeState(this.state) });
    return lsn;
  }

  /** No file: nothing to flush. */
  flush(): void {}

  close(): void {}
}
