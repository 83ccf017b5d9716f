import type {
  CheckpointRequest,
  Completion,
  EntryCompletion,
  InvokeRequest,
  InvokeResponse,
  JournalEntry,
  Outcome,
} from "../protocol";
import { PROTOCOL_VERSION, RUNTIME_COMPLETED_KINDS } from "../protocol";
import type { AttemptSupersededError } from "../errors/attempt-superseded-error";
import { isAttemptSupersededError } from "../errors/attempt-superseded-error";
import { failureToError } from "../errors/failure";
import { isNonDeterminismError } from "../errors/non-determinism-error";
import { withCode } from "../errors/sdk-error-codes";
import { TimeoutError } from "../errors/timeout-error";
import type { Duration } from "../duration";
import { durationToMs } from "../duration";
import type { AwaitScheduler, CapstanPromise, PromiseSource, Settlement } from "./capstan-promise";
import { CapstanPromise as Combinators } from "./capstan-promise";
import { capstanPromise, settlementOf, unwrap } from "./capstan-promise";
import { AttemptTracing } from "./attempt-tracing";
import { CheckpointClient } from "./checkpoint-client";
import type { Deferred } from "./deferred";
import { deferred } from "./deferred";
import { JournalCursor } from "./journal-cursor";
import { retryOutcome } from "./outcomes";
import { StateView } from "./state-view";
import type { AwaitedEntry, InlineWaitPolicy } from "./suspension-policy";
import { decideWait } from "./suspension-policy";

export interface EngineConfig {
  request: InvokeRequest;
  /** Suspend after every new completable entry, ignoring the checkpoint channel (tests replay all). */
  alwaysReplay: boolean;
  policy: InlineWaitPolicy;
  remainingTimeMs?: () => number;
  now: () => number;
  fetch?: typeof fetch;
  warn: (message: string) => void;
}

/** Thrown by ctx calls made after the attempt ended (e.g. from a branch still running after suspension). */
export class ContextClosedError extends Error {
  override readonly name = "ContextClosedError";
  constructor() {
    super(withCode("SDK_CONTEXT_CLOSED", "this attempt has ended; the ctx can no longer be used"));
  }
}

/**
 * The replay engine of one attempt. Commands take journal indexes (JournalCursor); completable entries
 * get a deferred completion. The engine learns what the handler awaits (AwaitScheduler) and, once the
 * handler is idle and blocked, either long-polls the checkpoint endpoint or ends the attempt suspended.
 * Results the SDK produces itself (`ctx.run`) reach the handler only once durable (acked), or never in
 * this attempt when there is no checkpoint channel: then the attempt suspends on them and the runtime
 * resumes at once with the result recorded.
 */
export class InvocationEngine implements AwaitScheduler {
  readonly journal: JournalCursor;
  readonly state: StateView;
  /** The attempt's spans (no-ops unless the application registered an OpenTelemetry provider). */
  readonly tracing: AttemptTracing;
  private mode: "checkpoint" | "request-response";
  private readonly checkpoint: CheckpointClient | undefined;
  /** Entries [0, sentUpTo) are durable: recorded in the request or acknowledged. */
  private sentUpTo: number;
  private readonly waiters = new Map<number, Deferred<Completion>>();
  /** SDK-completed entries whose result is delivered once durable. */
  private readonly durabilityWaiters = new Set<number>();
  private readonly runsInFlight = new Map<number, Promise<void>>();
  private readonly awaited = new Set<PromiseSource<unknown>>();
  private readonly firstAwaitedAt = new Map<number, number>();
  private readonly sleepDueAt = new Map<number, number>();
  private busy: Promise<void> | undefined;
  private checkScheduled = false;
  private ended = false;
  private readonly outcome = deferred<Outcome>();
  private readonly startedAtMs: number;

