/**
 * `capstan dev --nodes N`: how many runtime nodes, and where each listens. Node i listens on each
 * listener's base port + i. The checkpoint and peer listeners' defaults (9071, 9072) sit right after
 * the admin port, so N nodes' ranges would overlap: with more than one node, a checkpoint or peer
 * port left at its default moves to DEV_CLUSTER_CHECKPOINT_PORT / DEV_CLUSTER_PEER_PORT. Every port
 * of every node, and the local Lambda endpoint's, must be distinct, or nothing starts.
 */
import { DEFAULT_CHECKPOINT_PORT, DEFAULT_PEER_PORT, type RuntimeConfig } from "../config/config";

/** Most nodes `capstan dev --nodes` runs: each is a Node.js process with its own listeners. */
export const MAX_DEV_NODES = 9;
/** With several nodes: node i's checkpoint listener, when CAPSTAN_CHECKPOINT_PORT is left at its default. */
export const DEV_CLUSTER_CHECKPOINT_PORT = 9171;
/** With several nodes: node i's peer listener, when CAPSTAN_PEER_PORT is left at its default. */
export const DEV_CLUSTER_PEER_PORT = 9271;

export class DevNodesError extends Error {
  override readonly name = "DevNodesError";
}

/**
 * The `--nodes` value: absent = 1 (today's single process).
 *
 * @example
 * devNodeCount(undefined); // 1
 * devNodeCount("3");       // 3
 * devNodeCount("0");       // throws DevNodesError
 */
export function devNodeCount(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n < 1 || n > MAX_DEV_NODES) {
    throw new DevNodesError(`--nodes ${raw} must be an integer from 1 to ${MAX_DEV_NODES}`);
  }
  return n;
}

export interface DevNodePorts {
  /** `node-0`, `node-1`, …: its CAPSTAN_NODE_ID. */
  nodeId: string;
  ingress: number;
  admin: number;
  checkpoint: number;
  peer: number;
}

/** Each node's ports; throws DevNodesError naming the settings when two of them would be the same. */
export function devNodePorts(config: RuntimeConfig, nodes: number): DevNodePorts[] {
  const several = nodes > 1;
  const checkpointBase =
    several && config.checkpointPort === DEFAULT_CHECKPOINT_PORT
      ? DEV_CLUSTER_CHECKPOINT_PORT
      : config.checkpointPort;
  const peerBase = several && config.peerPort === DEFAULT_PEER_PORT ? DEV_CLUSTER_PEER_PORT : config.peerPort;
  const plan = Array.from({ length: nodes }, (_, i) => ({
    nodeId: `node-${i}`,
    ingress: config.ingressPort + i,
    admin: config.adminPort + i,
    checkpoint: checkpointBase + i,
    peer: peerBase + i,
  }));
  const owners = new Map<number, string>([[config.lambdaPort, "CAPSTAN_LAMBDA_PORT"]]);
  const settings = {
    ingress: "CAPSTAN_INGRESS_PORT",
    admin: "CAPSTAN_ADMIN_PORT",
    checkpoint: "CAPSTAN_CHECKPOINT_PORT",
    peer: "CAPSTAN_PEER_PORT",
  } as const;
  for (const node of plan) {
    for (const listener of ["ingress", "admin", "checkpoint", "peer"] as const) {
      const port = node[listener];
      const owner = `${settings[listener]} (+${node.nodeId.slice("node-".length)})`;
      const taken = owners.get(port);
      if (taken !== undefined) {
        throw new DevNodesError(
          `port ${port} would serve both ${taken} and ${owner}: node i listens on each base port + i, ` +
            `so with --nodes ${nodes} the bases must be at least ${nodes} apart`,
        );
      }
      if (port > 65535) throw new DevNodesError(`${owner} would be port ${port}, above 65535`);
      owners.set(port, owner);
    }
  }
  return plan;
}
