/**
 * Properties of the state machine over random record sequences. A failure prints fast-check's seed
 * and path; rerun with `fc.assert(..., { seed, path })` to reproduce.
 */
import fc from "fast-check";
import { applyBatch } from "./apply";
import type { Effect } from "./effects";
import { lockKeyOf } from "./lifecycle";
import { MemoryStateStore } from "./memory-state-store";
import type { PartitionState } from "./state";
import { emptyPartitionState } from "./state";
import { deserializeState, serializeState } from "./snapshot";
import { PARTITIONS } from "./test-support/builders";
import type { Command } from "./test-support/random-records";
import { commandsArb, toRecord } from "./test-support/random-records";
import type { LogRecord } from "./records";
import type { WriteSet } from "./write-set";

const RUNS = 300;

interface Run {
  state: PartitionState;
  store: MemoryStateStore;
  effects: Effect[][];
  lsn: number;
  clock: { nowMs: number };
}

function newRun(state = emptyPartitionState(0, PARTITIONS)): Run {
  return { state, store: new MemoryStateStore(state), effects: [], lsn: 0, clock: { nowMs: 1_000 } };
}

function step(run: Run, command: Command): void {
  const record = toRecord(run.state, command, run.clock);
  if (record === undefined) return;
  run.lsn += 1;
  run.effects.push(applyBatch(run.store, run.lsn, [record])[0]!);
}

/** Applies one record as its own batch (for records built outside `step`). */
function applyOne(run: Run, record: LogRecord): Effect[] {
  return applyBatch(run.store, ++run.lsn, [record])[0]!;
}

const json = (state: PartitionState): string => JSON.stringify(serializeState(state));

/**
 * `json` without the order of the maps' entries, which depends on the store (a key deleted and set
 * again in one batch keeps its place in the batch's write set) and means nothing: every read that
 * lists entries orders them itself.
 */
function canonicalJson(state: PartitionState): string {
  const byKey = <T>(entries: Array<[string | number, T]>) =>
    [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const s = serializeState(state) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...s };
  for (const [field, value] of Object.entries(s)) {
    if (!Array.isArray(value) || field === "outbox") continue;
    out[field] =
      field === "invocations" || field === "timers"
        ? [...(value as Array<{ id: string }>)].sort((a, b) => (a.id < b.id ? -1 : 1))
        : byKey(value as Array<[string, unknown]>);
  }
  return JSON.stringify(out);
}

/** Exclusive invocations holding (or entitled to) their key: at most one per key, and it is the lock holder. */
function assertOneExclusivePerKey(state: PartitionState): void {
  const holders = new Map<string, string[]>();
  for (const inv of state.invocations.values()) {
    const key = lockKeyOf(inv);
    if (key === undefined) continue;
    if (!["running", "suspended", "backing-off", "paused"].includes(inv.status)) continue;
    holders.set(key, [...(holders.get(key) ?? []), inv.id]);
  }
  for (const [key, ids] of holders) {
    expect(ids).toHaveLength(1);
    expect(state.locks.get(key)).toBe(ids[0]);
  }
  for (const [key, holder] of state.locks) {
    expect(state.invocations.get(holder)?.status).not.toBe("completed");
    expect(lockKeyOf(state.invocations.get(holder)!)).toBe(key);
  }
}

/**
 * A store that, like one on disk, never shares an object with its caller: every read is a fresh copy
 * and a commit keeps copies. A write `apply` made only by changing a value in place would be lost here.
 */
class CopyingStore extends MemoryStateStore {
  override invocation(id: Parameters<MemoryStateStore["invocation"]>[0]) {
    return structuredClone(super.invocation(id));
  }
  override objectState(key: string) {
    return structuredClone(super.objectState(key));
  }
  override inbox(key: string) {
    return structuredClone(super.inbox(key));
  }
  override timer(id: string) {
    return structuredClone(super.timer(id));
  }
  override promise(key: string) {
    return structuredClone(super.promise(key));
  }
  override promiseWaiters(key: string) {
    return structuredClone(super.promiseWaiters(key));
  }
  override outbox() {
    return structuredClone(super.outbox());
  }
  override outboxUpTo(toPartition: number, upToSeq: number) {
    return structuredClone(super.outboxUpTo(toPartition, upToSeq));
  }
  override runningInvocations() {
    return structuredClone(super.runningInvocations());
  }
  override timers() {
    return structuredClone(super.timers());
  }
  override commit(writes: WriteSet): void {
    super.commit(structuredClone(writes));
  }
}

/** Runs `commands` one record per batch, returning the records it applied. */
function recordsOf(commands: Command[]): { run: Run; records: LogRecord[] } {
  const run = newRun();
  const records: LogRecord[] = [];
  for (const command of commands) {
    const record = toRecord(run.state, command, run.clock);
    if (record === undefined) continue;
    records.push(record);
    run.effects.push(applyOne(run, record));
  }
  return { run, records };
}

