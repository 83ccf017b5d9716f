import type { Duration } from "../duration";

/**
 * What a CapstanPromise is made of: the native promise that settles when the value is usable, the journal
 * entries it still waits on, and the scheduler to tell when the handler awaits it.
 */
export interface PromiseSource<T> {
  readonly promise: Promise<T>;
  /** Journal indexes this promise still waits on; empty once settled. */
  pendingIndexes(): number[];
  readonly scheduler: AwaitScheduler;
}

/** The engine side of awaiting: learns which promises the handler is blocked on. */
export interface AwaitScheduler {
  markAwaited(source: PromiseSource<unknown>): void;
  timeout<T>(source: PromiseSource<T>, duration: Duration): CapstanPromise<T>;
}

/**
 * A durable promise returned by every `ctx` operation that has a result. Awaiting it tells the SDK the
 * handler is blocked on the journal entries behind it, which is when the SDK waits on the runtime or
 * suspends. It is a real Promise type, so the linter flags a forgotten await.
 *
 * @example
 * const a = ctx.serviceClient(inventory).reserve(items);   // call starts now
 * const b = ctx.serviceClient(payments).authorize(card);
 * const [reserved, authorized] = await CapstanPromise.all([a, b]);
 */
export interface CapstanPromise<T> extends Promise<T> {
  /**
   * Rejects with TimeoutError if not settled within `duration` (a durable sleep entry races it).
   *
   * @example
   * const approved = await ctx.awakeable<boolean>().promise.orTimeout({ hours: 24 });
   */
  orTimeout(duration: Duration): CapstanPromise<T>;
}

const SOURCE = Symbol("capstan.promiseSource");

/** Ignores a rejection here; the handler sees it through `then`. Avoids unhandled-rejection crashes. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

class CapstanPromiseImpl<T> implements CapstanPromise<T> {
  readonly [Symbol.toStringTag] = "CapstanPromise";
  readonly [SOURCE]: PromiseSource<T>;
  constructor(source: PromiseSource<T>) {
    this[SOURCE] = source;
    source.promise.catch(() => undefined);
  }
  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this[SOURCE].scheduler.markAwaited(this[SOURCE]);
    return this[SOURCE].promise.then(onFulfilled, onRejected);
  }
  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onRejected);
  }
  finally(onFinally?: (() => void) | null): Promise<T> {
    this[SOURCE].scheduler.markAwaited(this[SOURCE]);
    return this[SOURCE].promise.finally(onFinally);
  }
  orTimeout(duration: Duration): CapstanPromise<T> {
    return this[SOURCE].scheduler.timeout(this[SOURCE], duration);
  }
}

/** Wraps a source as the user-facing promise. */
export function capstanPromise<T>(source: PromiseSource<T>): CapstanPromise<T> {
  return new CapstanPromiseImpl(source);
}

/** A settled promise with no entries behind it (e.g. `all([])`). */
const idleScheduler: AwaitScheduler = {
  markAwaited: () => undefined,
  timeout: (source) => capstanPromise(source),
};

function sourceOf<T>(p: PromiseLike<T>): PromiseSource<T> {
  if (p instanceof CapstanPromiseImpl) return (p as CapstanPromiseImpl<T>)[SOURCE];
  // A foreign promise: no journal entries; the handler awaiting it is not blocked on the runtime.
  return { promise: handled(Promise.resolve(p)), pendingIndexes: () => [], scheduler: idleScheduler };
}

/** Combines sources: pending = union of the children's; the scheduler is the first durable one. */
export function combine<R>(
  children: readonly PromiseLike<unknown>[],
  promise: Promise<R>,
): CapstanPromise<R> {
  const sources = children.map((c) => sourceOf(c));
  let settled = false;
  void handled(promise).then(
    () => (settled = true),
    () => (settled = true),
  );
  return capstanPromise<R>({
    promise,
    pendingIndexes: () => (settled ? [] : [...new Set(sources.flatMap((s) => s.pendingIndexes()))]),
    scheduler: sources.find((s) => s.scheduler !== idleScheduler)?.scheduler ?? idleScheduler,
  });
}

type Values<T extends readonly unknown[]> = { -readonly [P in keyof T]: Awaited<T[P]> };
type Settled<T extends readonly unknown[]> = {
  -readonly [P in keyof T]: PromiseSettledResult<Awaited<T[P]>>;
};

/**
 * Combinators over durable promises, with the semantics of Promise's. Use them instead of `Promise.all`
 * so the SDK knows every entry the handler waits on (and can suspend on all of them at once).
 *
 * @example
 * const results = await CapstanPromise.all(ids.map((id) => ctx.serviceClient(worker).process(id)));
 * const first = await CapstanPromise.race([call, ctx.sleep(1000)]); // undefined if the timer won
 */
export const CapstanPromise = {
  /**
   * Resolves when all resolve; rejects with the first rejection.
   * @example const [a, b] = await CapstanPromise.all([callA, callB]);
   */
  all<const T extends readonly CapstanPromise<unknown>[]>(promises: T): CapstanPromise<Values<T>> {
    return combine(promises, Promise.all(promises.map((p) => sourceOf(p).promise)) as Promise<Values<T>>);
  },
  /**
   * Settles like the first promise to settle.
   * @example const winner = await CapstanPromise.race([fast, slow]);
   */
  race<const T extends readonly CapstanPromise<unknown>[]>(promises: T): CapstanPromise<Awaited<T[number]>> {
    return combine(
      promises,
      Promise.race(promises.map((p) => sourceOf(p).promise)) as Promise<Awaited<T[number]>>,
    );
  },
  /**
   * Resolves with the first fulfilment; rejects with an AggregateError if all reject.
   * @example const reply = await CapstanPromise.any([replicaA, replicaB]);
   */
  any<const T extends readonly CapstanPromise<unknown>[]>(promises: T): CapstanPromise<Awaited<T[number]>> {
    return combine(
      promises,
      Promise.any(promises.map((p) => sourceOf(p).promise)) as Promise<Awaited<T[number]>>,
    );
  },
  /**
   * Resolves when all settle, with each outcome.
   * @example const outcomes = await CapstanPromise.allSettled(calls);
   */
  allSettled<const T extends readonly CapstanPromise<unknown>[]>(promises: T): CapstanPromise<Settled<T>> {
    return combine(
      promises,
      Promise.allSettled(promises.map((p) => sourceOf(p).promise)) as Promise<Settled<T>>,
    );
  },
};

export { sourceOf };
