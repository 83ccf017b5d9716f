/**
 * Delivers outbox messages between partitions, in seq order per producer/receiver pair: the receiver
 * appends them with their `origin` and drops any seq at or below the highest it applied from that
 * producer, so a message must never overtake an earlier one that failed. Each pair therefore has a
 * queue: everything queued is appended in one go (one receiver batch), successes form a prefix
 * (appends are queued synchronously, so a rejection — overload or a failed commit — hits a suffix),
 * the prefix is confirmed to the producer with `outbox-delivered`, and the rest is retried with backoff
 * before anything newer is sent. Undelivered messages stay in the producer's outbox, which `recover`
 * re-sends after a restart.
 */
import type { Log } from "../log";
import type { Failure } from "@capstan/sdk/protocol";
import type { InvocationRequest, NewInvocation, OutboxMessage } from "../core/state";
import { appendInternal } from "./internal-append";
import type { RecordInput } from "./partition-processor";
import type { PartitionRouter } from "./partition-router";

/** Backoff of a pair whose delivery failed. */
export const DELIVERY_RETRY_INITIAL_MS = 50;
export const DELIVERY_RETRY_MAX_MS = 5_000;

interface Pending {
  seq: number;
  message: OutboxMessage;
}

interface Pair {
  queue: Pending[];
  /** A batch is being appended, or a retry is scheduled. */
  busy: boolean;
  retryMs: number;
  /** The producer moved to another node: this pair delivers nothing more here. */
  dropped?: true;
}

export class OutboxDelivery {
  private readonly pairs = new Map<string, Pair>();
  /** `from:to` → highest seq the receiver applied, not yet confirmed to the producer. */
  private readonly pendingAcks = new Map<string, number>();
  private ackScheduled = false;
  private stopped = false;

  constructor(
    private readonly router: PartitionRouter,
    /** Resolves a handler's call/send against the registry. */
    private readonly resolveChild: (
      request: InvocationRequest,
    ) => Promise<NewInvocation | { failure: Failure }>,
    private readonly log: Log,
  ) {}

  deliver(from: number, to: number, seq: number, message: OutboxMessage): void {
    if (to < 0 || to >= this.router.partitions) {
      this.log(`outbox message ${from}→${to} #${seq} names no partition; dropped`, "error");
      return;
    }
    const key = `${from}:${to}`;
    let pair = this.pairs.get(key);
    if (!pair) this.pairs.set(key, (pair = { queue: [], busy: false, retryMs: DELIVERY_RETRY_INITIAL_MS }));
    // A re-send after `recover` may repeat queued seqs: keep the queue strictly increasing.
    const last = pair.queue.at(-1);
    if (last !== undefined && seq <= last.seq) return;
    pair.queue.push({ seq, message });
    if (!pair.busy) void this.drain(from, to, pair);
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Stops delivering what `producer` sent (it moved to another node, whose `recover` re-sends its
   * outbox; the receivers drop what they already have).
   */
  dropPartition(producer: number): void {
    const prefix = `${producer}:`;
    for (const [key, pair] of this.pairs) {
      if (!key.startsWith(prefix)) continue;
      pair.dropped = true;
      pair.queue.length = 0;
      this.pairs.delete(key);
    }
  }

  private async drain(from: number, to: number, pair: Pair): Promise<void> {
    pair.busy = true;
    while (pair.queue.length > 0 && !this.stopped && pair.dropped === undefined) {
      const batch = pair.queue.splice(0, pair.queue.length);
      // Resolved first, appended in seq order: the receiver drops a seq at or below the last it took.
      const records = await Promise.all(batch.map(({ message }) => this.toRecord(message)));
      const results = await Promise.allSettled(
        batch.map(({ seq }, i) =>
          this.router.append(to, { ...records[i]!, origin: { partition: from, seq } }, "internal"),
        ),
      );
      const failed = results.findIndex((r) => r.status === "rejected");
      const delivered = failed === -1 ? batch.length : failed;
      if (delivered > 0) this.confirm(from, to, batch[delivered - 1]!.seq);
      if (failed === -1) {
        pair.retryMs = DELIVERY_RETRY_INITIAL_MS;
        continue;
      }
      if (pair.dropped !== undefined) break;
      pair.queue.unshift(...batch.slice(failed));
      const reason = (results[failed] as PromiseRejectedResult).reason as unknown;
      this.log(
        `delivery ${from}→${to} #${batch[failed]!.seq} failed (${String(reason)}); retrying in ${pair.retryMs} ms`,
        "warn",
      );
      const wait = pair.retryMs;
      pair.retryMs = Math.min(pair.retryMs * 2, DELIVERY_RETRY_MAX_MS);
      setTimeout(() => void this.drain(from, to, pair), wait).unref();
      return; // still busy until the retry runs
    }
    pair.busy = false;
  }

  private async toRecord(message: OutboxMessage): Promise<RecordInput> {
    if (message.kind !== "invoke-request") return message;
    const resolved = await this.resolveChild(message.request);
    return "failure" in resolved
      ? { kind: "invoke-refused", request: message.request, failure: resolved.failure }
      : { kind: "invoke", invocation: resolved };
  }

  private confirm(from: number, to: number, seq: number): void {
    const k = `${from}:${to}`;
    this.pendingAcks.set(k, Math.max(seq, this.pendingAcks.get(k) ?? 0));
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      const acks = [...this.pendingAcks];
      this.pendingAcks.clear();
      for (const [key, upToSeq] of acks) {
        const [producer, receiver] = key.split(":").map(Number) as [number, number];
        // A lost confirmation only delays trimming the outbox: the receiver drops the re-sent duplicates.
        void appendInternal(
          this.router,
          producer,
          { kind: "outbox-delivered", toPartition: receiver, upToSeq },
          this.log,
        );
      }
    });
  }
}
