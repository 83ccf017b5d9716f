/**
 * Reads through a write set: what a reader answers once writes not yet in its store are laid over
 * it. StateTx uses them for the batch being applied; the group-commit store
 * (storage/group-commit-state-store.ts) for the batches it has not yet written to its file.
 */
import type { InvocationId } from "@capstan/sdk/protocol";
import type { Invocation, OutboxEntry, Timer } from "./state";
import type { WriteSet } from "./write-set";

/** The written value (null: deleted), else the store's. */
export function readThrough<K, V>(
  writes: ReadonlyMap<K, V | null>,
  key: K,
  load: (key: K) => V | undefined,
): V | undefined {
  const written = writes.get(key);
  if (written !== undefined) return written ?? undefined;
  return load(key);
}

/** `base` (in seq order) with the written outbox entries that `matches` laid over it, in seq order. */
export function outboxThrough(
  base: OutboxEntry[],
  writes: WriteSet["outbox"],
  matches: (entry: OutboxEntry) => boolean,
): OutboxEntry[] {
  if (writes.size === 0) return base;
  const out = base.filter((entry) => !writes.has(entry.seq));
  for (const entry of writes.values()) {
    if (entry !== null && matches(entry)) out.push(entry);
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** Every timer of `base` with the written ones laid over it, in id order. */
export function timersThrough(base: Timer[], writes: WriteSet["timers"]): Timer[] {
  const timers = new Map<string, Timer>();
  for (const timer of base) timers.set(timer.id, timer);
  for (const [id, timer] of writes) {
    if (timer === null) timers.delete(id);
    else timers.set(id, timer);
  }
  return [...timers.values()].sort((a, b) => compareIds(a.id, b.id));
}

/** The completed promises' keys starting with `prefix`, written ones laid over `base`, sorted. */
export function promiseKeysThrough(base: string[], writes: WriteSet["promises"], prefix: string): string[] {
  const keys = new Set(base);
  for (const [key, value] of writes) {
    if (!key.startsWith(prefix)) continue;
    if (value === null) keys.delete(key);
    else keys.add(key);
  }
  return [...keys].sort();
}

/** The running invocations, written ones laid over `base`, in id order. */
export function runningThrough(base: Invocation[], writes: WriteSet["invocations"]): Invocation[] {
  const running = new Map<InvocationId, Invocation>();
  for (const inv of base) if (!writes.has(inv.id)) running.set(inv.id, inv);
  for (const inv of writes.values()) {
    if (inv !== null && inv.status === "running") running.set(inv.id, inv);
  }
  return [...running.values()].sort((a, b) => compareIds(a.id, b.id));
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
