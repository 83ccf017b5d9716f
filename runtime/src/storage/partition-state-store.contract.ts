/**
 * The behaviour every PartitionStateStores implementation must have, run by each implementation's
 * test: random record sequences (core/test-support/random-records.ts) applied in batches must leave
 * the store reading exactly like the reference (MemoryStateStore, one record per batch), before and
 * after a persist and reopen; reopened without a persist (a crash), the store may have lost commits
 * but says so by its applied LSN, so that replaying the log after it gives the same reads.
 */
import fc from "fast-check";
import type { InvocationId } from "@capstan/sdk/protocol";
import { apply, applyBatch } from "../core/apply";
import { MemoryStateStore } from "../core/memory-state-store";
import type { LogRecord } from "../core/records";
import type { PartitionStateReader } from "../core/state-reader";
import { emptyPartitionState, type Timer } from "../core/state";
import { StateTx } from "../core/state-tx";
import { compareTimerKeys, type TimerKey } from "../core/timers";
import { PARTITIONS, exclusive, invId, newInvocation } from "../core/test-support/builders";
import { type Command, commandArb, toRecord } from "../core/test-support/random-records";
import type { WriteSet } from "../core/write-set";
import type { PartitionStateHandle, PartitionStateStores } from "./partition-state-store";

export interface PartitionStateStoresFixture {
  stores: PartitionStateStores;
  /** Closes whatever is still open and deletes the data. */
  cleanup(): Promise<void>;
}

const RUNS = 40;
/** Long sequences: most commands make no record or a refused one, and deletions need history. */
const commandsArb = fc.array(commandArb, { minLength: 40, maxLength: 150 });
const PAGE = 3;

/** Keys written by any batch, per table, so the comparison also catches rows that should be gone. */
interface Touched {
  idempotency: Set<string>;
  workflows: Set<string>;
  locks: Set<string>;
  inboxes: Set<string>;
  promises: Set<string>;
  promiseWaiters: Set<string>;
  objects: Set<string>;
  invocations: Set<InvocationId>;
}

function noteWrites(touched: Touched, w: WriteSet): void {
  for (const k of w.idempotency.keys()) touched.idempotency.add(k);
  for (const k of w.workflows.keys()) touched.workflows.add(k);
  for (const k of w.locks.keys()) touched.locks.add(k);
  for (const k of w.inboxes.keys()) touched.inboxes.add(k);
  for (const k of w.promises.keys()) touched.promises.add(k);
  for (const k of w.promiseWaiters.keys()) touched.promiseWaiters.add(k);
  for (const k of w.objectState.keys()) touched.objects.add(k);
  for (const k of w.invocations.keys()) touched.invocations.add(k);
}

function pageAll<T>(page: (after: string | undefined) => T[], keyOf: (item: T) => string): T[] {
  const all: T[] = [];
  for (let after: string | undefined; ;) {
    const items = page(after);
    all.push(...items);
    if (items.length < PAGE) return all;
    after = keyOf(items[items.length - 1]!);
  }
}

/** Everything the store answers, in a store-independent order. */
function dump(store: PartitionStateReader & Partial<PartitionStateHandle>, touched: Touched): unknown {
  const lookup = <V>(keys: Set<string>, get: (key: string) => V | undefined) =>
    [...keys].sort().map((key) => [key, get(key)]);
  return {
    appliedLsn: store.appliedLsn(),
    nextOutboxSeq: store.nextOutboxSeq(),
    inboundSeq: Array.from({ length: PARTITIONS }, (_, p) => store.inboundSeq(p)),
    invocations: lookup(touched.invocations, (id) => store.invocation(id as InvocationId)),
    idempotency: lookup(touched.idempotency, (k) => store.idempotency(k)),
    workflows: lookup(touched.workflows, (k) => store.workflow(k)),
    locks: lookup(touched.locks, (k) => store.lock(k)),
    inboxes: lookup(touched.inboxes, (k) => store.inbox(k)),
    promises: lookup(touched.promises, (k) => store.promise(k)),
    promiseWaiters: lookup(touched.promiseWaiters, (k) => store.promiseWaiters(k)),
    objects: lookup(touched.objects, (k) => store.objectState(k)),
    timers: store.timers().sort((a, b) => (a.id < b.id ? -1 : 1)),
    outbox: store.outbox(),
    running: store
      .runningInvocations()
      .map((inv) => inv.id)
      .sort(),
    allInvocations: store.invocationsPage
      ? pageAll(
          (after) => store.invocationsPage!(after as InvocationId | undefined, PAGE),
          (inv) => inv.id,
        )
      : undefined,
    allObjects: store.objectStatesPage
      ? pageAll(
          (after) => store.objectStatesPage!(after, PAGE),
          ([key]) => key,
        )
      : undefined,
    counts: store.countInvocationsByStatus
      ? [...store.countInvocationsByStatus()].sort(([a], [b]) => (a < b ? -1 : 1))
      : undefined,
    dueTimers: store.timersPage ? allTimersInDueOrder(store.timersPage.bind(store)) : undefined,
    timerCount: store.timerCount?.(),
  };
}

