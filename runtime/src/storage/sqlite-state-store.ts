/**
 * A partition's state in its own SQLite file (`<dataDir>/partitions/p<N>.db`): the PartitionStateStore
 * `apply` reads through (synchronous point reads of a few µs), committed one batch per transaction
 * together with the partition's applied LSN.
 *
 * Durability: `synchronous=NORMAL` in WAL mode. A commit is not fsync'd; it survives a crash of the
 * process (it is in the OS's cache) and, after a crash of the machine, the file is consistent but may
 * have lost its last commits — the applied LSN with them, so recovery replays those records from the
 * log, which is fsync'd before anything is acknowledged and is the source of truth. The only thing
 * that must outlive the log is the state below a trimmed LSN: `persist()` checkpoints the WAL into
 * the file with an fsync, and only the LSN it returns is trimmed (ADR 0013).
 *
 * Speed: reads run in one read transaction that lasts until the next commit (which ends it), not
 * one implicit transaction per statement: each of those took and released the file's and the WAL
 * index's locks (four syscalls). Recently used invocations, and a key's object state, lock and inbox,
 * are kept decoded in bounded caches (what is absent too), so the request path neither reads the
 * file for them again nor parses the same JSON twice.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { Completion, InvocationId, Payload } from "@capstan/sdk/protocol";
import { deserializeState, restoreInvocation } from "../core/snapshot";
import type { EntryRef, Invocation, InvocationStatus, OutboxEntry, Timer } from "../core/state";
import type { TimerKey } from "../core/timers";
import { writeSetOfState, type WriteSet } from "../core/write-set";
import type { PartitionStore } from "./partition-store";
import type {
  InvocationListFilter,
  PartitionStateHandle,
  PartitionStateStores,
} from "./partition-state-store";
import { ByteBudgetCache } from "./byte-budget-cache";
import { BUSY_TIMEOUT_MS, StoreClosedError, StoreOpenError, StoreSchemaError } from "./sqlite-database";
import {
  STATE_SCHEMA_V1,
  STATE_SCHEMA_V1_TO_V2,
  STATE_SCHEMA_V2_TO_V3,
  STATE_SCHEMA_V3_TO_V4,
  STATE_SCHEMA_VERSION,
} from "./sqlite-state-schema";
import { StateFileMismatchError } from "./store-errors";

/** Directory of the partitions' state files, under the data directory. */
export const PARTITIONS_DIR_NAME = "partitions";
/**
 * SQLite's page cache per partition file: the bounded in-memory cache of partition state, allocated
 * on the main thread's malloc heap. 16 partitions × 1 MiB keep the B-trees' upper levels; leaves come
 * from the OS's file cache. At 2 MiB the caches were ~40 of the runtime's ~60 MB of malloc heap
 * in the scale scenario (bench/README.md#scale-issue-13-3), most of the room under its 250 MB target.
 */
export const STATE_CACHE_KIB = 1_024;

/**
 * WAL pages after which a commit checkpoints the WAL into the file (two fsyncs on the event loop).
 * SQLite's default, 1,000 (4 MiB), made a checkpoint every ~100–250 commits of a few records; at
 * 4,000 (16 MiB of WAL per partition at most, reused, truncated by persist()) the hot pages written
 * over and over (meta, counts, index roots) are copied once per 4× more commits, and the fsyncs are
 * 4× rarer: state-store-bench.js 10000 4 went 108–133 → 83–103 µs/record (persist 13 → 26–38 ms).
 */
export const STATE_WAL_CHECKPOINT_PAGES = 4_000;

/**
 * Decoded invocations a partition keeps between batches (measured by their JSON's length): the
 * request path reads an invocation in each batch that touches it and through the partition's view
 * (attempt driver, checkpoint channel), and decoding its JSON each time was the state path's
 * largest CPU cost after the commit itself. 32 KiB per partition still holds the invocations in
 * flight of the bench at 32 clients several times over (~1–2 KB each, 2–4 per partition) and bounds
 * the cache at 16 partitions to 512 KiB of JSON. It was 128 KiB (2 MiB of JSON, several MiB of
 * decoded objects) when the full-size scale scenario peaked at 264 MB of RSS against its 250 MB
 * target (on a loaded machine; 247.6 MB at 32 KiB on a quiet one: bench/README.md, Scale).
 */
