/** Callbacks waiting on an invocation, woken all at once; an empty entry never stays behind. */
export class Waiters<T> {
  private readonly byId = new Map<string, Set<(value: T) => void>>();

  /** Registers `waiter`; returns the function that unregisters it. */
  add(id: string, waiter: (value: T) => void): () => void {
    let set = this.byId.get(id);
    if (!set) this.byId.set(id, (set = new Set()));
    set.add(waiter);
    return () => {
      set.delete(waiter);
      if (set.size === 0 && this.byId.get(id) === set) this.byId.delete(id);
    };
  }

  wake(id: string, value: T): void {
    const set = this.byId.get(id);
    if (!set) return;
    this.byId.delete(id);
    for (const w of set) w(value);
  }

  get size(): number {
    return this.byId.size;
  }
}
