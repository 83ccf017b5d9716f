/**
 * A cache bounded by the bytes its entries say they take: the state files' caches of decoded rows
 * (sqlite-state-store.ts). Each entry's size is what the caller measures (a JSON length, usually),
 * so the budget bounds what the cache holds, not V8's exact heap.
 *
 * Eviction is CLOCK (second chance), an approximation of least recently used: a read only marks its
 * entry; past the budget, the oldest entries go unless marked, and a marked one is unmarked and moved
 * to the newest end. A read that moved its entry in the Map each time (exact LRU) was most of the
 * caches' cost on the request path (~150 ns a read; bench/README.md, state in memory vs files).
 *
 * @example
 * const cache = new ByteBudgetCache<string, Invocation | null>(32 * 1024, 16 * 1024);
 * cache.set(id, inv, body.length); // null: known to be absent
 * cache.get(id); // undefined: not cached, read the file
 */
export class ByteBudgetCache<K, V> {
  /** Oldest first (Map order); `used`: read since it was last inserted or passed over. */
  private readonly entries = new Map<K, { value: V; bytes: number; used: boolean }>();
  private bytesHeld = 0;

  constructor(
    /** The entries' bytes never exceed this. */
    readonly budgetBytes: number,
    /** An entry larger than this is never kept (and drops what was cached for its key). */
    readonly maxEntryBytes: number,
  ) {}

  /** The cached value (marked as used), or undefined. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value;
  }

  /** The cached value without marking it, or undefined. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /**
   * Caches `value` as `bytes` long, evicting past the budget: a new key as the newest entry, a
   * cached one in place, marked as used.
   */
  set(key: K, value: V, bytes: number): void {
    const old = this.entries.get(key);
    if (bytes > this.maxEntryBytes) {
      if (old !== undefined) {
        this.entries.delete(key);
        this.bytesHeld -= old.bytes;
      }
      return;
    }
    if (old === undefined) {
      this.entries.set(key, { value, bytes, used: false });
    } else {
      old.value = value;
      this.bytesHeld -= old.bytes;
      old.bytes = bytes;
      old.used = true;
    }
    this.bytesHeld += bytes;
    while (this.bytesHeld > this.budgetBytes) this.evictOne();
  }

  /** Drops the oldest entry not used since it was last passed over (the new entry last of all). */
  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (entry.used) {
        entry.used = false;
        this.entries.set(key, entry); // a second chance, at the newest end
      } else {
        this.bytesHeld -= entry.bytes;
        return;
      }
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytesHeld = 0;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytesHeld };
  }
}