export const INVOCATION_CACHE_BYTES = 32 * 1024;
/** An invocation whose JSON is longer than this is never cached (a long journal): read from the file. */
export const INVOCATION_CACHE_MAX_ENTRY_BYTES = 16 * 1024;
/**
 * Keys' object states, locks and inboxes a partition keeps decoded between batches, each kind up to
 * this (measured by their keys' and values' length): every request to a keyed handler reads all
 * three, in `apply` and to build the attempt's request, and in `counter-spread` those reads were
 * the state path's largest cost (ADR 0013, "Reads of a key cached"). 8 KiB holds ~100 keys' small
 * states; 24 KiB per partition in all.
 */
export const STATE_ROW_CACHE_BYTES = 8 * 1024;
/** A key's object state (or inbox) longer than this is never cached: read from the file. */
export const STATE_ROW_CACHE_MAX_ENTRY_BYTES = 2 * 1024;
/** What an entry counts against its cache's budget besides its keys and values (one saying "absent": this). */
const ENTRY_BYTES = 64;

/** The state file of `partition` under `dataDir`. */
export function stateFileOf(dataDir: string, partition: number): string {
  return path.join(dataDir, PARTITIONS_DIR_NAME, `p${partition}.db`);
}

/**
 * @example
 * const stores = new SqliteStateStores("/var/lib/capstan");
 * const state = await stores.open(3, 16); // replay the log after state.appliedLsn()
 */
export class SqliteStateStores implements PartitionStateStores {
  /**
   * @param legacySnapshots where a data directory written before the state files kept its JSON
   *   snapshots: a new state file starts from the partition's snapshot there, if any.
   */
  constructor(
    private readonly dataDir: string,
    private readonly legacySnapshots?: PartitionStore,
  ) {}

  async open(partition: number, partitions: number): Promise<SqliteStateStore> {
    const store = SqliteStateStore.open(stateFileOf(this.dataDir, partition), partition, partitions);
    if (store.appliedLsn() === 0 && this.legacySnapshots !== undefined) {
      const snapshot = await this.legacySnapshots.loadSnapshot(partition);
      if (snapshot !== undefined) {
        const state = deserializeState(snapshot.state);
        state.appliedLsn = snapshot.lsn;
        store.commit(writeSetOfState(state));
        await store.persist();
      }
    }
    return store;
  }
}

type Row<T> = T | undefined;

/** An invocation as last committed: the object (null: absent) and its status then. */
interface CachedInvocation {
  inv: Invocation | null;
  status: string | undefined;
}

export class SqliteStateStore implements PartitionStateHandle {
  private readonly s: Statements;
  private appliedLsnValue: number;
  private nextOutboxSeqValue: number;
  /** Invocations per status (partition_meta.invocation_counts, read once at open, then kept here). */
  private readonly statusCounts: Map<string, number>;
  /** Per-status changes of the batch being committed, applied to statusCounts once it commits. */
  private countDeltas = new Map<string, number>();
  /**
   * Timers held per group (`timerGroupOf`; partition_meta.timer_counts, read once at open, then kept
   * here), and the changes of the batch being committed.
   */
  private readonly timerCounts: Map<string, number>;
  private timerDeltas = new Map<string, number>();
  /**
   * Recently used invocations, at most INVOCATION_CACHE_BYTES of their JSON.
   * The objects are shared with the batch that reads them, as MemoryStateStore shares its maps'
   * objects: StateTx writes back every invocation it hands out, and a batch whose apply throws is
   * never committed (the processor stops). `status` is the committed one (the object may be ahead of
   * it while a batch runs), so a commit knows the status it replaces without a read.
   */
  private readonly cache = new ByteBudgetCache<InvocationId, CachedInvocation>(
    INVOCATION_CACHE_BYTES,
    INVOCATION_CACHE_MAX_ENTRY_BYTES,
  );
  /**
   * Recently used keys' object states, locks and inboxes as last committed (null: absent), each at
   * most STATE_ROW_CACHE_BYTES. Shared with the batches that read them, which never change them in
   * place (they write new values).
   */
  private readonly objectStates = rowCache<ReadonlyMap<string, Payload>>();
  private readonly locks = rowCache<InvocationId>();
  private readonly inboxes = rowCache<readonly InvocationId[]>();

  private constructor(
    readonly file: string,
    private readonly db: Database.Database,
    readonly partition: number,
    readonly partitions: number,
  ) {
    this.s = prepare(db);
    const meta = this.s.meta.get()!;
    this.appliedLsnValue = meta.applied_lsn;
    this.nextOutboxSeqValue = meta.next_outbox_seq;
    this.statusCounts = new Map(Object.entries(JSON.parse(meta.invocation_counts) as Record<string, number>));
    this.timerCounts = new Map(Object.entries(JSON.parse(meta.timer_counts) as Record<string, number>));
  }

