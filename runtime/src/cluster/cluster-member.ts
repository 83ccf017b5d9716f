/**
 * A runtime node's part in a cluster (CAPSTAN_STORE=dynamodb): its LeaseCoordinator (heartbeats,
 * liveness, assignment, takeover and hand-over through the log's fences) and what the rest of the
 * node asks of the cluster — who leads a partition now and where to reach it (forwarding), whether
 * every partition has a live leader (readiness), and the `GET /cluster` answer.
 *
 * What it knows is what the coordinator saw at its last tick (every lease / 3): a leader it names may
 * have moved since; the node it forwards to then answers RUNTIME_PARTITION_UNAVAILABLE and the caller
 * retries, by which time the next tick has seen the move.
 */
import type { Clock } from "../core/clock";
import type { Log } from "../log";
import type { PartitionHealth } from "../partition/partition-router";
import type { ClusterInfo, ClusterPartitionInfo } from "../server/runtime-api";
import type { LogStore } from "../storage/log-store";
import { LeaseCoordinator, type ChangeNotice, type PartitionLeader } from "./lease-coordinator";
import { monotonicClock } from "./liveness";
import type { MembershipStore, NodeInfo } from "./membership-store";

export interface ClusterMemberOptions {
  node: NodeInfo;
  partitions: number;
  leaseDurationMs: number;
  membership: MembershipStore;
  fences: Pick<LogStore, "claim" | "release" | "fence">;
  leader: PartitionLeader;
  log: Log;
  /** Liveness is timed on it; default: the monotonic clock. */
  clock?: Clock;
  /** Tells the other live nodes (their peer addresses) that this node changed the cluster. */
  announce?: (addresses: string[], notice: ChangeNotice) => Promise<void>;
}

/** Where a partition's leader is reached. */
export interface PartitionLeaderAddress {
  nodeId: string;
  /** The base URL of its peer listener. */
  address: string;
}

export class ClusterMember {
  readonly coordinator: LeaseCoordinator;

  constructor(private readonly options: ClusterMemberOptions) {
    this.coordinator = new LeaseCoordinator({
      node: options.node,
      partitions: options.partitions,
      leaseDurationMs: options.leaseDurationMs,
      membership: options.membership,
      fences: options.fences,
      clock: options.clock ?? monotonicClock,
      leader: options.leader,
      ...(options.announce !== undefined && {
        announce: (peers, notice) =>
          options.announce!(
            peers.map((p) => p.address).filter((address) => address !== ""),
            notice,
          ),
      }),
    });
  }

  get nodeId(): string {
    return this.options.node.nodeId;
  }

  /**
   * Joins: ticks every lease / 3 from now on (heartbeats keep going while a tick takes partitions
   * over), and resolves once the first tick — heartbeat, takeovers due — is done. A takeover of that
   * tick that fails (another node claimed the partition while this one loaded it) is the cluster
   * moving, not a failed start: the claim is given up and the next ticks go on. Only a tick that
   * could not see the cluster at all (membership or fences unreadable) fails the join.
   */
  async join(): Promise<void> {
    const warn = (e: unknown): void => this.options.log(`cluster tick failed: ${String(e)}`, "warn");
    this.coordinator.start(warn);
    try {
      await this.coordinator.runTick();
    } catch (e) {
      if (this.joined) return warn(e);
      this.coordinator.stop();
      throw e;
    }
  }

  /** Another node announced a change: look at the cluster now rather than at the next tick. */
  tickSoon(notice?: ChangeNotice): void {
    this.coordinator.tickSoon(notice);
  }

  /** Joined: at least one tick completed. */
  get joined(): boolean {
    return this.coordinator.observed() !== undefined;
  }

  /**
   * The partition's leader as last seen, when it is a live node other than this one with an
   * address; undefined when nobody live leads it (it is moving, or its leader died).
   */
  leaderOf(partition: number): PartitionLeaderAddress | undefined {
    const seen = this.coordinator.observed();
    const owner = seen?.fences[partition]?.owner;
    if (seen === undefined || owner === undefined || owner === this.nodeId) return undefined;
    if (!seen.live.includes(owner)) return undefined;
    const node = seen.nodes.find((n) => n.nodeId === owner);
    if (node === undefined || node.address === "") return undefined;
    return { nodeId: owner, address: node.address };
  }

  /** The live nodes other than this one, with their addresses (for fan-out reads). */
  peers(): PartitionLeaderAddress[] {
    const seen = this.coordinator.observed();
    if (seen === undefined) return [];
    return seen.nodes
      .filter((n) => n.nodeId !== this.nodeId && n.address !== "" && seen.live.includes(n.nodeId))
      .map((n) => ({ nodeId: n.nodeId, address: n.address }));
  }

  /**
   * Why the node is not ready, or undefined: it must have joined, and every partition must have a
   * live leader it knows of (this node leading it, or another live node holding its fence).
   */
  notReadyReason(health: (partition: number) => PartitionHealth): string | undefined {
    const seen = this.coordinator.observed();
    if (seen === undefined) return "joining the cluster";
    const without: number[] = [];
    for (let p = 0; p < this.options.partitions; p++) {
      if (health(p).state === "leading") continue;
      if (this.leaderOf(p) === undefined) without.push(p);
    }
    if (without.length === 0) return undefined;
    return `no live leader known for partitions ${without.join(", ")}`;
  }

  /** The `GET /cluster` answer: membership, fences, and what this node leads. */
  info(health: (partition: number) => PartitionHealth): ClusterInfo {
    const seen = this.coordinator.observed();
    const nodes = (seen?.nodes ?? []).map((n) => {
      const age = this.coordinator.heartbeatAgeMs(n.nodeId);
      return {
        nodeId: n.nodeId,
        address: n.address,
        pid: n.pid,
        live: seen?.live.includes(n.nodeId) ?? false,
        self: n.nodeId === this.nodeId,
        ...(age !== undefined && { heartbeatAgeMs: Math.round(age) }),
      };
    });
    if (!nodes.some((n) => n.self)) {
      const { nodeId, address, pid } = this.options.node;
      nodes.push({ nodeId, address, pid, live: true, self: true });
    }
    const partitions: ClusterPartitionInfo[] = [];
    for (let p = 0; p < this.options.partitions; p++) {
      const h = health(p);
      const fence = seen?.fences[p];
      if (h.state === "leading") {
        partitions.push({ partition: p, leader: this.nodeId, epoch: h.epoch, state: "leading" });
      } else if (h.state === "stopped") {
        partitions.push({ partition: p, state: "stopped" });
      } else if (fence?.owner !== undefined && fence.owner !== this.nodeId) {
        partitions.push({ partition: p, leader: fence.owner, epoch: fence.epoch, state: "elsewhere" });
      } else {
        partitions.push({ partition: p, ...(fence && { epoch: fence.epoch }), state: "unassigned" });
      }
    }
    return {
      nodeId: this.nodeId,
      mode: "cluster",
      leaseDurationMs: this.coordinator.leaseDurationMs,
      nodes,
      partitions,
    };
  }

  /** The partition's processor was fenced or failed: forget it and give up its claim (a no-op if lost). */
  async lost(partition: number): Promise<void> {
    this.coordinator.lost(partition);
    await this.options.fences.release(partition);
  }

  /** Graceful: hands every partition over (finish batch, snapshot, release), then leaves the membership. */
  leave(): Promise<void> {
    return this.coordinator.leave();
  }

  /** Stops heartbeating; holds on to the claims (to the others this node looks dead after the lease). */
  stop(): void {
    this.coordinator.stop();
  }
}
