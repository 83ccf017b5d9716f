/**
 * The failover scenario's figures and its targets (issue 14 §2): after a SIGTERM a node's partitions
 * serve again within FAILOVER_TERM_TARGET_MS; after a SIGKILL within the lease plus
 * FAILOVER_KILL_MARGIN_MS. Judged on the slowest moved partition of every round, for each kind.
 */
import { table } from "./report";
import type { TargetCheck } from "./targets";

/** Issue 14 §2: a SIGTERM handover serves again within 2 s. */
export const FAILOVER_TERM_TARGET_MS = 2_000;
/** Issue 14 §2: a SIGKILL failover serves again within the lease plus 5 s. */
export const FAILOVER_KILL_MARGIN_MS = 5_000;

export type FailoverKind = "SIGTERM" | "SIGKILL";

export interface MovedPartition {
  partition: number;
  /** The node that leads it afterwards. */
  newLeader?: string;
  /** Signal → a surviving node's `GET /cluster` names a new leader (ms). */
  clusterMs?: number;
  /** Signal → a request to a key of the partition answered 200 through every surviving node (ms). */
  serveMs?: number;
  /** The same, per surviving node. */
  serveMsByNode: Record<string, number | undefined>;
}

export interface FailoverMove {
  kind: FailoverKind;
  round: number;
  victim: string;
  /** 1-, 5- and 15-minute load averages at the signal. */
  loadAverage: number[];
  /** Signal → the victim's process exited (ms). */
  victimExitMs: number;
  partitions: MovedPartition[];
  /** The background load through the surviving nodes, from the signal until every partition served. */
  load: { ok: number; errors: number; maxLatencyMs: number; errorSamples: string[] };
}

export interface FailoverReport {
  command: string;
  date: string;
  node: string;
  cpus: number;
  leaseMs: number;
  partitions: number;
  clients: number;
  moves: FailoverMove[];
}

const f = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n) ? "n/a" : n.toFixed(digits);

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** The target of a kind, in ms. */
export function targetMs(kind: FailoverKind, leaseMs: number): number {
  return kind === "SIGTERM" ? FAILOVER_TERM_TARGET_MS : leaseMs + FAILOVER_KILL_MARGIN_MS;
}

/** Every moved partition of a kind; one never served again counts as Infinity. */
function served(r: FailoverReport, kind: FailoverKind): number[] {
  return r.moves
    .filter((m) => m.kind === kind)
    .flatMap((m) => m.partitions.map((p) => p.serveMs ?? Infinity));
}

export function failoverTargets(r: FailoverReport): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const kind of ["SIGTERM", "SIGKILL"] as const) {
    const values = served(r, kind);
    if (values.length === 0) continue;
    const max = Math.max(...values);
    const target = targetMs(kind, r.leaseMs);
    checks.push({
      figure: `${kind}: moved partitions serve again through every surviving node (slowest of ${values.length})`,
      value: `${f(max)} ms (median ${f(median(values))} ms)`,
      target:
        kind === "SIGTERM"
          ? `≤ ${target} ms`
          : `≤ lease ${r.leaseMs} + ${FAILOVER_KILL_MARGIN_MS} = ${target} ms`,
      pass: max <= target,
    });
  }
  return checks;
}

/** Median and max per kind, of both figures. */
export function summaryTable(r: FailoverReport): string {
  const rows: string[][] = [];
  for (const kind of ["SIGTERM", "SIGKILL"] as const) {
    const moves = r.moves.filter((m) => m.kind === kind);
    if (moves.length === 0) continue;
    const parts = moves.flatMap((m) => m.partitions);
    const cluster = parts.map((p) => p.clusterMs ?? Infinity);
    const serve = parts.map((p) => p.serveMs ?? Infinity);
    const exits = moves.map((m) => m.victimExitMs);
    rows.push([
      kind,
      String(moves.length),
      String(parts.length),
      `${f(median(cluster))} / ${f(Math.max(...cluster))}`,
      `${f(median(serve))} / ${f(Math.max(...serve))}`,
      `${f(median(exits))} / ${f(Math.max(...exits))}`,
      String(moves.reduce((n, m) => n + m.load.errors, 0)),
      `${f(targetMs(kind, r.leaseMs))}`,
    ]);
  }
  return table(
    [
      "kind",
      "rounds",
      "moved partitions",
      "new leader on /cluster, ms (median / max)",
      "serves again, ms (median / max)",
      "victim exited, ms (median / max)",
      "load errors",
      "target, ms",
    ],
    rows,
  );
}

/** One row per round and kind. */
export function movesTable(r: FailoverReport): string {
  return table(
    [
      "round",
      "kind",
      "victim",
      "load average",
      "partitions",
      "/cluster ms (max)",
      "serves ms (max)",
      "victim exited ms",
      "load ok / errors",
      "slowest load answer ms",
    ],
    r.moves.map((m) => [
      String(m.round + 1),
      m.kind,
      m.victim,
      m.loadAverage.map((x) => x.toFixed(2)).join(" "),
      m.partitions.map((p) => p.partition).join(","),
      f(Math.max(...m.partitions.map((p) => p.clusterMs ?? Infinity))),
      f(Math.max(...m.partitions.map((p) => p.serveMs ?? Infinity))),
      f(m.victimExitMs),
      `${m.load.ok} / ${m.load.errors}`,
      f(m.load.maxLatencyMs),
    ]),
  );
}