  /** Opens or creates the file; refuses one made for another partition or partition count. */
  static open(file: string, partition: number, partitions: number): SqliteStateStore {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (e) {
      throw new StoreOpenError(file, e);
    }
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma(`cache_size = -${STATE_CACHE_KIB}`);
      db.pragma(`wal_autocheckpoint = ${STATE_WAL_CHECKPOINT_PAGES}`);
      migrate(db, file, partition, partitions);
    } catch (e) {
      db.close();
      throw e instanceof StoreSchemaError || e instanceof StateFileMismatchError
        ? e
        : new StoreOpenError(file, e);
    }
    return new SqliteStateStore(file, db, partition, partitions);
  }

  appliedLsn(): number {
    return this.appliedLsnValue;
  }

  nextOutboxSeq(): number {
    return this.nextOutboxSeqValue;
  }

  inboundSeq(partition: number): number {
    return this.q.inboundSeq.get(partition) ?? 0;
  }

  invocation(id: InvocationId): Invocation | undefined {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached.inv ?? undefined;
    const body = this.q.invocation.get(id);
    if (body === undefined) {
      this.remember(id, null, ENTRY_BYTES);
      return undefined;
    }
    const inv = parseInvocation(body);
    this.remember(id, inv, body.length);
    return inv;
  }

  /** How many invocations (present or absent) the cache holds and their bytes, for tests. */
  invocationCacheSize(): { entries: number; bytes: number } {
    return this.cache.size;
  }

  /** How many keys' object states (present or absent) the cache holds and their bytes, for tests. */
  objectStateCacheSize(): { entries: number; bytes: number } {
    return this.objectStates.size;
  }

  idempotency(key: string): InvocationId | undefined {
    return this.q.idempotency.get(key) as Row<InvocationId>;
  }

  workflow(key: string): InvocationId | undefined {
    return this.q.workflow.get(key) as Row<InvocationId>;
  }

  objectState(key: string): ReadonlyMap<string, Payload> | undefined {
    const cached = this.objectStates.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const values = this.readObjectState(key);
    this.objectStates.set(key, values ?? null, objectStateBytes(values));
    return values;
  }

  lock(key: string): InvocationId | undefined {
    const cached = this.locks.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const id = this.q.lock.get(key) as Row<InvocationId>;
    this.locks.set(key, id ?? null, ENTRY_BYTES + (id?.length ?? 0));
    return id;
  }

  inbox(key: string): readonly InvocationId[] | undefined {
    const cached = this.inboxes.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const json = this.q.inbox.get(key);
    const ids = json === undefined ? undefined : (JSON.parse(json) as InvocationId[]);
    this.inboxes.set(key, ids ?? null, ENTRY_BYTES + (json?.length ?? 0));
    return ids;
  }

  timer(id: string): Timer | undefined {
    // Most lookups are of a timer that would only exist in a rare state (a retry's, a delayed
    // start's): with none of its group held, the file is not read.
    if ((this.timerCounts.get(timerGroupOf(id)) ?? 0) === 0) return undefined;
    const body = this.q.timer.get(id);
    return body === undefined ? undefined : (JSON.parse(body) as Timer);
  }

  promise(key: string): Completion | undefined {
    const completion = this.q.promise.get(key);
    return completion === undefined ? undefined : (JSON.parse(completion) as Completion);
  }

  promiseKeysWithPrefix(prefix: string): string[] {
    const keys: string[] = [];
    // Keys with a prefix are contiguous in the index's order, starting at the prefix.
    for (const { key } of this.q.promiseKeysFrom.iterate(prefix)) {
      if (!key.startsWith(prefix)) break;
      keys.push(key);
    }
    return keys;
  }

  promiseWaiters(key: string): readonly EntryRef[] | undefined {
    const waiters = this.q.promiseWaiters.get(key);
    return waiters === undefined ? undefined : (JSON.parse(waiters) as EntryRef[]);
  }

  outbox(): OutboxEntry[] {
    return this.q.outbox.all().map(toOutboxEntry);
  }

  outboxUpTo(toPartition: number, upToSeq: number): OutboxEntry[] {
    return this.q.outboxUpTo.all(toPartition, upToSeq).map(toOutboxEntry);
  }

  runningInvocations(): Invocation[] {
    return this.q.invocationsWithStatus.all("running").map((r) => parseInvocation(r.body));
  }

  timers(): Timer[] {
    return this.q.timers.all().map((r) => JSON.parse(r.body) as Timer);
  }

  listInvocations(filter: InvocationListFilter, limit: number): Invocation[] {
    const rows = this.q.listInvocations.all({
      status: filter.status ?? null,
      service: filter.service ?? null,
      objectKey:
        filter.key === undefined || filter.service === undefined ? null : `${filter.service}/${filter.key}`,
      failed: filter.outcome === undefined ? null : filter.outcome === "failed" ? 1 : 0,
      fromMs: filter.createdFromMs ?? null,
      toMs: filter.createdToMs ?? null,
      afterMs: filter.after?.createdAtMs ?? null,
      afterId: filter.after?.id ?? null,
      limit,
    });
    const out = rows.map((r) => parseInvocation(r.body));
    // A key without a service matches that key of any service: filtered here (rare, admin only).
    return filter.key !== undefined && filter.service === undefined
      ? out.filter((inv) => inv.target.key === filter.key)
      : out;
  }

  countInvocationsByStatus(): Map<InvocationStatus, number> {
    const counts = new Map<InvocationStatus, number>();
    for (const [status, n] of this.statusCounts) if (n > 0) counts.set(status as InvocationStatus, n);
    return counts;
  }

  timerCount(): number {
    let n = 0;
    for (const count of this.timerCounts.values()) n += count;
    return n;
  }

  timersPage(after: TimerKey | undefined, limit: number): Timer[] {
    const rows =
      after === undefined
        ? this.q.timersFirst.all(limit)
        : this.q.timersAfter.all(after.fireAtMs, after.id, limit);
    return rows.map((r) => JSON.parse(r.body) as Timer);
  }

  invocationsPage(afterId: InvocationId | undefined, limit: number): Invocation[] {
    return this.q.invocationsAfter.all(afterId ?? "", limit).map((r) => parseInvocation(r.body));
  }

  objectStatesPage(afterKey: string | undefined, limit: number): Array<[string, Map<string, Payload>]> {
    return this.q.objectKeysAfter
      .all(afterKey ?? "", limit)
      .map(({ object_key }) => [object_key, new Map(this.readObjectState(object_key))]);
  }

  commit(writes: WriteSet): void {
    if (!this.db.open) throw new StoreClosedError(this.file);
    this.countDeltas = new Map();
    this.timerDeltas = new Map();
    try {
      // Within the read transaction of the batch's reads, if any: BEGIN is deferred, the first
      // write makes it a write transaction.
      if (!this.db.inTransaction) this.s.begin.run();
      this.write(writes);
      this.s.commit.run();
    } catch (e) {
      if (this.db.inTransaction) this.s.rollback.run();
      // The caches may hold this batch's writes, which were rolled back.
      this.clearCaches();
      throw e;
    }
    addDeltas(this.statusCounts, this.countDeltas);
    addDeltas(this.timerCounts, this.timerDeltas);
    this.appliedLsnValue = writes.appliedLsn;
    this.nextOutboxSeqValue = writes.nextOutboxSeq;
  }

  async persist(): Promise<number> {
    if (!this.db.open) throw new StoreClosedError(this.file);
    this.endRead(); // a checkpoint cannot pass the connection's own read transaction
    const lsn = this.appliedLsnValue;
    // TRUNCATE: every commit so far is copied into the file and fsync'd (synchronous=NORMAL syncs at
    // checkpoints), and the WAL restarts empty. Synchronous: nothing commits in between.
    // Never waits for a reader (a query's process reads the file in place, sql-state-files.ts): on the
    // event loop, a wait would stall the runtime. Every frame copied (`checkpointed` = `log`) means
    // the file was fsync'd with all of them, even if a reader kept the WAL from restarting.
    this.db.pragma("busy_timeout = 0");
    let result: { busy: number; log: number; checkpointed: number } | undefined;
    try {
      [result] = this.db.pragma("wal_checkpoint(TRUNCATE)") as Array<NonNullable<typeof result>>;
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    if (
      result !== undefined &&
      result.busy !== 0 &&
      !(result.log >= 0 && result.log === result.checkpointed)
    ) {
      throw new Error(`${this.file}: checkpoint blocked by a reader, nothing persisted`);
    }
    return lsn;
  }

  /**
   * Writes a consistent copy of the state file to `file` (SQLite's online backup, in steps between
   * which the event loop runs) and resolves with the applied LSN the copy holds: the partition's
   * snapshot, to ship (e.g. to S3) and open anywhere with `SqliteStateStore.open`; the log after
   * that LSN completes it. Batches committed while the copy runs are in it.
   *
   * @example
   * const lsn = await state.copyTo("/tmp/p3-snapshot.db"); // upload the file; keep the log after lsn
   */
  async copyTo(file: string): Promise<number> {
    if (!this.db.open) throw new StoreClosedError(this.file);
    this.endRead();
    await this.db.backup(file);
    const copy = new Database(file, { readonly: true });
    try {
      const meta = copy.prepare("SELECT applied_lsn FROM partition_meta WHERE id = 0").get() as {
        applied_lsn: number;
      };
      return meta.applied_lsn;
    } finally {
      copy.close();
    }
  }

  /** Each commit is written at once. */
  flush(): void {}

  close(): void {
    this.endRead();
    if (this.db.open) this.db.close();
    this.clearCaches();
  }

  private clearCaches(): void {
    for (const cache of [this.cache, this.objectStates, this.locks, this.inboxes]) cache.clear();
  }

  /**
   * The statements, within the read transaction every read joins: begun by the first read after a
   * commit, ended by the next commit (or persist, copyTo, close). One writer, this connection, so
   * the transaction's snapshot is always the latest commit; other processes' readers (WAL) are not
   * blocked by it.
   */
  private get q(): Statements {
    if (!this.db.inTransaction) this.s.begin.run();
    return this.s;
  }

  /** Ends the read transaction, if one is open (nothing was written in it). */
  private endRead(): void {
    if (this.db.open && this.db.inTransaction) this.s.commit.run();
  }

  /** Caches `inv` (null: absent) as committed or read. */
  private remember(id: InvocationId, inv: Invocation | null, bytes: number): void {
    this.cache.set(id, { inv, status: inv?.status }, bytes);
  }

  /** A key's object state from the file (no cache). */
  private readObjectState(key: string): ReadonlyMap<string, Payload> | undefined {
    const rows = this.q.objectState.all(key);
    return rows.length === 0 ? undefined : new Map(rows.map((r) => [r.state_key, r.value]));
  }

  private write(w: WriteSet): void {
    const s = this.s;
    for (const [producer, seq] of w.inboundSeq) s.putInboundSeq.run(producer, seq);
    const count = (status: string | undefined, delta: number): void => {
      if (status !== undefined) addDelta(this.countDeltas, status, delta);
    };
    for (const [id, inv] of w.invocations) {
      const cached = this.cache.peek(id);
      const before = cached !== undefined ? cached.status : s.invocationStatus.get(id);
      if (inv === null) {
        if (before !== undefined) s.deleteInvocation.run(id);
        count(before, -1);
        this.remember(id, null, ENTRY_BYTES);
      } else {
        if (before !== inv.status) {
          count(before, -1);
          count(inv.status, 1);
        }
        const objectKey = inv.target.key === undefined ? null : `${inv.target.service}/${inv.target.key}`;
        const body = JSON.stringify(inv);
        s.putInvocation.run(id, inv.status, inv.target.service, objectKey, inv.createdAtMs, body);
        this.remember(id, inv, body.length);
      }
    }
    putIds(w.idempotency, s.putIdempotency, s.deleteIdempotency);
    putIds(w.workflows, s.putWorkflow, s.deleteWorkflow);
    // What the key caches know of the file saves statements: a lock taken and given back within
    // the kept batches is never in the file, and a counter's state is one row updated in place.
    for (const [key, id] of w.locks) {
      if (id !== null) s.putLock.run(key, id);
      else if (this.locks.peek(key) !== null) s.deleteLock.run(key);
      this.locks.set(key, id, ENTRY_BYTES + (id?.length ?? 0));
    }
    for (const [key, values] of w.objectState) {
      const before = this.objectStates.peek(key);
      if (before === undefined) {
        s.deleteObjectState.run(key);
        for (const [name, value] of values ?? []) s.putObjectState.run(key, name, value);
      } else {
        for (const name of before?.keys() ?? []) {
          if (!values?.has(name)) s.deleteObjectStateValue.run(key, name);
        }
        for (const [name, value] of values ?? []) {
          if (before?.get(name) !== value) s.upsertObjectState.run(key, name, value);
        }
      }
      this.objectStates.set(key, values, objectStateBytes(values));
    }
    for (const [key, ids] of w.inboxes) {
      if (ids === null) {
        if (this.inboxes.peek(key) !== null) s.deleteInbox.run(key);
        this.inboxes.set(key, null, ENTRY_BYTES);
      } else {
        const json = JSON.stringify(ids);
        s.putInbox.run(key, json);
        this.inboxes.set(key, ids, ENTRY_BYTES + json.length);
      }
    }
    // The statements' change counts say whether the timer was there: no read before each write.
    for (const [id, timer] of w.timers) {
      if (timer === null) {
        addDelta(this.timerDeltas, timerGroupOf(id), -s.deleteTimer.run(id).changes);
      } else {
        const body = JSON.stringify(timer);
        if (s.insertTimer.run(id, timer.fireAtMs, body).changes === 1)
          addDelta(this.timerDeltas, timerGroupOf(id), 1);
        else s.updateTimer.run(timer.fireAtMs, body, id);
      }
    }
    putJson(w.promises, s.putPromise, s.deletePromise);
    putJson(w.promiseWaiters, s.putPromiseWaiters, s.deletePromiseWaiters);
    for (const [seq, entry] of w.outbox) {
      if (entry === null) s.deleteOutbox.run(seq);
      else s.putOutbox.run(seq, entry.toPartition, JSON.stringify(entry.message));
    }
    // Last, once the batch's count changes are known: one UPDATE of one page for all of the meta.
    s.setMeta.run(
      w.appliedLsn,
      w.nextOutboxSeq,
      JSON.stringify(countsAfter(this.timerCounts, this.timerDeltas)),
      JSON.stringify(countsAfter(this.statusCounts, this.countDeltas)),
    );
  }
}

