/**
 * Delivers outbox messages between partitions: the receiver appends them with their `origin` (and
 * drops duplicates by it); the producer then drops them from its outbox through an `outbox-delivered`
 * record, coalesced per producer/receiver pair. A failed delivery stays in the outbox and is re-sent by
 * the `recover` record on the next start.
 */
import type { Failure } from "@capstan/sdk/protocol";
import type { InvocationRequest, NewInvocation, OutboxMessage } from "../core/state";
import type { PartitionProcessor, RecordInput } from "./partition-processor";

export class OutboxDelivery {
  /** `from:to` → highest seq the receiver applied, not yet confirmed to the producer. */
  private readonly pendingAcks = new Map<string, number>();
  private ackScheduled = false;

  constructor(
    private readonly processors: PartitionProcessor[],
    /** Resolves a handler's call/send against the registry. */
    private readonly resolveChild: (request: InvocationRequest) => NewInvocation | { failure: Failure },
    private readonly log: (msg: string) => void,
  ) {}

  async deliver(from: number, to: number, seq: number, message: OutboxMessage): Promise<void> {
    let record: RecordInput;
    if (message.kind === "invoke-request") {
      const resolved = this.resolveChild(message.request);
      record =
        "failure" in resolved
          ? { kind: "invoke-refused", request: message.request, failure: resolved.failure }
          : { kind: "invoke", invocation: resolved };
    } else record = message;
    try {
      // Appends to one partition are queued synchronously in call order, so the receiver sees each
      // producer's messages in seq order (it drops any seq at or below the highest it applied).
      await this.processors[to]!.append({ ...record, origin: { partition: from, seq } });
      this.confirm(from, to, seq);
    } catch (e) {
      this.log(`delivery ${from}→${to} #${seq} failed, re-sent on restart: ${String(e)}`);
    }
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
        this.processors[producer]!.append({ kind: "outbox-delivered", toPartition: receiver, upToSeq }).catch(
          (e: unknown) => this.log(`outbox confirmation ${producer}→${receiver} failed: ${String(e)}`),
        );
      }
    });
  }
}
