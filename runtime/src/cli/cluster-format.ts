/**
 * `capstan cluster` output: the nodes (id, address, pid, live, heartbeat age) as a table, then
 * partition → leader and epoch grouped by leader, with runs of neighbouring partitions at one epoch
 * written as a range (`0-3@2`), so 1,024 partitions still fit on a few lines.
 */
import { table } from "./format";

/** `GET /cluster` on the admin API (the names agreed for the cluster). */
export interface ClusterView {
  nodeId: string;
  mode: "single" | "cluster";
  leaseDurationMs: number;
  nodes: Array<{
    nodeId: string;
    address: string;
    pid: number;
    live: boolean;
    self: boolean;
    heartbeatAgeMs?: number;
  }>;
  partitions: Array<{
    partition: number;
    leader?: string;
    epoch?: number;
    state: "leading" | "elsewhere" | "stopped" | "unassigned";
  }>;
}

/** Partitions without a leader are grouped under this name. */
const NO_LEADER = "(none)";

/**
 * @example
 * formatCluster(view).join("\n");
 * // cluster of 3 nodes, answered by node-0, lease 10000 ms
 * // node    address                pid   live  heartbeat
 * // ...
 * // leader  partitions  partition@epoch
 * // node-0  6           0-2@4 7@5 9@2 12@2
 */
export function formatCluster(view: ClusterView): string[] {
  const live = view.nodes.filter((n) => n.live).length;
  const lines = [
    `${view.mode === "single" ? "single node" : `cluster of ${view.nodes.length} nodes (${live} live)`}, ` +
      `answered by ${view.nodeId}, lease ${view.leaseDurationMs} ms`,
    "",
    table(
      ["node", "address", "pid", "live", "heartbeat"],
      [...view.nodes]
        .sort((a, b) => a.nodeId.localeCompare(b.nodeId))
        .map((n) => [
          n.self ? `${n.nodeId} *` : n.nodeId,
          n.address,
          n.pid,
          n.live ? "yes" : "no",
          n.heartbeatAgeMs === undefined ? "" : `${(n.heartbeatAgeMs / 1000).toFixed(1)} s ago`,
        ]),
    ),
    "",
  ];
  const byLeader = new Map<string, ClusterView["partitions"]>();
  for (const p of [...view.partitions].sort((a, b) => a.partition - b.partition)) {
    const leader = p.leader ?? NO_LEADER;
    byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
  }
  const leaders = [...byLeader.keys()].sort((a, b) =>
    a === NO_LEADER ? 1 : b === NO_LEADER ? -1 : a.localeCompare(b),
  );
  lines.push(
    table(
      ["leader", "partitions", "partition@epoch"],
      leaders.map((leader) => {
        const ps = byLeader.get(leader)!;
        return [leader, ps.length, ranges(ps)];
      }),
    ),
  );
  const moving = view.partitions.filter((p) => p.state === "stopped" || p.state === "unassigned");
  if (moving.length > 0) {
    lines.push(
      "",
      `not served now (moving or stopped): ${moving.map((p) => `${p.partition} (${p.state})`).join(", ")}`,
    );
  }
  return lines;
}

/** `0-2@4 7@5 9`: runs of consecutive partitions at one epoch (no epoch known: the number alone). */
function ranges(partitions: ClusterView["partitions"]): string {
  const out: string[] = [];
  let start = partitions[0];
  let end = start;
  const flush = (): void => {
    if (start === undefined || end === undefined) return;
    const span =
      start.partition === end.partition ? `${start.partition}` : `${start.partition}-${end.partition}`;
    out.push(start.epoch === undefined ? span : `${span}@${start.epoch}`);
  };
  for (const p of partitions.slice(1)) {
    if (end !== undefined && p.partition === end.partition + 1 && p.epoch === end.epoch) {
      end = p;
      continue;
    }
    flush();
    start = p;
    end = p;
  }
  flush();
  return out.join(" ");
}
