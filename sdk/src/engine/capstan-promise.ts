import type { Duration } from "../duration";
import { deferred } from "./deferred";

/** How a promise settled. */
export type Settlement<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * A decided outcome and its rank in the invocation's completion order (docs/protocol.md, Determinism):
 * the `completionOrder` of the completion that decided it; `Infinity` for a result the runtime has not
 * numbered yet (or a journal recorded without numbers), `-Infinity` for a promise outside the journal.
 */
export type Decided<T> = Settlement<T> & { rank: number };

/** Runs `f`, capturing its value or what it threw. */
export function settlementOf<T>(f: () => T): Settlement<T> {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

function unwrap<T>(s: Settlement<T>): T {
  if (s.ok) return s.value;
  throw s.error;
}

/**
 * What a CapstanPromise is made of: the native promise that settles when the value is usable, the journal
 * entries it still waits on, its decided outcome (read synchronously, so combinators choose by completion
 * order and never by microtask order), and the scheduler to tell when the handler awaits it.
 */
export interface PromiseSource<T> {
  readonly promise: Promise<T>;
  /** Journal indexes this promise still waits on; empty once settled. */
  pendingIndexes(): number[];
  /** The outcome once the handler may see it (then `promise` settles with it); undefined before. */
  decided(): Decided<T> | undefined;
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
  let outcome: Decided<T> | undefined;
  const promise = handled(Promise.resolve(p));
  promise.then(
    (value) => (outcome = { ok: true, value, rank: -Infinity }),
    (error: unknown) => (outcome = { ok: false, error, rank: -Infinity }),
  );
  return { promise, pendingIndexes: () => [], decided: () => outcome, scheduler: idleScheduler };
}

/** A combinator's choice: its outcome (final once made) and the rank of what decided it (may sharpen). */
interface Decision<R> {
  settlement: Settlement<R>;
  rank: () => number;
}
type Rule<R> = (children: readonly PromiseSource<unknown>[]) => Decision<R> | undefined;

const rankOf = (s: PromiseSource<unknown>): number => s.decided()?.rank ?? Infinity;
const maxRank = (children: readonly PromiseSource<unknown>[]) => (): number =>
  Math.max(...children.map(rankOf));

/**
 * A promise over `children` settled by `rule`, which reads the children's decided outcomes synchronously.
 * Each child settling re-evaluates the rule; the first decision is kept. Pending = union of the
 * children's until decided; the scheduler is the first durable one.
 */
function composite<R>(children: readonly PromiseLike<unknown>[], rule: Rule<R>): CapstanPromise<R> {
  const sources = children.map((c) => sourceOf(c));
  let decision: Decision<R> | undefined;
  const decided = (): Decided<R> | undefined => {
    decision ??= rule(sources);
    return decision && { ...decision.settlement, rank: decision.rank() };
  };
  const result = deferred<R>();
  let settled = false;
  const settle = (): void => {
    const d = settled ? undefined : decided();
    if (d === undefined) return;
    settled = true;
    if (d.ok) result.resolve(d.value);
    else result.reject(d.error);
  };
  for (const s of sources) s.promise.then(settle, settle);
  settle();
  return capstanPromise<R>({
    promise: result.promise,
    pendingIndexes: () =>
      decided() !== undefined ? [] : [...new Set(sources.flatMap((s) => s.pendingIndexes()))],
    decided,
    scheduler: sources.find((s) => s.scheduler !== idleScheduler)?.scheduler ?? idleScheduler,
  });
}

/** The decided children, earliest completion first (array order breaks ties). */
function byRank(
  children: readonly PromiseSource<unknown>[],
): Array<[PromiseSource<unknown>, Decided<unknown>]> {
  const out: Array<[PromiseSource<unknown>, Decided<unknown>, number]> = [];
  children.forEach((s, i) => {
    const d = s.decided();
    if (d !== undefined) out.push([s, d, i]);
  });
  return out.sort((a, b) => a[1].rank - b[1].rank || a[2] - b[2]).map(([s, d]) => [s, d]);
}

const settlementOnly = <T>(d: Decided<T>): Settlement<T> =>
  d.ok ? { ok: true, value: d.value } : { ok: false, error: d.error };

/** Settles like the child whose completion came first. */
const raceRule: Rule<unknown> = (children) => {
  const first = byRank(children)[0];
  if (first === undefined) return undefined;
  const [winner, d] = first;
  return { settlement: settlementOnly(d), rank: () => rankOf(winner) };
};

/** The earliest fulfilment; an AggregateError (in array order) once every child rejected. */
const anyRule: Rule<unknown> = (children) => {
  const fulfilled = byRank(children).find(([, d]) => d.ok);
  if (fulfilled !== undefined) {
    const [winner, d] = fulfilled;
    return { settlement: settlementOnly(d), rank: () => rankOf(winner) };
  }
  const all = children.map((s) => s.decided());
  if (all.some((d) => d === undefined)) return undefined;
  const errors = all.map((d) => (d as { error: unknown }).error);
  return {
    settlement: { ok: false, error: new AggregateError(errors, "All promises were rejected") },
    rank: maxRank(children),
  };
};

/** Every value, in array order; else the earliest rejection. */
const allRule: Rule<unknown[]> = (children) => {
  const rejected = byRank(children).find(([, d]) => !d.ok);
  if (rejected !== undefined) {
    const [first, d] = rejected;
    return { settlement: settlementOnly(d) as Settlement<unknown[]>, rank: () => rankOf(first) };
  }
  const all = children.map((s) => s.decided());
  if (all.some((d) => d === undefined)) return undefined;
  return {
    settlement: { ok: true, value: all.map((d) => (d as { value: unknown }).value) },
    rank: maxRank(children),
  };
};

/** Every outcome, in array order, once all settled. */
const allSettledRule: Rule<PromiseSettledResult<unknown>[]> = (children) => {
  const all = children.map((s) => s.decided());
  if (all.some((d) => d === undefined)) return undefined;
  return {
    settlement: {
      ok: true,
      value: all.map((d): PromiseSettledResult<unknown> =>
        d!.ok ? { status: "fulfilled", value: d!.value } : { status: "rejected", reason: d!.error },
      ),
    },
    rank: maxRank(children),
  };
};

type Values<T extends readonly unknown[]> = { -readonly [P in keyof T]: Awaited<T[P]> };
type Settled<T extends readonly unknown[]> = {
  -readonly [P in keyof T]: PromiseSettledResult<Awaited<T[P]>>;
};

/**
 * Combinators over durable promises, with the semantics of Promise's. Use them instead of `Promise.all`
 * so the SDK knows every entry the handler waits on (and can suspend on all of them at once).
 *
 * Which promise "settles first" is decided by the journal, never by timing or microtask order: among the
 * children the handler may already see, the one whose result the runtime recorded first
 * (`completionOrder`, docs/protocol.md) counts as first, so a replay settles every combinator exactly as
 * the original execution did. A settled combinator ranks by the completion that settled it (`all`,
 * `allSettled`: its last child; `race`, `any`: the winner), so nesting them follows the same rule.
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
    return composite(promises, allRule) as CapstanPromise<Values<T>>;
  },
  /**
   * Settles like the first promise to settle.
   * @example const winner = await CapstanPromise.race([fast, slow]);
   */
  race<const T extends readonly CapstanPromise<unknown>[]>(promises: T): CapstanPromise<Awaited<T[number]>> {
    return composite(promises, raceRule) as CapstanPromise<Awaited<T[number]>>;
  },
  /**
   * Resolves with the first fulfilment; rejects with an AggregateError if all reject.
   * @example const reply = await CapstanPromise.any([replicaA, replicaB]);
   */
  any<const T extends readonly CapstanPromise<unknown>[]>(promises: T): CapstanPromise<Awaited<T[number]>> {
    return composite(promises, anyRule) as CapstanPromise<Awaited<T[number]>>;
  },
  /**
   * Resolves when all settle, with each outcome.
   * @example const outcomes = await CapstanPromise.allSettled(calls);
   */
  allSettled<const T extends readonly CapstanPromise<unknown>[]>(promises: T): CapstanPromise<Settled<T>> {
    return composite(promises, allSettledRule) as CapstanPromise<Settled<T>>;
  },
};

export { sourceOf, unwrap };
