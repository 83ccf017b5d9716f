import type { Effect } from "../core/effects";
import { ManualClock } from "../testing/manual-clock";
import type { LogStore } from "../storage/log-store";
import { JsonSnapshotStateStores } from "../storage/json-snapshot-state-stores";
import type { PartitionStateStores } from "../storage/partition-state-store";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PARTITIONS_DIR_NAME, SqliteStateStores } from "../storage/sqlite-state-store";
import { openSqliteStores, type SqliteStores } from "../storage/sqlite-stores";
import {
  MAX_BATCH_RECORDS,
  MAX_PENDING_RECORDS,
  PartitionProcessor,
  SNAPSHOT_EVERY_RECORDS,
  TRIM_CHUNK_RECORDS,
} from "./partition-processor";

/** A log whose commits never finish: records pile up in the processor's queue. */
const stuckLog = { append: () => new Promise<void>(() => undefined) } as unknown as LogStore;
const noSink = {
  onEffects: (_p: number, _e: Effect[]) => undefined,
  onFenced: () => undefined,
  onWarning: () => undefined,
};

test("requests from outside are refused beyond MAX_PENDING_RECORDS; the runtime's own records are not", async () => {
  const processor = new PartitionProcessor(
    0,
    1,
    stuckLog,
    {} as PartitionStateStores,
    new ManualClock(0),
    noSink,
  );
  const record = { kind: "timer-fired" as const, timerId: "t" };
  for (let i = 0; i < MAX_PENDING_RECORDS; i++) void processor.append(record);
  await expect(processor.append(record)).rejects.toMatchObject({ code: "RUNTIME_OVERLOADED" });
  void processor.append(record, "internal");
  expect(processor.pendingRecords).toBe(MAX_PENDING_RECORDS + 1);
});

describe("snapshots and log trimming (real SQLite stores)", () => {
  let dir: string;
  let stores: SqliteStores;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "capstan-pp-"));
    stores = openSqliteStores(dir, { writer: "inline" });
  });
  afterEach(async () => {
    await stores.close();
    await rm(dir, { recursive: true, force: true });
  });

  const record = { kind: "timer-fired" as const, timerId: "t" };
  async function appendRecords(processor: PartitionProcessor, n: number): Promise<void> {
    const appended: Array<Promise<unknown>> = [];
    for (let i = 0; i < n; i++) appended.push(processor.append(record));
    await Promise.all(appended);
  }
  async function processorOn(
    partition: number,
    partitions: number,
    log: LogStore = stores.logStore,
  ): Promise<PartitionProcessor> {
    const processor = new PartitionProcessor(
      partition,
      partitions,
      log,
      new JsonSnapshotStateStores(stores.partitionStore),
      new ManualClock(0),
      noSink,
    );
    await processor.load();
    return processor;
  }
  async function logStart(partition: number): Promise<number | undefined> {
    return (await stores.logStore.read(partition, 0, 1))[0]?.lsn;
  }

  test("after SNAPSHOT_EVERY_RECORDS the state is saved and the log below it trimmed in chunks, without holding appends", async () => {
    // The real log, with its trims recorded.
    const trims: number[] = [];
    const real = stores.logStore;
    const log: LogStore = {
      append: (p, first, records) => real.append(p, first, records),
      read: (p, after, limit) => real.read(p, after, limit),
      lastLsn: (p) => real.lastLsn(p),
      trim: (p, upTo) => (trims.push(upTo), real.trim(p, upTo)),
      claim: (p, owner, options) => real.claim(p, owner, options),
      release: (p) => real.release(p),
      fence: (p) => real.fence(p),
      close: () => real.close(),
    };
    const processor = await processorOn(0, 1, log);
    await appendRecords(processor, SNAPSHOT_EVERY_RECORDS);
    expect((await stores.partitionStore.loadSnapshot(0))?.lsn).toBe(SNAPSHOT_EVERY_RECORDS);
    // Appends go on while the trim runs.
    await processor.append(record);
    expect(trims.length).toBeLessThan(SNAPSHOT_EVERY_RECORDS / TRIM_CHUNK_RECORDS);
    while ((await logStart(0)) !== SNAPSHOT_EVERY_RECORDS + 1) await new Promise((r) => setImmediate(r));
    expect(trims).toEqual(
      Array.from(
        { length: SNAPSHOT_EVERY_RECORDS / TRIM_CHUNK_RECORDS },
        (_, i) => (i + 1) * TRIM_CHUNK_RECORDS,
      ),
    );
    expect(await stores.logStore.lastLsn(0)).toBe(SNAPSHOT_EVERY_RECORDS + 1);
    await processor.stop();
  });

  test("a burst larger than one log append is committed as several batches, none refused", async () => {
    const processor = await processorOn(0, 1);
    await appendRecords(processor, 2 * MAX_BATCH_RECORDS + 1);
    expect(await stores.logStore.lastLsn(0)).toBe(2 * MAX_BATCH_RECORDS + 1);
    expect(processor.state.appliedLsn()).toBe(2 * MAX_BATCH_RECORDS + 1);
    await processor.stop();
  });

  test("partitions snapshot at staggered points, so under even load they do not all trim at once", async () => {
    const second = await processorOn(1, 2);
    await appendRecords(second, SNAPSHOT_EVERY_RECORDS / 2);
    expect((await stores.partitionStore.loadSnapshot(1))?.lsn).toBe(SNAPSHOT_EVERY_RECORDS / 2);
    const first = await processorOn(0, 2);
    await appendRecords(first, SNAPSHOT_EVERY_RECORDS / 2);
    expect(await stores.partitionStore.loadSnapshot(0)).toBeUndefined();
    await Promise.all([first.stop(), second.stop()]);
  });

  test("a trim cut short (restart) resumes from where the log really starts", async () => {
    const processor = await processorOn(0, 1);
    await appendRecords(processor, SNAPSHOT_EVERY_RECORDS);
    await processor.stop(); // ends the trim after its first chunk
    expect(await logStart(0)).toBe(TRIM_CHUNK_RECORDS + 1);
    const restarted = await processorOn(0, 1);
    expect(restarted.state.appliedLsn()).toBe(SNAPSHOT_EVERY_RECORDS);
    await appendRecords(restarted, SNAPSHOT_EVERY_RECORDS);
    while ((await logStart(0)) !== undefined) await new Promise((r) => setImmediate(r));
    expect(await stores.logStore.lastLsn(0)).toBe(2 * SNAPSHOT_EVERY_RECORDS);
    await restarted.stop();
  });

  test("refuses to start when the state file is behind where the log was trimmed (state lost)", async () => {
    const states = new SqliteStateStores(dir);
    const processor = new PartitionProcessor(0, 1, stores.logStore, states, new ManualClock(0), noSink);
    await processor.load();
    await appendRecords(processor, SNAPSHOT_EVERY_RECORDS + 1);
    await processor.stop(); // the trim has done at least its first chunk
    expect(await logStart(0)).toBeGreaterThan(1);
    await rm(join(dir, PARTITIONS_DIR_NAME), { recursive: true });

    const restarted = new PartitionProcessor(0, 1, stores.logStore, states, new ManualClock(0), noSink);

    await expect(restarted.load()).rejects.toMatchObject({
      code: "STORE_STATE_BEHIND_LOG",
      message: expect.stringMatching(/partition 0: state is at lsn 0 but the log resumes at/) as unknown,
    });
  });
});
