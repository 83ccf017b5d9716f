/**
 * Which nodes are alive, as one observer sees them: a node is alive while its heartbeat counter has
 * changed within the lease duration, timed on the observer's own monotonic clock (the rule of the
 * Kinesis Client Library and the DynamoDB Lock Client). Clocks of different nodes are never compared,
 * so clock skew cannot kill a node or keep a dead one alive; only the lease duration must exceed the
 * longest pause between two heartbeats of a live node.
 */
import type { Clock } from "../core/clock";
import type { NodeHeartbeat } from "./membership-store";

/** A clock for measuring durations: never jumps with NTP or the wall clock. */
export const monotonicClock: Clock = { nowMs: () => performance.now() };

/**
 * @example
 * const liveness = new LivenessTracker(10_000, monotonicClock);
 * liveness.observe(await membership.nodes());
 * const live = liveness.live(); // node ids whose counter moved in the last 10 s on this clock
 */
export class LivenessTracker {
  private readonly seen = new Map<string, { counter: number; changedAtMs: number }>();

  constructor(
    readonly leaseDurationMs: number,
    private readonly clock: Clock,
  ) {}

  /** Records a read of every node's heartbeat; nodes absent from it (they left) are forgotten. */
  observe(heartbeats: readonly NodeHeartbeat[]): void {
    const now = this.clock.nowMs();
    const present = new Set<string>();
    for (const { nodeId, counter } of heartbeats) {
      present.add(nodeId);
      const previous = this.seen.get(nodeId);
      // First sight counts as a change: a node is given a full lease before it can be judged dead.
      if (previous === undefined || previous.counter !== counter)
        this.seen.set(nodeId, { counter, changedAtMs: now });
    }
    for (const nodeId of this.seen.keys()) if (!present.has(nodeId)) this.seen.delete(nodeId);
  }

  /** How long ago (on this observer's clock) the node's heartbeat last moved; undefined if unseen. */
  sinceChangeMs(nodeId: string): number | undefined {
    const seen = this.seen.get(nodeId);
    return seen === undefined ? undefined : this.clock.nowMs() - seen.changedAtMs;
  }

  /** The nodes alive now, sorted. */
  live(): string[] {
    const now = this.clock.nowMs();
    return [...this.seen]
      .filter(([, s]) => now - s.changedAtMs < this.leaseDurationMs)
      .map(([nodeId]) => nodeId)
      .sort();
  }
}