/** A dump without the views (the reference has none). */
function readsOnly(dumped: Record<string, unknown>): Record<string, unknown> {
  return {
    ...dumped,
    allInvocations: undefined,
    allObjects: undefined,
    counts: undefined,
    dueTimers: undefined,
    timerCount: undefined,
  };
}

/** Walks the timers in due order, PAGE at a time, each page after the last one's key. */
function allTimersInDueOrder(page: (after: TimerKey | undefined, limit: number) => Timer[]): Timer[] {
  const all: Timer[] = [];
  for (let after: TimerKey | undefined; ;) {
    const items = page(after, PAGE);
    all.push(...items);
    if (items.length < PAGE) return all;
    after = items[items.length - 1]!;
  }
}

/** The records the commands make, one after the other, and the reference they leave. */
function recordsOf(commands: readonly Command[]): { records: LogRecord[]; reference: MemoryStateStore } {
  const reference = new MemoryStateStore(emptyPartitionState(0, PARTITIONS));
  const clock = { nowMs: 1_000 };
  const records: LogRecord[] = [];
  for (const command of commands) {
    const record = toRecord(reference.state, command, clock);
    if (record === undefined) continue;
    records.push(record);
    applyBatch(reference, records.length, [record]);
  }
  return { records, reference };
}

/** Applies the records after LSN `after` to the store, `batchSize` per commit. */
function commitInBatches(
  store: PartitionStateHandle,
  records: readonly LogRecord[],
  after: number,
  batchSize: number,
  touched: Touched,
): void {
  for (let at = after; at < records.length; at += batchSize) {
    const tx = new StateTx(store);
    records.slice(at, at + batchSize).forEach((record, i) => apply(tx, at + 1 + i, record));
    noteWrites(touched, tx.writeSet());
    store.commit(tx.writeSet());
  }
}

function noTouches(): Touched {
  return {
    idempotency: new Set(),
    workflows: new Set(),
    locks: new Set(),
    inboxes: new Set(),
    promises: new Set(),
    promiseWaiters: new Set(),
    objects: new Set(),
    invocations: new Set(),
  };
}

interface Committed {
  fixture: PartitionStateStoresFixture;
  /** Partition 0's store, the records committed to it `batchSize` per commit. */
  store: PartitionStateHandle;
  records: LogRecord[];
  reference: MemoryStateStore;
  touched: Touched;
  batchSize: number;
}

/** Checks `check` on stores that random records were committed to in random batches. */
async function propertyOnCommitted(
  makeStores: () => Promise<PartitionStateStoresFixture>,
  numRuns: number,
  check: (committed: Committed) => Promise<void>,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(commandsArb, fc.integer({ min: 1, max: 6 }), async (commands, batchSize) => {
      const { records, reference } = recordsOf(commands);
      const fixture = await makeStores();
      try {
        const touched = noTouches();
        const store = await fixture.stores.open(0, PARTITIONS);
        commitInBatches(store, records, 0, batchSize, touched);
        await check({ fixture, store, records, reference, touched, batchSize });
      } finally {
        await fixture.cleanup();
      }
    }),
    { numRuns },
  );
}

