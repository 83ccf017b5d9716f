/**
 * Partition assignment by rendezvous (highest random weight) hashing: each partition goes to the live
 * node with the highest hash of (node, partition). Every node computes the same assignment from the
 * same set of live nodes, with no coordinator, and when a node joins or leaves only the partitions it
 * gains or held move.
 */
import { createHash } from "node:crypto";

function weight(nodeId: string, partition: number): number {
  return createHash("sha256").update(`${nodeId}#${partition}`).digest().readUIntBE(0, 6);
}

/** The node that should lead `partition`, or undefined when no node is live. */
export function ownerOf(partition: number, liveNodeIds: readonly string[]): string | undefined {
  let best: { nodeId: string; weight: number } | undefined;
  for (const nodeId of liveNodeIds) {
    const w = weight(nodeId, partition);
    if (best === undefined || w > best.weight || (w === best.weight && nodeId < best.nodeId))
      best = { nodeId, weight: w };
  }
  return best?.nodeId;
}

/**
 * @example
 * assignPartitions(4, ["a", "b"]); // e.g. ["b", "a", "a", "b"]: partition i → its leader
 */
export function assignPartitions(
  partitions: number,
  liveNodeIds: readonly string[],
): Array<string | undefined> {
  return Array.from({ length: partitions }, (_, p) => ownerOf(p, liveNodeIds));
}
