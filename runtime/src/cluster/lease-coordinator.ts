/**
 * One node's side of partition leadership: heartbeats, liveness, assignment and takeover.
 *
 * Each tick the node bumps its heartbeat, reads every node's, and computes the assignment of
 * partitions over the live nodes by rendezvous hashing (every node computes the same one from the
 * same view). For a partition assigned to it that it does not hold, it takes over when the fence's
 * owner is gone (released, left, or its heartbeat stood still for the lease): a claim conditional on
 * the epoch it saw, so of two nodes racing for a partition one wins and the other is refused. For a
 * partition it holds that is now assigned elsewhere, it hands over: the owner of the partition stops
 * leading it (`onReleasing`: finish the batch in flight, snapshot), then the claim is released so the
 * successor needs no lease to expire.
 *
 * The epoch of a takeover fences the old leader in the log itself (every append checks it), so a
 * node paused past its lease that wakes up cannot write: its next append fails with STORE_LOG_FENCED
 * and the owner calls `lost`; its next tick, reading the fences, stops leading such partitions too
 * (`onLost`), whether or not anything was appended meanwhile.
 *
 * A node that changed the cluster — joined, took over or handed over partitions, left — tells the
 * other live nodes at once (`announce`, a signed peer request), and each of them ticks then instead
 * of at its next interval (`tickSoon`): a successor claims a released partition within one tick of
 * the release, and the others learn the new leader they forward to. The notice carries nothing but
 * its timing: every takeover is still the claim conditional on the epoch seen, so fencing is the
 * same; a lost notice only means waiting for the interval, as before. A leaving node sends one after
 * each partition it released, marked `leaving`: the others leave it out of the assignment at once
 * (for at most a lease, or until it joins again) and claim each partition as soon as it is released,
 * while its other partitions — still held by a live owner — stay untouchable until released too.
 *
 * A node whose heartbeat stopped is judged dead at the tick after its lease ran out on this node's
 * clock: when that comes before the next interval, a tick is set for the expiry itself, so a SIGKILL
 * costs the lease (plus how late its last heartbeat was seen), not the lease and another interval.
 */
import type { Clock } from "../core/clock";
import type { LogFence, LogStore } from "../storage/log-store";
import { LivenessTracker } from "./liveness";
import type { MembershipStore, NodeHeartbeat, NodeInfo } from "./membership-store";
import { ownerOf } from "./rendezvous";

/** The default lease: a node is dead after 10 s without a heartbeat. */
export const DEFAULT_LEASE_DURATION_MS = 10_000;
/** Heartbeats per lease: a live node survives two lost heartbeats in a row. */
export const HEARTBEATS_PER_LEASE = 3;
/** A tick set for a silent node's lease expiry runs this much after it, so the lease has run out. */
export const EXPIRY_TICK_SLACK_MS = 5;

/** What one node saw at its last tick: the membership and every partition's fence. */
export interface ClusterObservation {
  /** Every node's stored heartbeat, live or not. */
  nodes: NodeHeartbeat[];
  /** The live node ids (this node included), sorted. */
  live: string[];
  /** Partition → its fence as read at the tick (then updated by this node's own claims and releases). */
  fences: LogFence[];
}

/** What the coordinator asks of the node that leads the partitions it acquires. */
export interface PartitionLeader {
  /** The node now holds `partition` at `epoch`: load it and start leading. */
  onAcquired(partition: number, epoch: number): Promise<void>;
  /** The node must hand `partition` over: stop leading it (finish the batch in flight, snapshot). */
  onReleasing(partition: number): Promise<void>;
  /**
   * Another node claimed `partition` while this one held it (it was paused past its lease): stop
   * leading it at once, persisting nothing. Its next append would be refused by the epoch anyway;
   * this spares waiting for one, so the others see the partition's real leader.
   */
  onLost?(partition: number): Promise<void>;
}