export function describePartitionStateStoresContract(
  name: string,
  makeStores: () => Promise<PartitionStateStoresFixture>,
): void {
  describe(`PartitionStateStores contract: ${name}`, () => {
    it("reads exactly like the in-memory reference after random batches, and after persist + reopen", async () => {
      await propertyOnCommitted(makeStores, RUNS, async ({ fixture, store, records, reference, touched }) => {
        const expected = dump(reference, touched) as Record<string, unknown>;
        const actual = dump(store, touched) as Record<string, unknown>;
        expect(readsOnly(actual)).toEqual(expected);
        // The views kept up to date by commits, against the reference's whole state.
        const counts = new Map<string, number>();
        for (const inv of reference.state.invocations.values())
          counts.set(inv.status, (counts.get(inv.status) ?? 0) + 1);
        expect(actual.counts).toEqual([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));
        expect(actual.dueTimers).toEqual([...reference.state.timers.values()].sort(compareTimerKeys));
        expect(actual.timerCount).toBe(reference.state.timers.size);

        expect(await store.persist()).toBe(records.length);
        store.close();
        const reopened = await fixture.stores.open(0, PARTITIONS);
        expect(dump(reopened, touched)).toEqual(actual);
        reopened.close();
      });
    });

    it("reopened without a persist, its applied LSN says what it kept: the log replayed after it reads the same", async () => {
      await propertyOnCommitted(
        makeStores,
        RUNS / 2,
        async ({ fixture, store, records, reference, touched, batchSize }) => {
          store.close(); // a crash: no persist
          const reopened = await fixture.stores.open(0, PARTITIONS);
          const kept = reopened.appliedLsn();
          expect(kept).toBeLessThanOrEqual(records.length);
          commitInBatches(reopened, records, kept, batchSize, touched); // recovery's replay
          expect(readsOnly(dump(reopened, touched) as Record<string, unknown>)).toEqual(
            dump(reference, touched),
          );
          reopened.close();
        },
      );
    });

    it("lists invocations newest first with filters and a limit, and counts them by status", async () => {
      const fixture = await makeStores();
      try {
        const store = await fixture.stores.open(1, PARTITIONS);
        const records: LogRecord[] = [
          { kind: "invoke", invocation: newInvocation(invId(1, 1)), atMs: 10 },
          { kind: "invoke", invocation: exclusive(invId(1, 2), "a"), atMs: 20 },
          { kind: "invoke", invocation: exclusive(invId(1, 3), "b"), atMs: 30 },
          { kind: "invoke", invocation: exclusive(invId(1, 4), "a"), atMs: 40 },
        ];
        applyBatch(store, 1, records);

        expect(store.listInvocations({}, 10).map((inv) => inv.id)).toEqual(
          [4, 3, 2, 1].map((n) => invId(1, n)),
        );
        expect(store.listInvocations({}, 2).map((inv) => inv.id)).toEqual([invId(1, 4), invId(1, 3)]);
        expect(store.listInvocations({ service: "Obj", key: "a" }, 10).map((inv) => inv.id)).toEqual([
          invId(1, 4),
          invId(1, 2),
        ]);
        expect(store.listInvocations({ status: "inboxed" }, 10).map((inv) => inv.id)).toEqual([invId(1, 4)]);
        expect(store.listInvocations({ service: "Nope" }, 10)).toEqual([]);
        // Pages continue after a position (createdAtMs, then id, descending) and honour time ranges.
        const after = (createdAtMs: number, n: number) => ({ createdAtMs, id: invId(1, n) });
        expect(store.listInvocations({ after: after(30, 3) }, 10).map((inv) => inv.id)).toEqual([
          invId(1, 2),
          invId(1, 1),
        ]);
        expect(store.listInvocations({ after: after(40, 5) }, 1).map((inv) => inv.id)).toEqual([invId(1, 4)]);
        expect(store.listInvocations({ after: after(40, 3) }, 1).map((inv) => inv.id)).toEqual([invId(1, 3)]);
        expect(
          store.listInvocations({ createdFromMs: 20, createdToMs: 40 }, 10).map((inv) => inv.id),
        ).toEqual([invId(1, 3), invId(1, 2)]);
        expect(store.countInvocationsByStatus()).toEqual(
          new Map([
            ["running", 3],
            ["inboxed", 1],
          ]),
        );
        store.close();
      } finally {
        await fixture.cleanup();
      }
    });
  });
}
