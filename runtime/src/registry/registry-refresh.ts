/**
 * When a node reloads its copy of the deployment registry from the store, which every node of a
 * cluster shares. Registrations happen on any node, so a node's copy goes stale; it is reloaded:
 * - on use, once older than REGISTRY_MAX_STALENESS_MS (in the background for synchronous lookups,
 *   awaited for the asynchronous ones), so no timer outlives the runtime;
 * - after a miss, before the caller is told "unknown": misses share one reload queued behind the
 *   one running, so however many arrive, at most one reload runs and one waits — a flood of
 *   requests for an unknown service costs the store at most one read at a time per node;
 * - inside `exclusive`, where registrations and removals run one at a time against a fresh copy.
 */

/** A node's copy of the registry is reloaded on use once it is older than this. */
export const REGISTRY_MAX_STALENESS_MS = 2_000;

export class RegistryRefresh {
  /** The end of the queue that reloads and registry changes run in, one at a time. */
  private tail: Promise<unknown> = Promise.resolve();
  /** A reload queued but not started yet: whoever needs a reload from now on joins it. */
  private queued: Promise<void> | undefined;
  /** When the last successful reload started: its copy is at least that fresh. */
  private loadedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly reload: () => Promise<void>,
    private readonly nowMs: () => number,
  ) {}

  /** Runs `fn` after everything queued before it, alone. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Reloads inside `exclusive` (a registration's own fresh read), stamping the copy's age. */
  async reloadNow(): Promise<void> {
    const startedMs = this.nowMs();
    await this.reload();
    this.loadedAtMs = startedMs;
  }

  /** A reload that starts after this call; rejects with the store's error. */
  refresh(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    const next = this.exclusive(async () => {
      this.queued = undefined;
      await this.reloadNow();
    });
    this.queued = next;
    return next;
  }

  /** Reloads in the background when the copy is older than REGISTRY_MAX_STALENESS_MS. */
  refreshIfStale(): void {
    void this.freshCopy();
  }

  /**
   * Resolves once the copy is no older than REGISTRY_MAX_STALENESS_MS, reloading if needed. A failed
   * reload keeps the copy (the next use tries again).
   */
  freshCopy(): Promise<void> {
    if (this.nowMs() - this.loadedAtMs <= REGISTRY_MAX_STALENESS_MS) return Promise.resolve();
    return this.refresh().catch(() => undefined);
  }

  /** After a lookup missed: a reload that starts after the miss; a failure keeps the copy. */
  refreshAfterMiss(): Promise<void> {
    return this.refresh().catch(() => undefined);
  }
}