export interface LeaseCoordinatorOptions {
  node: NodeInfo;
  partitions: number;
  leaseDurationMs?: number;
  membership: MembershipStore;
  /** The log's fences: takeovers and releases go through them. */
  fences: Pick<LogStore, "claim" | "release" | "fence">;
  /** A monotonic clock (liveness is timed on it). */
  clock: Clock;
  leader: PartitionLeader;
  /**
   * Tells the other live nodes that this node changed the cluster (best effort; failures ignored),
   * so they tick now (`tickSoon` on their side). Absent: they notice at their next interval.
   */
  announce?: (peers: readonly NodeInfo[], notice: ChangeNotice) => Promise<void>;
}

/** What a change notice says: who sent it, and whether that node is leaving (handing everything over). */
export interface ChangeNotice {
  from: string;
  leaving: boolean;
}

/**
 * @example
 * const leases = new LeaseCoordinator({ node, partitions: 24, membership, fences: logStore,
 *   clock: monotonicClock, leader: { onAcquired: (p, epoch) => open(p, epoch), onReleasing: (p) => close(p) } });
 * leases.start(); // ticks every lease / 3
 * process.on("SIGTERM", () => void leases.leave()); // hand everything over at once
 */
export class LeaseCoordinator {
  private readonly liveness: LivenessTracker;
  private readonly held = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  /** A bare heartbeat sent while a long tick runs. */
  private beating: Promise<void> | undefined;
  private leaving = false;
  private observation: ClusterObservation | undefined;
  /** A notice arrived while a tick ran: one more tick after it. */
  private tickAgain = false;
  /** Nodes that said they are leaving → when (this node's clock): left out of the assignment. */
  private readonly leavingPeers = new Map<string, number>();
  /** The tick set for a silent node's lease expiry (scheduleExpiryTick). */
  private expiryTimer: NodeJS.Timeout | undefined;
  private onError: (e: unknown) => void = () => undefined;

  constructor(private readonly options: LeaseCoordinatorOptions) {
    this.liveness = new LivenessTracker(options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS, options.clock);
  }

  /** Partition → epoch, for the partitions this node holds. */
  heldPartitions(): ReadonlyMap<number, number> {
    return new Map(this.held);
  }

  /** The last tick's view of the cluster; undefined until the first tick completed (not joined yet). */
  observed(): ClusterObservation | undefined {
    return this.observation;
  }

  /** How long ago, on this node's clock, a node's heartbeat last moved (undefined: never seen). */
  heartbeatAgeMs(nodeId: string): number | undefined {
    return this.liveness.sinceChangeMs(nodeId);
  }

  get leaseDurationMs(): number {
    return this.liveness.leaseDurationMs;
  }

  /**
   * Ticks every lease / HEARTBEATS_PER_LEASE until `leave` or `stop`. While a tick is still busy
   * (takeovers load partitions, which can outlast a lease) the interval sends bare heartbeats, so
   * the others never judge this node dead because it is busy taking over.
   */
  start(onError: (e: unknown) => void): void {
    this.onError = onError;
    const intervalMs = this.liveness.leaseDurationMs / HEARTBEATS_PER_LEASE;
    this.timer = setInterval(() => {
      if (this.ticking === undefined && !this.leaving) {
        this.runTick().catch(onError);
      } else if (this.beating === undefined) {
        this.beating = this.options.membership
          .heartbeat(this.options.node)
          .then(() => undefined)
          .catch(onError)
          .finally(() => (this.beating = undefined));
      }
    }, intervalMs);
  }

  /** Runs a tick now, or waits for the one running. */
  runTick(): Promise<void> {
    this.ticking ??= this.tick().finally(() => {
      this.ticking = undefined;
      if (this.tickAgain) {
        this.tickAgain = false;
        this.tickSoon();
      }
    });
    return this.ticking;
  }

