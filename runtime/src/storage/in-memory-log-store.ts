/**
 * A LogStore in this process's memory, for unit tests and the seeded simulation. What it holds
 * durably lives in a `MemoryLogDisk`, which outlives the store: a new store over the same disk is a
 * restart. Like the SQLite store it group-commits: appends queued during one event-loop turn commit
 * together at the next turn, and resolve only then — so a simulated crash (`crash()`) between the two
 * loses exactly the appends nobody was told were durable. Records are kept as JSON text, so a caller
 * that mutates a record after appending it cannot change the log.
 */
import {
  LogConflictError,
  LogFencedError,
  MAX_READ_RECORDS,
  MAX_RECORDS_PER_APPEND,
  type LogFence,
  type LogStore,
  type StoredRecord,
} from "./log-store";
import { StoreClosedError } from "./store-errors";

/** The durable part: what survives a crash of the store's process. */
export class MemoryLogDisk {
  /** Per partition: lsn → record (JSON), in append order. */
  readonly partitions = new Map<number, Map<number, string>>();
  /** Per partition: the highest lsn ever appended (trims keep it). */
  readonly lastLsn = new Map<number, number>();
  /** Per partition: the fence (absent: never claimed). */
  readonly fences = new Map<number, { epoch: number; owner: string | undefined }>();

  fence(partition: number): LogFence {
    return { ...(this.fences.get(partition) ?? { epoch: 0, owner: undefined }) };
  }
}

interface QueuedAppend {
  partition: number;
  firstLsn: number;
  /** The claim of the store that queued it (epoch 0, no owner: none). */
  claim: { epoch: number; owner: string | undefined };
  records: string[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class InMemoryLogStore implements LogStore {
  private queue: QueuedAppend[] = [];
  private commitScheduled = false;
  private state: "open" | "closed" | "crashed" = "open";
  /** The claims this store holds, by partition. */
  private readonly claims = new Map<number, { epoch: number; owner: string }>();

  constructor(readonly disk: MemoryLogDisk = new MemoryLogDisk()) {}

  append(partition: number, firstLsn: number, records: readonly unknown[]): Promise<void> {
    const refused = this.refusal(firstLsn, records.length);
    if (refused !== undefined) return Promise.reject(refused);
    const texts = records.map((r) => JSON.stringify(r));
    return new Promise((resolve, reject) => {
      const claim = this.claims.get(partition) ?? { epoch: 0, owner: undefined };
      this.queue.push({ partition, firstLsn, claim, records: texts, resolve, reject });
      if (this.commitScheduled) return;
      this.commitScheduled = true;
      setImmediate(() => this.commit());
    });
  }

  /** Takes effect at once: a claim is its own durable write, ordered before later appends. */
  async claim(partition: number, owner: string, options: { ifEpoch?: number } = {}): Promise<number> {
    this.assertOpen();
    const fence = this.disk.fence(partition);
    if (options.ifEpoch !== undefined && fence.epoch !== options.ifEpoch) {
      throw new LogFencedError(partition, this.claims.get(partition)?.epoch ?? 0, fence);
    }
    const epoch = fence.epoch + 1;
    this.disk.fences.set(partition, { epoch, owner });
    this.claims.set(partition, { epoch, owner });
    return epoch;
  }

  async release(partition: number): Promise<void> {
    this.assertOpen();
    const claim = this.claims.get(partition);
    if (claim === undefined) return;
    this.claims.delete(partition);
    const fence = this.disk.fence(partition);
    if (fence.epoch === claim.epoch && fence.owner === claim.owner) {
      this.disk.fences.set(partition, { epoch: fence.epoch, owner: undefined });
    }
  }

  async fence(partition: number): Promise<LogFence> {
    this.assertOpen();
    return this.disk.fence(partition);
  }

  async read(partition: number, afterLsn: number, limit: number): Promise<StoredRecord[]> {
    this.assertOpen();
    const log = this.disk.partitions.get(partition);
    const out: StoredRecord[] = [];
    if (log === undefined) return out;
    const last = this.disk.lastLsn.get(partition) ?? 0;
    const max = Math.min(limit, MAX_READ_RECORDS);
    for (let lsn = afterLsn + 1; lsn <= last && out.length < max; lsn++) {
      const text = log.get(lsn);
      if (text !== undefined) out.push({ lsn, record: JSON.parse(text) as unknown });
    }
    return out;
  }

  async lastLsn(partition: number): Promise<number> {
    this.assertOpen();
    return this.disk.lastLsn.get(partition) ?? 0;
  }

  async trim(partition: number, upToLsn: number): Promise<void> {
    this.assertOpen();
    const log = this.disk.partitions.get(partition);
    if (log === undefined) return;
    for (const lsn of log.keys()) if (lsn <= upToLsn) log.delete(lsn);
  }

  /** Commits what is queued (as a clean shutdown does), then refuses every call. */
  async close(): Promise<void> {
    if (this.state !== "open") return;
    this.commit();
    this.state = "closed";
  }

  /**
   * The process died: appends not yet committed are lost (their callers see STORE_CLOSED, as a caller
   * whose process died sees nothing), and this store refuses every further call. The disk keeps what
   * was committed, for the next store over it.
   */
  crash(): void {
    if (this.state === "crashed") return;
    this.state = "crashed";
    const lost = this.queue;
    this.queue = [];
    for (const a of lost) a.reject(new StoreClosedError("InMemoryLogStore"));
  }

  private refusal(firstLsn: number, count: number): Error | undefined {
    if (this.state !== "open") return new StoreClosedError("InMemoryLogStore");
    if (!Number.isInteger(firstLsn) || firstLsn < 1)
      return new RangeError(`firstLsn must be an integer ≥ 1, got ${firstLsn}`);
    if (count > MAX_RECORDS_PER_APPEND)
      return new RangeError(`${count} records exceed ${MAX_RECORDS_PER_APPEND} per append`);
    return undefined;
  }

  private assertOpen(): void {
    if (this.state !== "open") throw new StoreClosedError("InMemoryLogStore");
  }

  /** One group commit: each queued append is checked against the disk as it stands, in order. */
  private commit(): void {
    this.commitScheduled = false;
    if (this.state !== "open") return;
    const batch = this.queue;
    this.queue = [];
    for (const a of batch) {
      const fence = this.disk.fence(a.partition);
      if (fence.epoch !== a.claim.epoch || fence.owner !== a.claim.owner) {
        a.reject(new LogFencedError(a.partition, a.claim.epoch, fence));
        continue;
      }
      const next = (this.disk.lastLsn.get(a.partition) ?? 0) + 1;
      if (a.firstLsn !== next) {
        a.reject(new LogConflictError(a.partition, a.firstLsn, next));
        continue;
      }
      let log = this.disk.partitions.get(a.partition);
      if (log === undefined) this.disk.partitions.set(a.partition, (log = new Map()));
      a.records.forEach((text, i) => log.set(a.firstLsn + i, text));
      this.disk.lastLsn.set(a.partition, a.firstLsn + a.records.length - 1);
      a.resolve();
    }
  }
}
