/**
 * Port: node membership by heartbeats. Each node bumps a counter of its own; observers judge a node
 * dead when its counter has not moved for the lease duration on their own clock (liveness.ts), so no
 * two clocks are ever compared. Implementations: DynamoDbMembershipStore and MemoryMembershipStore.
 */

/** What a node tells the others about itself. */
export interface NodeInfo {
  nodeId: string;
  /** Where other nodes reach it (node-to-node forwarding). */
  address: string;
  pid: number;
}

export interface NodeHeartbeat extends NodeInfo {
  /** Moves on every heartbeat; its value means nothing across nodes. */
  counter: number;
}

export interface MembershipStore {
  /** Bumps the node's counter (creating its entry) and resolves with the new value. */
  heartbeat(node: NodeInfo): Promise<number>;
  /** Every node's last heartbeat as stored, live or not. */
  nodes(): Promise<NodeHeartbeat[]>;
  /** Removes the node's entry: a graceful leave, seen by the others at their next read. */
  leave(nodeId: string): Promise<void>;
  close(): Promise<void>;
}

/** Node ids are short printable names: they appear in fences, logs and `GET /cluster`. */
export const MAX_NODE_ID_LENGTH = 128;

export function checkNodeId(nodeId: string): void {
  if (nodeId.length === 0 || nodeId.length > MAX_NODE_ID_LENGTH || !/^[\x21-\x7e]+$/.test(nodeId)) {
    throw new RangeError(
      `node id must be 1-${MAX_NODE_ID_LENGTH} printable ASCII characters, got ${JSON.stringify(nodeId)}`,
    );
  }
}