/**
 * The group a timer's count is kept in: its id's prefix before the first `:` (the timer's purpose,
 * `timerIds` in core/timers.ts), or "" for an id without one. STATE_SCHEMA_V3_TO_V4 computes the same.
 */
export function timerGroupOf(id: string): string {
  const colon = id.indexOf(":");
  return colon < 0 ? "" : id.slice(0, colon);
}

function addDelta(deltas: Map<string, number>, key: string, delta: number): void {
  if (delta !== 0) deltas.set(key, (deltas.get(key) ?? 0) + delta);
}

function addDeltas(counts: Map<string, number>, deltas: ReadonlyMap<string, number>): void {
  for (const [key, delta] of deltas) counts.set(key, (counts.get(key) ?? 0) + delta);
}

/** The counts once the batch being committed is (`counts` plus `deltas`), as a JSON object. */
function countsAfter(
  counts: ReadonlyMap<string, number>,
  deltas: ReadonlyMap<string, number>,
): Record<string, number> {
  const after: Record<string, number> = {};
  for (const [key, n] of counts) after[key] = n;
  for (const [key, delta] of deltas) after[key] = (after[key] ?? 0) + delta;
  return after;
}

function putIds<K extends string>(
  writes: Map<K, string | null>,
  put: Database.Statement<[string, string]>,
  del: Database.Statement<[string]>,
): void {
  for (const [key, id] of writes) {
    if (id === null) del.run(key);
    else put.run(key, id);
  }
}

