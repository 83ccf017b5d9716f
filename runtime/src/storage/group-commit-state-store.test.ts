import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { apply, applyBatch } from "../core/apply";
import type { LogRecord } from "../core/records";
import { StateTx } from "../core/state-tx";
import { MemoryStateStore } from "../core/memory-state-store";
import { emptyPartitionState } from "../core/state";
import { emptyWriteSet, type WriteSet } from "../core/write-set";
import { invId, newInvocation, outcome, rec } from "../core/test-support/builders";
import { ManualClock } from "../testing/manual-clock";
import { PartitionProcessor } from "../partition/partition-processor";
import {
  GroupCommitStateStore,
  GroupCommitStateStores,
  STATE_COMMIT_MAX_BATCHES,
  STATE_COMMIT_MAX_NODE_INVOCATIONS,
  STATE_COMMIT_MAX_NODE_WRITES,
  STATE_COMMIT_MAX_WRITES,
} from "./group-commit-state-store";
import { InMemoryLogStore } from "./in-memory-log-store";
import { describePartitionStateStoresContract } from "./partition-state-store.contract";
import { SqliteStateStores, stateFileOf } from "./sqlite-state-store";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "capstan-group-"));
}

describePartitionStateStoresContract("GroupCommitStateStores over SqliteStateStores (defaults)", async () => {
  const dir = tempDir();
  return {
    stores: new GroupCommitStateStores(new SqliteStateStores(dir)),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

// Small limits: the random batches are written to the file now and then, and read half from the
// kept batches, half from the file.
describePartitionStateStoresContract(
  "GroupCommitStateStores over SqliteStateStores (3 batches, 10 keys)",
  async () => {
    const dir = tempDir();
    return {
      stores: new GroupCommitStateStores(new SqliteStateStores(dir), { maxBatches: 3, maxWrites: 10 }),
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
);

/** What the state file itself holds, read by another connection as `/query` reads it. */
function fileAppliedLsn(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare("SELECT applied_lsn FROM partition_meta WHERE id = 0").get() as { applied_lsn: number }
    ).applied_lsn;
  } finally {
    db.close();
  }
}

describe("GroupCommitStateStore", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const invoke = (n: number): LogRecord => ({ ...rec.invoke(newInvocation(invId(0, n))), atMs: n });

  test("keeps STATE_COMMIT_MAX_BATCHES - 1 batches in memory, readable, and writes them with the next", async () => {
    const state = await new GroupCommitStateStores(new SqliteStateStores(dir)).open(0, 4);
    const file = stateFileOf(dir, 0);
    for (let n = 1; n < STATE_COMMIT_MAX_BATCHES; n++) applyBatch(state, n, [invoke(n)]);
    expect(state.keptBatchCount).toBe(STATE_COMMIT_MAX_BATCHES - 1);
    expect(fileAppliedLsn(file)).toBe(0);
    expect(state.appliedLsn()).toBe(STATE_COMMIT_MAX_BATCHES - 1);
    expect(state.invocation(invId(0, 1))?.status).toBe("running");
    expect(state.runningInvocations()).toHaveLength(STATE_COMMIT_MAX_BATCHES - 1);

    applyBatch(state, STATE_COMMIT_MAX_BATCHES, [invoke(STATE_COMMIT_MAX_BATCHES)]);
    expect(state.keptBatchCount).toBe(0);
    expect(fileAppliedLsn(file)).toBe(STATE_COMMIT_MAX_BATCHES);
    state.close();
  });

  test("a batch reaching STATE_COMMIT_MAX_WRITES keys is written at once; one key fewer is kept", async () => {
    const state = await new GroupCommitStateStores(new SqliteStateStores(dir)).open(0, 4);
    const file = stateFileOf(dir, 0);
    const writes = (lsn: number, keys: number) => {
      const w = emptyWriteSet(lsn, 1);
      for (let k = 0; k < keys; k++) w.idempotency.set(`key-${lsn}-${k}`, invId(0, k + 1));
      return w;
    };
    state.commit(writes(1, STATE_COMMIT_MAX_WRITES - 1));
    expect(fileAppliedLsn(file)).toBe(0);
    expect(state.idempotency("key-1-0")).toBe(invId(0, 1));
    state.commit(writes(2, 1)); // the kept keys reach the limit
    expect(fileAppliedLsn(file)).toBe(2);
    state.commit(writes(3, STATE_COMMIT_MAX_WRITES));
    expect(fileAppliedLsn(file)).toBe(3);
    state.close();
  });

  test("the partitions of a node keep STATE_COMMIT_MAX_NODE_WRITES keys together: the commit reaching it writes its own", async () => {
    const stores = new GroupCommitStateStores(new SqliteStateStores(dir));
    const keys = (lsn: number, n: number) => {
      const w = emptyWriteSet(lsn, 1);
      for (let k = 0; k < n; k++) w.idempotency.set(`key-${lsn}-${k}`, invId(0, k + 1));
      return w;
    };
    // Partitions each under their own limit, together one key under the node's.
    const under = STATE_COMMIT_MAX_WRITES - 1;
    const full = Math.floor((STATE_COMMIT_MAX_NODE_WRITES - 1) / under);
    const partitions = full + 1;
    const states: GroupCommitStateStore[] = [];
    for (let p = 0; p < partitions; p++) states.push(await stores.open(p, partitions));
    for (let p = 0; p < full; p++) states[p]!.commit(keys(1, under));
    const last = states[full]!;
    last.commit(keys(1, STATE_COMMIT_MAX_NODE_WRITES - 1 - full * under));
    const files = () => states.map((_, p) => fileAppliedLsn(stateFileOf(dir, p)));
    expect(files()).toEqual(states.map(() => 0));
    last.commit(keys(2, 1)); // the node's kept keys reach the limit: this partition writes its own
    expect(files()).toEqual([...states.slice(1).map(() => 0), 2]);
    // What a closed store kept no longer counts.
    states[0]!.close();
    last.commit(keys(3, 1));
    expect(files().slice(1)).toEqual([...states.slice(2).map(() => 0), 2]);
    for (const state of states.slice(1)) state.close();
  });

  test("the partitions of a node keep STATE_COMMIT_MAX_NODE_INVOCATIONS invocations together; deletions do not count", async () => {
    // Invocations of partition `p` numbered `written` (as an invoke creates them) and `deleted`.
    const invocations = (p: number, lsn: number, written: number[], deleted: number[] = []): WriteSet => {
      const tx = new StateTx(new MemoryStateStore(emptyPartitionState(p, 2)));
      written.forEach((n, i) => apply(tx, i + 1, { ...rec.invoke(newInvocation(invId(p, n))), atMs: n }));
      const w = emptyWriteSet(lsn, 1);
      for (const [id, inv] of tx.writeSet().invocations) w.invocations.set(id, inv);
      for (const n of deleted) w.invocations.set(invId(p, n), null);
      return w;
    };
    const numbers = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
    const stores = new GroupCommitStateStores(new SqliteStateStores(dir));
    const [a, b] = [await stores.open(0, 2), await stores.open(1, 2)];
    const files = () => [0, 1].map((p) => fileAppliedLsn(stateFileOf(dir, p)));
    // One partition holds one invocation under the node's limit (and under its own key limit).
    expect(STATE_COMMIT_MAX_NODE_INVOCATIONS - 1).toBeLessThan(STATE_COMMIT_MAX_WRITES);
    a.commit(invocations(0, 1, numbers(1, STATE_COMMIT_MAX_NODE_INVOCATIONS - 1)));
    b.commit(invocations(1, 1, [], numbers(1, 100))); // deletions: not counted
    a.commit(invocations(0, 2, [], [1])); // one of a's kept invocations deleted: one fewer
    b.commit(invocations(1, 2, [1])); // back to one under the limit
    expect(files()).toEqual([0, 0]);
    b.commit(invocations(1, 3, [2])); // the node's kept invocations reach the limit: b writes its own
    expect(files()).toEqual([0, 3]);
    expect(a.invocation(invId(0, 1))).toBeUndefined();
    expect(a.invocation(invId(0, 2))?.id).toBe(invId(0, 2));
    expect(b.invocation(invId(1, 2))?.id).toBe(invId(1, 2));
    // What b wrote no longer counts: both keep what comes next.
    b.commit(invocations(1, 4, [3]));
    expect(files()).toEqual([0, 3]);
    expect(b.keptBatchCount).toBe(1);
    a.close();
    b.close();
  });

  test("the admin views, persist and flush write what is kept first", async () => {
    const state = await new GroupCommitStateStores(new SqliteStateStores(dir)).open(0, 4);
    const file = stateFileOf(dir, 0);
    applyBatch(state, 1, [invoke(1)]);
    expect(state.listInvocations({}, 10).map((inv) => inv.id)).toEqual([invId(0, 1)]);
    expect(fileAppliedLsn(file)).toBe(1);
    applyBatch(state, 2, [invoke(2)]);
    expect(state.countInvocationsByStatus().get("running")).toBe(2);
    expect(fileAppliedLsn(file)).toBe(2);
    applyBatch(state, 3, [invoke(3)]);
    state.flush();
    expect(fileAppliedLsn(file)).toBe(3);
    applyBatch(state, 4, [invoke(4)]);
    expect(await state.persist()).toBe(4);
    expect(fileAppliedLsn(file)).toBe(4);
    state.close();
  });

  test("close drops what is kept, changes made by a batch that never committed included", async () => {
    const stores = new GroupCommitStateStores(new SqliteStateStores(dir));
    const state = await stores.open(0, 4);
    applyBatch(state, 1, [invoke(1)]);
    state.flush();
    applyBatch(state, 2, [invoke(2)]);
    // A batch whose apply fails halfway: it changed the kept invocation in place, then threw.
    const tx = new StateTx(state);
    tx.invocation(invId(0, 1))!.status = "suspended";
    state.close();

    const reopened = await stores.open(0, 4);
    expect(reopened.appliedLsn()).toBe(1);
    expect(reopened.invocation(invId(0, 1))?.status).toBe("running");
    expect(reopened.invocation(invId(0, 2))).toBeUndefined();
    reopened.close();
  });

  test("once a write to the store failed, every later commit is refused", async () => {
    const state = await new GroupCommitStateStores(new SqliteStateStores(dir), {
      maxBatches: 2,
      maxWrites: 100,
    }).open(0, 4);
    applyBatch(state, 1, [invoke(1)]);
    // The file is made read-only under the store: its next write fails.
    const db = (state as unknown as { inner: { db: Database.Database } }).inner.db;
    db.pragma("query_only = ON");
    expect(() => applyBatch(state, 2, [invoke(2)])).toThrow(/readonly|query_only|attempt to write/i);
    db.pragma("query_only = OFF");
    expect(() => applyBatch(state, 3, [invoke(3)])).toThrow(/a state commit of partition 0 failed/);
    expect(() => state.flush()).toThrow(/a state commit of partition 0 failed/);
    state.close();
  });

  test("a processor whose apply throws closes the state: kept batches and the failed batch's changes never reach the file", async () => {
    const log = new InMemoryLogStore();
    const sink = { onEffects: () => undefined, onFenced: () => undefined, onWarning: () => undefined };
    const stores = new GroupCommitStateStores(new SqliteStateStores(dir));
    const processor = new PartitionProcessor(0, 4, log, stores, new ManualClock(0), sink);
    await processor.load();
    await processor.append(rec.invoke(newInvocation(invId(0, 1))));
    expect(processor.state).toBeInstanceOf(GroupCommitStateStore);
    // One batch: a record that changes the kept invocation in place, then one apply cannot take.
    const changed = processor.append(rec.entries(invId(0, 1), 1, [], outcome.completed("r")));
    const bogus = processor.append({ kind: "no-such-record" } as never);
    await expect(bogus).rejects.toThrow();
    await expect(changed).rejects.toThrow();
    expect(processor.fencedReason).toMatch(/^apply failed/);
    // Reads meanwhile (an admin list writes what is kept first) find an empty stand-in.
    expect(processor.state.listInvocations({}, 10)).toEqual([]);
    await processor.stop();

    const reopened = await stores.open(0, 4);
    expect(reopened.appliedLsn()).toBe(0);
    expect(reopened.invocation(invId(0, 1))).toBeUndefined();
    // The log has the first record: a restart replays it.
    const tx = new StateTx(reopened);
    for (const { lsn, record } of await log.read(0, 0, 1)) apply(tx, lsn, record as LogRecord);
    reopened.commit(tx.writeSet());
    expect(reopened.invocation(invId(0, 1))?.status).toBe("running");
    reopened.close();
  });
});
