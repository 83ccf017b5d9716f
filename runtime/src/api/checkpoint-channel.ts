/**
 * The checkpoint channel (SDK → runtime): a request's attempt credential is checked first
 * (security/checkpoint-authentication.ts), then the attempt's new entries are appended as an `entries`
 * record through the partition router, and the answer — sent only once the record is durable —
 * carries the completions the SDK waits on (of the credential's own invocation only), optionally
 * after a long-poll of up to `waitMs`.
 */
import {
  PROTOCOL_VERSION,
  type CheckpointAck,
  type CheckpointRequest,
  type EntryCompletion,
  type InvocationId,
  type JournalEntry,
} from "@capstan/sdk/protocol";
import type { Clock } from "../core/clock";
import type { Invocation } from "../core/state";
import type { Waiters } from "../invocation/waiters";
import { RuntimeError } from "../runtime-error";
import type { AttemptCredentials } from "../security/attempt-credentials";
import { authenticateAttempt, type VerifiedAttempt } from "../security/checkpoint-authentication";
import type { PartitionAccess } from "./partition-access";

export class CheckpointChannel {
  constructor(
    private readonly access: PartitionAccess,
    /** Woken when a completion of a running invocation arrives (effect dispatch). */
    private readonly completionWaiters: Waiters<void>,
    private readonly credentials: AttemptCredentials,
    private readonly clock: Clock,
    /** Told of the entries each accepted checkpoint recorded (the attempt's span events). */
    private readonly recorded: (
      invocationId: string,
      attempt: number,
      entries: readonly JournalEntry[],
    ) => void,
  ) {}

  /** The attempt a credential names, checked against the key and the partition's leadership epoch. */
  authenticate(invocationId: unknown, attemptToken: unknown): VerifiedAttempt {
    const router = this.access.router;
    return authenticateAttempt(
      this.credentials,
      (p) => {
        const health = p < router.partitions ? router.health(p) : undefined;
        return health?.state === "leading" ? health.epoch : undefined;
      },
      invocationId,
      attemptToken,
      this.clock.nowMs(),
    );
  }

  /** `verified` comes from `authenticate`; `signal` aborts a long-poll when the SDK disconnects. */
  async checkpoint(
    request: CheckpointRequest,
    verified: VerifiedAttempt,
    signal?: AbortSignal,
  ): Promise<CheckpointAck> {
    // The credential binds the checkpoint to one invocation: it reads and writes that journal only.
    if (verified.invocationId !== request.invocationId)
      throw new RuntimeError("CHECKPOINT_UNAUTHORIZED", "the credential names another invocation");
    const { p, id } = this.access.locate(verified.invocationId);
    const attempt = verified.attempt;
    const view = this.access.view(p);
    // A superseded credential is refused before it costs a log record; apply still decides for
    // the ones that pass (the attempt may be superseded while the record waits for its batch).
    const current = await view.invocation(id);
    if (current === undefined) throw new RuntimeError("INVOKE_NOT_FOUND", "the invocation no longer exists");
    if (current.status !== "running" || current.attempt !== attempt)
      throw new RuntimeError("INVOKE_STALE_ATTEMPT", `attempt ${attempt} is not the running attempt`);
    const effects = await this.access.append(p, {
      kind: "entries",
      invocationId: id,
      attempt,
      entries: request.entries,
    });
    const rejected = effects.find((e) => e.kind === "entries-rejected");
    if (rejected) throw new RuntimeError(rejected.code, rejected.message);
    this.recorded(id, attempt, request.entries);
    let inv = await view.invocation(id);
    let completions = completionsOf(inv, request.pending);
    if (completions.length === 0 && request.pending.length > 0 && (request.waitMs ?? 0) > 0) {
      await this.waitForCompletion(id, attempt, p, request.waitMs!, signal);
      inv = await view.invocation(id);
      completions = completionsOf(inv, request.pending);
    }
    const recordedOrders = recordedOrdersOf(inv, request.entries);
    return {
      type: "checkpoint-ack",
      protocolVersion: PROTOCOL_VERSION,
      journalLength: inv?.journal.length ?? 0,
      completions,
      ...(recordedOrders.length > 0 && { recordedOrders }),
    };
  }

  /** Resolves when a completion arrives, `waitMs` passes, or the SDK goes away — whichever is first. */
  private async waitForCompletion(
    id: InvocationId,
    attempt: number,
    p: number,
    waitMs: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (signal?.aborted) return;
    // Waiting first, reading second: a completion that lands while the read is answered still wakes us.
    let done = (): void => undefined;
    const woken = new Promise<void>((resolve) => {
      const remove = this.completionWaiters.add(id, () => done());
      const timer = setTimeout(() => done(), waitMs);
      done = () => {
        clearTimeout(timer);
        remove();
        signal?.removeEventListener("abort", done);
        resolve();
      };
      signal?.addEventListener("abort", done, { once: true });
    });
    const inv = await this.access.view(p).invocation(id);
    if (!inv || inv.status !== "running" || inv.attempt !== attempt) done();
    await woken;
  }
}

/** The completions among `pending`, in the order the results were recorded (`completionOrder`). */
function completionsOf(inv: Invocation | undefined, pending: number[]): EntryCompletion[] {
  if (!inv) return [];
  const out: EntryCompletion[] = [];
  for (const index of new Set(pending)) {
    const entry = inv.journal[index];
    if (!entry || !("result" in entry) || entry.result === undefined || entry.kind === "output") continue;
    const c: EntryCompletion = { index, result: entry.result };
    if (entry.kind === "sleep" && entry.wakeUpAtMs !== undefined) c.wakeUpAtMs = entry.wakeUpAtMs;
    if (entry.kind === "call" && entry.invocationId !== undefined) c.invocationId = entry.invocationId;
    if (entry.completionOrder !== undefined) c.completionOrder = entry.completionOrder;
    out.push(c);
  }
  const rank = (c: EntryCompletion): number => c.completionOrder ?? Number.MAX_SAFE_INTEGER;
  return out.sort((a, b) => rank(a) - rank(b) || a.index - b.index);
}

/** The `completionOrder` stamped on the entries of a checkpoint that carried their result (run, getState). */
function recordedOrdersOf(
  inv: Invocation | undefined,
  entries: readonly JournalEntry[],
): Array<{ index: number; completionOrder: number }> {
  const out: Array<{ index: number; completionOrder: number }> = [];
  if (!inv) return out;
  for (const sent of entries) {
    if (!("result" in sent) || sent.result === undefined || sent.kind === "output") continue;
    const entry = inv.journal[sent.index];
    if (entry && entry.kind !== "output" && "completionOrder" in entry && entry.completionOrder !== undefined)
      out.push({ index: sent.index, completionOrder: entry.completionOrder });
  }
  return out;
}