  constructor(private readonly config: EngineConfig) {
    const { request } = config;
    this.journal = new JournalCursor(request.journal);
    this.state = new StateView(request.state);
    this.tracing = new AttemptTracing(request);
    this.sentUpTo = request.journal.length;
    this.startedAtMs = config.now();
    const url = request.checkpoint?.url;
    this.checkpoint = url !== undefined ? new CheckpointClient(url, config.fetch) : undefined;
    this.mode = url !== undefined && !config.alwaysReplay ? "checkpoint" : "request-response";
    for (const e of request.journal)
      if (e.kind === "sleep") this.noteSleep(e.index, e.durationMs, e.wakeUpAtMs);
  }

  get request(): InvokeRequest {
    return this.config.request;
  }
  get alwaysReplay(): boolean {
    return this.config.alwaysReplay;
  }
  get isEnded(): boolean {
    return this.ended;
  }
  /** Settles with the attempt's outcome; rejects with AttemptSupersededError. */
  get finished(): Promise<Outcome> {
    return this.outcome.promise;
  }

  /** Takes the next journal index for a command; divergence ends the attempt (NonDeterminismError). */
  command<E extends JournalEntry>(command: E): { entry: E; recorded: boolean } {
    if (this.ended) throw new ContextClosedError();
    try {
      const taken = this.journal.take(command);
      if (!taken.recorded && taken.entry.kind === "sleep")
        this.noteSleep(taken.entry.index, taken.entry.durationMs);
      return taken;
    } catch (e) {
      if (isNonDeterminismError(e)) this.endWith(retryOutcome(e));
      throw e;
    }
  }

  /** The completion of a completable entry, once the handler may see it. */
  completion(entry: JournalEntry & { result?: Completion }): Promise<Completion> {
    if (entry.result !== undefined && !this.durabilityWaiters.has(entry.index)) {
      return Promise.resolve(entry.result);
    }
    let d = this.waiters.get(entry.index);
    if (d === undefined) {
      d = deferred<Completion>();
      this.waiters.set(entry.index, d);
    }
    return d.promise;
  }

  /** True until the handler may see the entry's result. */
  isPending(index: number): boolean {
    const entry = this.journal.entries[index] as { result?: Completion } | undefined;
    return entry?.result === undefined || this.durabilityWaiters.has(index);
  }

  /**
   * Records a result produced by the SDK (a run result, state read from eager state). With
   * `needsDurability`, the handler sees it only once it is acknowledged by the runtime.
   */
  completeLocally(
    entry: JournalEntry & { result?: Completion },
    result: Completion,
    needsDurability: boolean,
  ): void {
    if (this.ended) return;
    entry.result = result;
    if (!needsDurability) {
      this.deliver(entry.index);
      return;
    }
    this.durabilityWaiters.add(entry.index);
    // A recorded entry that had no result (a run whose body was in flight) is sent again with it.
    if (entry.index < this.sentUpTo) this.sentUpTo = entry.index;
    this.pump();
  }

  /** Tracks a `ctx.run` body: entries after it are held back until it has a result. */
  trackRun(index: number, body: Promise<void>): void {
    const tracked = body.finally(() => {
      this.runsInFlight.delete(index);
      this.pump();
      this.scheduleCheck();
    });
    this.runsInFlight.set(index, tracked);
  }

  /** Resolves once no run body is executing. */
  async runsIdle(): Promise<void> {
    while (this.runsInFlight.size > 0) await Promise.allSettled([...this.runsInFlight.values()]);
  }

  markAwaited(source: PromiseSource<unknown>): void {
    const pending = source.pendingIndexes();
    if (pending.length === 0 || this.ended) return;
    this.awaited.add(source);
    const now = this.config.now();
    for (const i of pending) if (!this.firstAwaitedAt.has(i)) this.firstAwaitedAt.set(i, now);
    this.scheduleCheck();
  }

  /** A race with a durable timer whose firing is a TimeoutError; the journal decides which came first. */
  timeout<T>(source: PromiseSource<T>, duration: Duration): CapstanPromise<T> {
    const ms = durationToMs(duration);
    const timer = this.entrySource(this.sleepEntry(ms, undefined), (c): never => {
      if (c.kind === "failure") throw failureToError(c.failure);
      throw new TimeoutError(`timed out after ${ms} ms`);
    });
    return Combinators.race([capstanPromise(source), capstanPromise(timer)]);
  }