  /**
   * Another node announced a change (it left, released or took partitions, joined): tick now, not
   * at the next interval; a tick already running is followed by one more (notices coalesce). Only
   * when started and not leaving. Nothing in the notice is trusted: the tick reads the membership
   * and the fences itself, and claims only on the epoch it saw.
   */
  tickSoon(notice?: ChangeNotice): void {
    if (notice !== undefined && notice.from !== this.options.node.nodeId) {
      if (notice.leaving) this.leavingPeers.set(notice.from, this.options.clock.nowMs());
      else this.leavingPeers.delete(notice.from);
    }
    if (this.timer === undefined || this.leaving) return;
    if (this.ticking !== undefined) {
      this.tickAgain = true;
      return;
    }
    this.runTick().catch(this.onError);
  }

  /** One round: heartbeat, read the nodes, hand over what moved away, take over what is due. */
  async tick(): Promise<void> {
    if (this.leaving) return;
    const me = this.options.node.nodeId;
    await this.options.membership.heartbeat(this.options.node);
    const nodes = await this.options.membership.nodes();
    this.liveness.observe(nodes);
    const live = new Set([...this.liveness.live(), me]);
    const liveNodes = [...live].sort();
    // A node handing everything over gets nothing new; its partitions go to their next owners as it
    // releases them (it stays live, so what it still holds is not taken from it).
    for (const [nodeId, sinceMs] of this.leavingPeers)
      if (!live.has(nodeId) || this.options.clock.nowMs() - sinceMs >= this.liveness.leaseDurationMs)
        this.leavingPeers.delete(nodeId);
    const assignable = liveNodes.filter((nodeId) => !this.leavingPeers.has(nodeId));
    const fences = await Promise.all(
      Array.from({ length: this.options.partitions }, (_, p) => this.options.fences.fence(p)),
    );
    const observation: ClusterObservation = { nodes, live: liveNodes, fences };
    const joining = this.observation === undefined;
    // Held here, but the fence carries another claim: this node was paused past its lease.
    const lost = [...this.held].filter(([p, epoch]) => fences[p]!.owner !== me || fences[p]!.epoch !== epoch);
    for (const [p] of lost) this.held.delete(p);
    const onLost = this.options.leader.onLost?.bind(this.options.leader);
    if (onLost !== undefined) await Promise.allSettled(lost.map(([p]) => onLost(p)));
    const takeOver: number[] = [];
    const handOver: number[] = [];
    for (let p = 0; p < this.options.partitions; p++) {
      const assigned = ownerOf(p, assignable) === me;
      if (assigned && !this.held.has(p)) takeOver.push(p);
      else if (!assigned && this.held.has(p)) handOver.push(p);
    }
    // Partitions move independently: hand-overs first (they free what others wait for), each
    // group concurrently, so a tick lasts about one partition's load, not all of theirs.
    const results = [
      ...(await Promise.allSettled(handOver.map((p) => this.handOver(p)))),
      ...(this.leaving
        ? []
        : await Promise.allSettled(takeOver.map((p) => this.tryTakeOver(p, live, fences[p]!)))),
    ];
    // What this node itself changed is known without reading it again.
    for (let p = 0; p < this.options.partitions; p++) {
      const epoch = this.held.get(p);
      if (epoch !== undefined) fences[p] = { epoch, owner: me };
      else if (fences[p]!.owner === me) fences[p] = { epoch: fences[p]!.epoch, owner: undefined };
    }
    this.observation = observation;
    this.scheduleExpiryTick();
    // Joined, or handed over a partition (each takeover is announced as it completes): the others
    // should look now, not at their interval. Only on a real change: a notice that changes nothing
    // must not start another round of them.
    const handedOver = results.slice(0, handOver.length).some((r) => r.status === "fulfilled");
    if (joining || lost.length > 0 || handedOver) void this.announceChange();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** The partition's leader found itself fenced (another node took it): forget it. */
  lost(partition: number): void {
    this.held.delete(partition);
  }

  /** Graceful stop (SIGTERM): hands every partition over, then leaves the membership. */
  async leave(): Promise<void> {
    this.leaving = true;
    await this.ticking?.catch(() => undefined);
    // Still heartbeating while handing over (bare beats from the interval): a hand-over longer than
    // the lease must not look like a death, which would let others claim partitions mid-flush.
    // Each release is announced: its successor claims it at once, not after the last one.
    try {
      await Promise.all(
        [...this.held.keys()].map((p) => this.handOver(p).then(() => void this.announceChange(true))),
      );
    } finally {
      this.stop();
      await this.beating;
    }
    await this.options.membership.leave(this.options.node.nodeId);
    // Gone from the membership: whatever is left to claim is claimed now (awaited, so the notice is
    // out before the process exits; bounded by the sender's timeout).
    await this.announceChange(true);
  }

  /** Stops ticking; holds on to nothing else (a crash looks like this to the other nodes). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  /**
   * In how long, on this node's clock, the first other node seen live at the last tick would be
   * judged dead if its heartbeat does not move again (0 when due); undefined before the first tick
   * or with no other live node.
   */
  nextExpiryInMs(): number | undefined {
    const seen = this.observation;
    if (seen === undefined) return undefined;
    let next: number | undefined;
    for (const nodeId of seen.live) {
      if (nodeId === this.options.node.nodeId) continue;
      const since = this.liveness.sinceChangeMs(nodeId);
      if (since === undefined) continue;
      const left = Math.max(0, this.liveness.leaseDurationMs - since);
      next = next === undefined ? left : Math.min(next, left);
    }
    return next;
  }

  /** A tick at the next lease expiry, when that comes before the next interval's tick (started only). */
  private scheduleExpiryTick(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.timer === undefined || this.leaving) return;
    const inMs = this.nextExpiryInMs();
    if (inMs === undefined || inMs >= this.liveness.leaseDurationMs / HEARTBEATS_PER_LEASE) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.tickSoon();
    }, inMs + EXPIRY_TICK_SLACK_MS);
  }

  /** Best effort: the live nodes other than this one, as last observed, hear that something moved. */
  private async announceChange(leaving = false): Promise<void> {
    const announce = this.options.announce;
    const seen = this.observation;
    if (announce === undefined || seen === undefined) return;
    const me = this.options.node.nodeId;
    const peers = seen.nodes.filter((n) => n.nodeId !== me && seen.live.includes(n.nodeId));
    if (peers.length === 0) return;
    await announce(peers, { from: me, leaving }).catch(() => undefined);
  }

  /** Whether this node now holds the partition. */
  private async tryTakeOver(partition: number, live: ReadonlySet<string>, fence: LogFence): Promise<boolean> {
    const me = this.options.node.nodeId;
    // A live owner that is not us hands over on its own tick; only the dead or absent are taken from.
    if (fence.owner !== undefined && fence.owner !== me && live.has(fence.owner)) return false;
    let epoch: number;
    try {
      epoch = await this.options.fences.claim(partition, me, { ifEpoch: fence.epoch });
    } catch (e) {
      if ((e as { code?: string }).code === "STORE_LOG_FENCED") return false; // another node won the race
      throw e;
    }
    this.held.set(partition, epoch);
    try {
      await this.options.leader.onAcquired(partition, epoch);
    } catch (e) {
      // It could not be loaded here: give the claim up, so this node or another tries again.
      this.held.delete(partition);
      await this.options.fences.release(partition).catch(() => undefined);
      throw e;
    }
    // Told as soon as it leads, not after the tick's other takeovers: the others forward here.
    void this.announceChange();
    return true;
  }

  private async handOver(partition: number): Promise<boolean> {
    await this.options.leader.onReleasing(partition);
    await this.options.fences.release(partition);
    this.held.delete(partition);
    return true;
  }
}