describe("apply: properties", () => {
  it("gives the same state and effects however the records are split into batches", () => {
    fc.assert(
      fc.property(
        commandsArb,
        fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 40 }),
        (commands, sizes) => {
          const { run: oneByOne, records } = recordsOf(commands);
          const batched = newRun();
          for (let at = 0, i = 0; at < records.length; i += 1) {
            const batch = records.slice(at, at + (sizes[i % Math.max(1, sizes.length)] ?? 1));
            batched.effects.push(...applyBatch(batched.store, at + 1, batch));
            at += batch.length;
          }
          expect(canonicalJson(batched.state)).toBe(canonicalJson(oneByOne.state));
          expect(batched.effects).toEqual(oneByOne.effects);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("loses no write when the store never shares objects (as a store on disk does)", () => {
    fc.assert(
      fc.property(commandsArb, fc.integer({ min: 1, max: 8 }), (commands, batchSize) => {
        const { run: shared, records } = recordsOf(commands);
        const copying = newRun();
        const store = new CopyingStore(copying.state);
        for (let at = 0; at < records.length; at += batchSize) {
          copying.effects.push(...applyBatch(store, at + 1, records.slice(at, at + batchSize)));
        }
        expect(canonicalJson(copying.state)).toBe(canonicalJson(shared.state));
        expect(copying.effects).toEqual(shared.effects);
      }),
      { numRuns: RUNS },
    );
  });

  it("is deterministic: the same records give the same state and effects", () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const [a, b] = [newRun(), newRun()];
        for (const command of commands) {
          step(a, command);
          step(b, command);
        }
        expect(json(a.state)).toBe(json(b.state));
        expect(a.effects).toEqual(b.effects);
      }),
      { numRuns: RUNS },
    );
  });

  it("round-trips snapshots, and a restored state continues exactly like the original", () => {
    fc.assert(
      fc.property(commandsArb, commandsArb, (before, after) => {
        const original = newRun();
        for (const command of before) step(original, command);

        const snapshot = JSON.parse(JSON.stringify(serializeState(original.state))) as unknown;
        const restored: Run = {
          ...newRun(deserializeState(snapshot)),
          lsn: original.lsn,
          clock: { ...original.clock },
        };
        expect(json(restored.state)).toBe(json(original.state));
        expect(restored.state).toEqual(original.state);

        original.effects = [];
        for (const command of after) {
          step(original, command);
          step(restored, command);
        }
        expect(json(restored.state)).toBe(json(original.state));
        expect(restored.effects).toEqual(original.effects);
      }),
      { numRuns: RUNS },
    );
  });

  it("never lets two exclusive handlers of one key hold it at once (guarantee 3)", () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const run = newRun();
        for (const command of commands) {
          step(run, command);
          assertOneExclusivePerKey(run.state);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("fires a timer once: the same timer-fired record applied again changes nothing", () => {
    fc.assert(
      fc.property(commandsArb, fc.nat(20), (commands, pick) => {
        const run = newRun();
        for (const command of commands) step(run, command);
        const record = toRecord(run.state, { c: "timer-fired", pick }, run.clock);
        fc.pre(record !== undefined);
        applyOne(run, record);
        const afterFirst = json(run.state);

        const second = applyOne(run, record);

        expect(second).toEqual([]);
        expect(json({ ...run.state, appliedLsn: run.lsn - 1 })).toBe(afterFirst);
      }),
      { numRuns: RUNS },
    );
  });

  it("ignores a record whose origin seq was already applied", () => {
    fc.assert(
      fc.property(
        commandsArb,
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 6 }),
        (commands, seq, n) => {
          const run = newRun();
          for (const command of commands) step(run, command);
          const record = toRecord(run.state, { c: "remote", seq, n }, run.clock)!;
          applyOne(run, record);
          const afterFirst = json(run.state);

          const again = applyOne(run, record);
          const older = applyOne(run, { ...record, origin: { partition: 1, seq: seq - 1 } });

          expect(again).toEqual([]);
          expect(older).toEqual([]);
          expect(json({ ...run.state, appliedLsn: run.lsn - 2 })).toBe(afterFirst);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("keeps every timer, lock and inbox pointing at a live invocation", () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const run = newRun();
        for (const command of commands) {
          step(run, command);
          const { state } = run;
          for (const timer of state.timers.values()) {
            const inv = state.invocations.get(timer.invocationId);
            expect(inv).toBeDefined();
            expect(timer.kind === "expire").toBe(inv!.status === "completed");
          }
          for (const inbox of state.inboxes.values()) {
            for (const id of inbox) expect(state.invocations.get(id)?.status).toBe("inboxed");
          }
          for (const inv of state.invocations.values()) {
            expect(inv.status === "backing-off").toBe(state.timers.has(`retry:${inv.id}:${inv.attempt}`));
            expect(inv.status === "scheduled").toBe(state.timers.has(`delayed-invoke:${inv.id}`));
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