  /** A durable timer (sleep entry), shared by ctx.sleep and orTimeout. */
  sleep(durationMs: number, name: string | undefined): PromiseSource<void> {
    return this.entrySource(this.sleepEntry(durationMs, name), (c) => {
      if (c.kind === "failure") throw failureToError(c.failure);
    });
  }

  private sleepEntry(durationMs: number, name: string | undefined): JournalEntry {
    return this.command({
      index: 0,
      kind: "sleep",
      durationMs,
      ...(name !== undefined && { name }),
    }).entry;
  }

  /**
   * A source over one completable entry, mapping its completion to the handler's value (once: the
   * promise and `decided` share the settlement). Its rank is the entry's `completionOrder`.
   */
  entrySource<T>(entry: JournalEntry, map: (c: Completion) => T): PromiseSource<T> {
    const e = entry as JournalEntry & { result?: Completion; completionOrder?: number };
    let settlement: Settlement<T> | undefined;
    const settle = (c: Completion): Settlement<T> => (settlement ??= settlementOf(() => map(c)));
    return {
      promise: this.completion(entry).then((c) => unwrap(settle(c))),
      pendingIndexes: () => (this.isPending(entry.index) ? [entry.index] : []),
      decided: () =>
        this.isPending(entry.index)
          ? undefined
          : { ...settle(e.result!), rank: e.completionOrder ?? Infinity },
      scheduler: this,
    };
  }

  /** Ends the attempt with `outcome` (first caller wins). */
  endWith(outcome: Outcome): void {
    if (this.ended) return;
    this.ended = true;
    this.outcome.resolve(outcome);
  }

  /** The attempt was superseded: stop without an outcome. */
  abort(error: AttemptSupersededError): void {
    if (this.ended) return;
    this.ended = true;
    this.outcome.reject(error);
  }

  /** The response for `outcome`: entries not yet acknowledged, up to the first run still executing. */
  async response(outcome: Outcome): Promise<InvokeResponse> {
    while (this.busy !== undefined) await this.busy;
    const { invocationId, attemptToken } = this.config.request;
    return {
      type: "response",
      protocolVersion: PROTOCOL_VERSION,
      invocationId,
      attemptToken,
      entries: this.journal.entries.slice(this.sentUpTo, this.readyEnd()),
      outcome,
    };
  }

  private deliver(index: number): void {
    const entry = this.journal.entries[index] as { result?: Completion } | undefined;
    const d = this.waiters.get(index);
    if (d !== undefined && entry?.result !== undefined) {
      this.waiters.delete(index);
      d.resolve(entry.result);
    }
  }

  private applyCompletion(c: EntryCompletion): void {
    const entry: (JournalEntry & { result?: Completion }) | undefined = this.journal.entries[c.index];
    if (entry === undefined || entry.result !== undefined || !RUNTIME_COMPLETED_KINDS.has(entry.kind)) return;
    entry.result = c.result;
    if (c.completionOrder !== undefined)
      (entry as { completionOrder?: number }).completionOrder = c.completionOrder;
    if (entry.kind === "sleep" && c.wakeUpAtMs !== undefined) entry.wakeUpAtMs = c.wakeUpAtMs;
    if (entry.kind === "call" && c.invocationId !== undefined) entry.invocationId = c.invocationId;
    this.deliver(c.index);
  }

  private noteSleep(index: number, durationMs: number, wakeUpAtMs?: number): void {
    const { now, request } = this.config;
    this.sleepDueAt.set(
      index,
      wakeUpAtMs !== undefined ? this.startedAtMs + (wakeUpAtMs - request.nowMs) : now() + durationMs,
    );
  }

  /** End of the sendable prefix: the first run still executing, or the journal's end. */
  private readyEnd(): number {
    let end = this.journal.entries.length;
    for (const i of this.runsInFlight.keys()) if (i >= this.sentUpTo && i < end) end = i;
    return end;
  }

  /** Runtime-completed entries without a result, below `end`. */
  private pendingRuntimeIndexes(end: number): number[] {
    const out: number[] = [];
    for (const e of this.journal.entries.slice(1, end)) {
      if (RUNTIME_COMPLETED_KINDS.has(e.kind) && (e as { result?: Completion }).result === undefined) {
        out.push(e.index);
      }
    }
    return out;
  }