function putJson<V>(
  writes: Map<string, V | null>,
  put: Database.Statement<[string, string]>,
  del: Database.Statement<[string]>,
): void {
  for (const [key, value] of writes) {
    if (value === null) del.run(key);
    else put.run(key, JSON.stringify(value));
  }
}

function rowCache<V>(): ByteBudgetCache<string, V | null> {
  return new ByteBudgetCache(STATE_ROW_CACHE_BYTES, STATE_ROW_CACHE_MAX_ENTRY_BYTES);
}

/** What a key's object state counts against STATE_ROW_CACHE_BYTES. */
function objectStateBytes(values: ReadonlyMap<string, Payload> | null | undefined): number {
  let bytes = ENTRY_BYTES;
  for (const [name, value] of values ?? []) bytes += name.length + value.length;
  return bytes;
}

function parseInvocation(body: string): Invocation {
  return restoreInvocation(JSON.parse(body) as Invocation);
}

function toOutboxEntry(row: { seq: number; to_partition: number; message: string }): OutboxEntry {
  return {
    seq: row.seq,
    toPartition: row.to_partition,
    message: JSON.parse(row.message) as OutboxEntry["message"],
  };
}

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  const upsert = (table: string, key: string, value: string): Database.Statement<[string, string]> =>
    db.prepare(
      `INSERT INTO ${table} (${key}, ${value}) VALUES (?, ?) ON CONFLICT (${key}) DO UPDATE SET ${value} = excluded.${value}`,
    );
  const del = (table: string, key: string): Database.Statement<[string]> =>
    db.prepare(`DELETE FROM ${table} WHERE ${key} = ?`);
  // A point read of one column answers the value itself (no row object per read).
  const value = <P extends unknown[], V>(sql: string): Database.Statement<P, V> =>
    db.prepare<P, V>(sql).pluck();
  return {
    begin: db.prepare("BEGIN"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),
    meta: db.prepare<
      [],
      { applied_lsn: number; next_outbox_seq: number; timer_counts: string; invocation_counts: string }
    >(
      "SELECT applied_lsn, next_outbox_seq, timer_counts, invocation_counts FROM partition_meta WHERE id = 0",
    ),
    setMeta: db.prepare<[number, number, string, string]>(
      "UPDATE partition_meta SET applied_lsn = ?, next_outbox_seq = ?, timer_counts = ?, invocation_counts = ? WHERE id = 0",
    ),
    inboundSeq: value<[number], number>("SELECT seq FROM inbound_seq WHERE producer = ?"),
    putInboundSeq: db.prepare<[number, number]>(
      "INSERT INTO inbound_seq (producer, seq) VALUES (?, ?) ON CONFLICT (producer) DO UPDATE SET seq = excluded.seq",
    ),
    invocation: value<[string], string>("SELECT body FROM invocations WHERE id = ?"),
    putInvocation: db.prepare<[string, string, string, string | null, number, string]>(
      "INSERT INTO invocations (id, status, service, object_key, created_at_ms, body) VALUES (?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body",
    ),
    deleteInvocation: del("invocations", "id"),
    invocationsWithStatus: db.prepare<[string], { body: string }>(
      "SELECT body FROM invocations WHERE status = ? ORDER BY id",
    ),
    listInvocations: db.prepare<
      [
        {
          status: string | null;
          service: string | null;
          objectKey: string | null;
          failed: number | null;
          fromMs: number | null;
          toMs: number | null;
          afterMs: number | null;
          afterId: string | null;
          limit: number;
        },
      ],
      { body: string }
    >(
      "SELECT body FROM invocations WHERE (@status IS NULL OR status = @status) " +
        "AND (@service IS NULL OR service = @service) AND (@objectKey IS NULL OR object_key = @objectKey) " +
        "AND (@failed IS NULL OR (status = 'completed' AND (json_extract(body, '$.result.kind') IS 'failure') = @failed)) " +
        "AND (@fromMs IS NULL OR created_at_ms >= @fromMs) AND (@toMs IS NULL OR created_at_ms < @toMs) " +
        "AND (@afterMs IS NULL OR created_at_ms < @afterMs OR (created_at_ms = @afterMs AND id < @afterId)) " +
        "ORDER BY created_at_ms DESC, id DESC LIMIT @limit",
    ),
    invocationStatus: value<[string], string>("SELECT status FROM invocations WHERE id = ?"),
    invocationsAfter: db.prepare<[string, number], { body: string }>(
      "SELECT body FROM invocations WHERE id > ? ORDER BY id LIMIT ?",
    ),
    idempotency: value<[string], string>("SELECT invocation_id FROM idempotency WHERE key = ?"),
    putIdempotency: upsert("idempotency", "key", "invocation_id"),
    deleteIdempotency: del("idempotency", "key"),
    workflow: value<[string], string>("SELECT invocation_id FROM workflows WHERE key = ?"),
    putWorkflow: upsert("workflows", "key", "invocation_id"),
    deleteWorkflow: del("workflows", "key"),
    lock: value<[string], string>("SELECT invocation_id FROM locks WHERE key = ?"),
    putLock: upsert("locks", "key", "invocation_id"),
    deleteLock: del("locks", "key"),
    objectState: db.prepare<[string], { state_key: string; value: string }>(
      "SELECT state_key, value FROM object_state WHERE object_key = ? ORDER BY state_key",
    ),
    objectKeysAfter: db.prepare<[string, number], { object_key: string }>(
      "SELECT DISTINCT object_key FROM object_state WHERE object_key > ? ORDER BY object_key LIMIT ?",
    ),
    putObjectState: db.prepare<[string, string, string]>(
      "INSERT INTO object_state (object_key, state_key, value) VALUES (?, ?, ?)",
    ),
    deleteObjectState: del("object_state", "object_key"),
    upsertObjectState: db.prepare<[string, string, string]>(
      "INSERT INTO object_state (object_key, state_key, value) VALUES (?, ?, ?) " +
        "ON CONFLICT (object_key, state_key) DO UPDATE SET value = excluded.value",
    ),
    deleteObjectStateValue: db.prepare<[string, string]>(
      "DELETE FROM object_state WHERE object_key = ? AND state_key = ?",
    ),
    inbox: value<[string], string>("SELECT ids FROM inboxes WHERE key = ?"),
    putInbox: upsert("inboxes", "key", "ids"),
    deleteInbox: del("inboxes", "key"),
    timer: value<[string], string>("SELECT body FROM timers WHERE id = ?"),
    timers: db.prepare<[], { body: string }>("SELECT body FROM timers ORDER BY id"),
    timersFirst: db.prepare<[number], { body: string }>(
      "SELECT body FROM timers ORDER BY fire_at_ms, id LIMIT ?",
    ),
    timersAfter: db.prepare<[number, string, number], { body: string }>(
      "SELECT body FROM timers WHERE (fire_at_ms, id) > (?, ?) ORDER BY fire_at_ms, id LIMIT ?",
    ),
    insertTimer: db.prepare<[string, number, string]>(
      "INSERT INTO timers (id, fire_at_ms, body) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
    ),
    updateTimer: db.prepare<[number, string, string]>(
      "UPDATE timers SET fire_at_ms = ?, body = ? WHERE id = ?",
    ),
    deleteTimer: del("timers", "id"),
    promise: value<[string], string>("SELECT completion FROM promises WHERE key = ?"),
    promiseKeysFrom: db.prepare<[string], { key: string }>(
      "SELECT key FROM promises WHERE key >= ? ORDER BY key",
    ),
    putPromise: upsert("promises", "key", "completion"),
    deletePromise: del("promises", "key"),
    promiseWaiters: value<[string], string>("SELECT waiters FROM promise_waiters WHERE key = ?"),
    putPromiseWaiters: upsert("promise_waiters", "key", "waiters"),
    deletePromiseWaiters: del("promise_waiters", "key"),
    outbox: db.prepare<[], { seq: number; to_partition: number; message: string }>(
      "SELECT seq, to_partition, message FROM outbox ORDER BY seq",
    ),
    outboxUpTo: db.prepare<[number, number], { seq: number; to_partition: number; message: string }>(
      "SELECT seq, to_partition, message FROM outbox WHERE to_partition = ? AND seq <= ? ORDER BY seq",
    ),
    putOutbox: db.prepare<[number, number, string]>(
      "INSERT INTO outbox (seq, to_partition, message) VALUES (?, ?, ?) " +
        "ON CONFLICT (seq) DO UPDATE SET to_partition = excluded.to_partition, message = excluded.message",
    ),
    deleteOutbox: db.prepare<[number]>("DELETE FROM outbox WHERE seq = ?"),
  };
}

