/**
 * A counting semaphore with a bounded FIFO of waiters and abortable waits: bounds how many attempts
 * one invoker has in flight, so a burst of invocations cannot open thousands of sockets.
 */

/** The waiter queue is full: the caller should back off. */
export class SemaphoreFullError extends Error {
  override readonly name = "SemaphoreFullError";
  constructor(readonly waiting: number) {
    super(`${waiting} callers already wait for a permit`);
  }
}

interface Waiter {
  grant: (release: () => void) => void;
}

/**
 * @example
 * const slots = new Semaphore(256, 10_000);
 * const release = await slots.acquire(signal);
 * try { await send() } finally { release() }
 */
export class Semaphore {
  private available: number;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly limit: number,
    readonly maxWaiting: number,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be ≥ 1, got ${limit}`);
    if (!Number.isSafeInteger(maxWaiting) || maxWaiting < 0) {
      throw new RangeError(`maxWaiting must be ≥ 0, got ${maxWaiting}`);
    }
    this.available = limit;
  }

  get inUse(): number {
    return this.limit - this.available;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a release function once a permit is free. Rejects with the signal's reason if it
   * aborts first, or with SemaphoreFullError when `maxWaiting` callers already wait.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    if (this.available > 0) {
      this.available--;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.maxWaiting)
      return Promise.reject(new SemaphoreFullError(this.waiters.length));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortReason(signal));
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** A release function that only counts once, so a double release cannot inflate the limit. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next !== undefined) next.grant(this.releaser());
      else this.available++;
    };
  }
}

/** The signal's reason, wrapped when someone aborted with a non-Error (duck-typed: errors cross realms). */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (typeof reason === "object" && reason !== null && "message" in reason) return reason as Error;
  return new Error("aborted", { cause: reason });
}