  /** Flushes SDK-completed results that wait for durability, one checkpoint at a time. */
  private pump(): void {
    if (this.busy !== undefined || this.ended || this.mode !== "checkpoint") return;
    const end = this.readyEnd();
    if (![...this.durabilityWaiters].some((i) => i < end)) return;
    this.runCheckpoint(undefined);
  }

  private runCheckpoint(waitMs: number | undefined): void {
    this.busy = this.doCheckpoint(waitMs).finally(() => {
      this.busy = undefined;
      this.pump();
      this.scheduleCheck();
    });
  }

  private async doCheckpoint(waitMs: number | undefined): Promise<void> {
    const end = this.readyEnd();
    const { invocationId, attemptToken } = this.config.request;
    const request: CheckpointRequest = {
      type: "checkpoint",
      protocolVersion: PROTOCOL_VERSION,
      invocationId,
      attemptToken,
      entries: this.journal.entries.slice(this.sentUpTo, end),
      pending: this.pendingRuntimeIndexes(end),
      ...(waitMs !== undefined && { waitMs }),
    };
    try {
      const ack = await this.checkpoint!.send(request);
      if (this.ended) return;
      this.sentUpTo = Math.max(this.sentUpTo, end);
      // Orders first, then results: combinators read them synchronously once anything settles.
      for (const r of ack.recordedOrders ?? []) {
        const entry = this.journal.entries[r.index];
        if (entry !== undefined && "result" in entry && entry.kind !== "output")
          entry.completionOrder ??= r.completionOrder;
      }
      for (const i of [...this.durabilityWaiters]) {
        if (i < this.sentUpTo) {
          this.durabilityWaiters.delete(i);
          this.deliver(i);
        }
      }
      const rank = (c: EntryCompletion): number => c.completionOrder ?? Number.MAX_SAFE_INTEGER;
      for (const c of [...ack.completions].sort((a, b) => rank(a) - rank(b))) this.applyCompletion(c);
    } catch (e) {
      if (isAttemptSupersededError(e)) {
        this.abort(e);
        return;
      }
      // Request/response still works: the results go in the response and the attempt suspends on them.
      this.mode = "request-response";
      this.config.warn(`checkpoint channel unavailable, falling back to request/response: ${String(e)}`);
    }
  }

  private scheduleCheck(): void {
    if (this.checkScheduled || this.ended) return;
    this.checkScheduled = true;
    // After pending microtasks: the handler has run as far as it can.
    setImmediate(() => {
      this.checkScheduled = false;
      this.check();
    });
  }

  /** The handler is idle: if it is blocked on entries, wait inline on the checkpoint or suspend. */
  private check(): void {
    if (this.ended || this.busy !== undefined || this.runsInFlight.size > 0) return;
    const awaiting = this.awaitedIndexes();
    if (awaiting.length === 0) return;
    if (this.mode === "checkpoint") {
      const now = this.config.now();
      const entries: AwaitedEntry[] = awaiting
        .filter((i) => !this.durabilityWaiters.has(i))
        .map((i) => {
          const dueAtMs = this.sleepDueAt.get(i);
          return {
            kind: this.journal.entries[i]!.kind,
            firstAwaitedAtMs: this.firstAwaitedAt.get(i) ?? now,
            ...(dueAtMs !== undefined && { dueAtMs }),
          };
        });
      const decision = decideWait(entries, now, this.config.remainingTimeMs?.(), this.config.policy);
      if (decision.kind === "wait") {
        this.runCheckpoint(decision.waitMs);
        return;
      }
    }
    this.endWith({ kind: "suspended", awaiting });
  }

  private awaitedIndexes(): number[] {
    const out = new Set<number>();
    for (const source of this.awaited) {
      const pending = source.pendingIndexes();
      if (pending.length === 0) this.awaited.delete(source);
      for (const i of pending) out.add(i);
    }
    return [...out].sort((a, b) => a - b);
  }
}
