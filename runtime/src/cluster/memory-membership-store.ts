/**
 * The MembershipStore in memory, for unit tests and the simulation: instances sharing one `Map` are
 * nodes sharing one table.
 */
import { checkNodeId, type MembershipStore, type NodeHeartbeat, type NodeInfo } from "./membership-store";

/**
 * @example
 * const table = new Map<string, NodeHeartbeat>();
 * const a = new MemoryMembershipStore(table);
 * await a.heartbeat({ nodeId: "a", address: "http://127.0.0.1:9070", pid: 1 });
 */
export class MemoryMembershipStore implements MembershipStore {
  constructor(readonly table: Map<string, NodeHeartbeat> = new Map()) {}

  async heartbeat(node: NodeInfo): Promise<number> {
    checkNodeId(node.nodeId);
    const counter = (this.table.get(node.nodeId)?.counter ?? 0) + 1;
    this.table.set(node.nodeId, { ...node, counter });
    return counter;
  }

  async nodes(): Promise<NodeHeartbeat[]> {
    return [...this.table.values()].map((n) => ({ ...n })).sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1));
  }

  async leave(nodeId: string): Promise<void> {
    this.table.delete(nodeId);
  }

  async close(): Promise<void> {}
}