function migrate(db: Database.Database, file: string, partition: number, partitions: number): void {
  const found = db.pragma("user_version", { simple: true }) as number;
  if (found > STATE_SCHEMA_VERSION) throw new StoreSchemaError(file, found);
  if (found < STATE_SCHEMA_VERSION) {
    db.transaction(() => {
      if (found === 0) {
        db.exec(STATE_SCHEMA_V1);
        db.prepare(
          "INSERT INTO partition_meta (id, partition, partitions, applied_lsn, next_outbox_seq) VALUES (0, ?, ?, 0, 1)",
        ).run(partition, partitions);
      }
      if (found < 2) db.exec(STATE_SCHEMA_V1_TO_V2);
      if (found < 3) db.exec(STATE_SCHEMA_V2_TO_V3);
      db.exec(STATE_SCHEMA_V3_TO_V4);
      db.pragma(`user_version = ${STATE_SCHEMA_VERSION}`);
    }).immediate();
  }
  const meta = db.prepare("SELECT partition, partitions FROM partition_meta WHERE id = 0").get() as
    { partition: number; partitions: number } | undefined;
  if (meta?.partition !== partition || meta.partitions !== partitions) {
    throw new StateFileMismatchError(
      `${file} holds partition ${meta?.partition} of ${meta?.partitions}, not ${partition} of ${partitions}`,
    );
  }
}
