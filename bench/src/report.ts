/** Markdown tables of a bench run: the same text is printed and written into bench/README.md. */
import { readFileSync, writeFileSync } from "node:fs";
import type { RunResult } from "./measure";
import type { ModeSummary, TargetCheck } from "./targets";

const f = (n: number | undefined, digits: number): string =>
  n === undefined || Number.isNaN(n) ? "–" : n.toFixed(digits);

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function resultsTable(results: RunResult[]): string {
  return table(
    [
      "mode",
      "workload",
      "clients",
      "req/s",
      "p50 ms",
      "p90 ms",
      "p99 ms",
      "inv/req",
      "invoke failures",
      "log rec/req",
      "commits/req",
      "ms/commit",
      "WRU/req",
      "CPU ms/req by process",
      "peak RSS MB (run)",
      "other load (cores)",
      "errors",
    ],
    results.map((r) => [
      r.mode,
      r.workload,
      String(r.clients),
      f(r.requestsPerSecond, 0),
      f(r.p50Ms, 1),
      f(r.p90Ms, 1),
      f(r.p99Ms, 1),
      f(r.invocationsPerRequest, 3),
      r.invokeFailures === undefined ? "–" : String(r.invokeFailures),
      f(r.logRecordsPerRequest, 2),
      f(r.commitsPerRequest, 3),
      f(r.meanCommitMs, 2),
      f(r.writeUnitsPerRequest, 2),
      r.processes.map((p) => `${p.role} ${f(p.cpuMsPerRequest, 3)}`).join(", "),
      r.processes.map((p) => `${p.role} ${f(p.peakRssMb, 0)}`).join(", "),
      f(r.otherCpuCores, 2),
      r.errors === 0 ? "0" : `${r.errors}: ${r.errorSamples[0] ?? ""}`.replace(/\|/g, "/"),
    ]),
  );
}

/** CPU ms per request of every measured process but the load generator. */
const serverCpu = (r: RunResult): number =>
  r.processes.filter((p) => p.role !== "loadgen").reduce((n, p) => n + p.cpuMsPerRequest, 0);

/**
 * DynamoDB's bill for what DynamoDB Local reported: a transactional write costs twice the units of
 * the same items written alone (DynamoDB Local reports them alone), the other writes as reported.
 */
export function dynamoDbWriteUnits(byOperation: Record<string, number>): number {
  return Object.entries(byOperation).reduce(
    (n, [op, units]) => n + (op === "TransactWriteItems" ? 2 * units : units),
    0,
  );
}

/** The two sides of a paired mode's table, as its columns name them. */
const PAIRED_SIDES: Record<string, [string, string]> = {
  tracing: ["tracing off", "tracing on"],
  // Read as the issue asks: state on disk (the single node, the default) against state in memory.
  "state-memory": ["state in memory", "state in SQLite files"],
};

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * A paired mode (`cluster`, `tracing`, `state-memory`) against the single-node `lambda` runs measured
 * beside each of its runs (the k-th run of one side with the k-th of the other): throughput ratio,
 * latency, CPU, commits, and for a cluster its DynamoDB write units. With several pairs per
 * (workload, clients), a median row follows them. `state-memory` reads from memory to SQLite files.
 */
export function pairedTable(results: RunResult[], mode: string, baselineMode: string): string {
  const tracing = mode === "tracing";
  const stateMemory = mode === "state-memory";
  const [from, to] = PAIRED_SIDES[mode] ?? ["single node", mode];
  const runtimeCpu = (r: RunResult): number | undefined =>
    r.processes.find((p) => p.role === "runtime")?.cpuMsPerRequest;
  const roleCpu = (r: RunResult, role: string): string =>
    f(r.processes.find((p) => p.role === role)?.cpuMsPerRequest, 3);
  const rows: string[][] = [];
  const groups = new Map<string, Array<[RunResult, RunResult]>>();
  const seen = new Map<string, number>();
  for (const r of results.filter((x) => x.mode === mode)) {
    const key = `${r.workload}@${r.clients}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    const base = results.filter(
      (x) => x.mode === baselineMode && x.workload === r.workload && x.clients === r.clients,
    )[k];
    if (base === undefined) continue;
    // state-memory: the mode's side is "from" (memory), the single node (SQLite files) is "to".
    const pair: [RunResult, RunResult] = stateMemory ? [r, base] : [base, r];
    groups.set(key, [...(groups.get(key) ?? []), pair]);
  }
  for (const pairs of groups.values()) {
    for (const [a, b] of pairs) {
      const byOp = b.writeUnitsByOperation;
      rows.push([
        b.workload,
        String(b.clients),
        `${f(a.requestsPerSecond, 0)} → ${f(b.requestsPerSecond, 0)}`,
        `${f((b.requestsPerSecond / a.requestsPerSecond) * 100, 1)}%`,
        `${f(a.p50Ms, 1)} → ${f(b.p50Ms, 1)}`,
        `${f(a.p99Ms, 1)} → ${f(b.p99Ms, 1)}`,
        `${f(serverCpu(a), 2)} → ${f(serverCpu(b), 2)}`,
        ...(tracing ? [`${roleCpu(a, "runtime")} → ${roleCpu(b, "runtime")}`, roleCpu(b, "otlp-sink")] : []),
        ...(stateMemory
          ? [
              `${roleCpu(a, "runtime")} → ${roleCpu(b, "runtime")}`,
              `${f(a.commitsPerRequest, 3)} → ${f(b.commitsPerRequest, 3)}`,
              `${f(a.otherCpuCores, 2)}, ${f(b.otherCpuCores, 2)}`,
            ]
          : []),
        ...(mode === "cluster"
          ? [
              f(b.writeUnitsPerRequest, 2),
              byOp === undefined
                ? "–"
                : Object.entries(byOp)
                    .map(([op, units]) => `${op} ${f(units, 2)}`)
                    .join(", "),
              byOp === undefined ? "–" : f(dynamoDbWriteUnits(byOp), 2),
              f(b.dynamoDbRequestsPerRequest, 1),
            ]
          : []),
        String(a.errors + b.errors),
      ]);
    }
    if (pairs.length > 1 && stateMemory) {
      const ratio = median(pairs.map(([a, b]) => b.requestsPerSecond / a.requestsPerSecond));
      const cpu = (side: 0 | 1): string => f(median(pairs.map((p) => runtimeCpu(p[side]) ?? NaN)), 3);
      const commits = (side: 0 | 1): string =>
        f(median(pairs.map((p) => p[side].commitsPerRequest ?? NaN)), 3);
      const all = (side: 0 | 1): string => f(median(pairs.map((p) => serverCpu(p[side]))), 2);
      const [first] = pairs[0]!;
      rows.push([
        `**${first.workload}**`,
        `**${first.clients}**`,
        `median of ${pairs.length} pairs`,
        `**${f(ratio * 100, 1)}%**`,
        "",
        "",
        `${all(0)} → ${all(1)}`,
        `**${cpu(0)} → ${cpu(1)}**`,
        `${commits(0)} → ${commits(1)}`,
        "",
        "",
      ]);
    }
  }
  return table(
    [
      "workload",
      "clients",
      `req/s (${from} → ${to})`,
      `${to} / ${from}`,
      "p50 ms",
      "p99 ms",
      "CPU ms/req, all processes but the load generator",
      ...(tracing ? ["runtime process CPU ms/req", "OTLP receiver CPU ms/req"] : []),
      ...(stateMemory ? ["runtime process CPU ms/req", "commits/req", "other load (cores, each side)"] : []),
      ...(mode === "cluster"
        ? [
            "WRU/req (DynamoDB Local)",
            "WRU/req by operation (Local)",
            "WRU/req billed by DynamoDB (transactions ×2)",
            "DynamoDB requests/req",
          ]
        : []),
      "errors",
    ],
    rows,
  );
}

export function modesTable(modes: ModeSummary[]): string {
  return table(
    [
      "mode",
      "machine speed (cpu probe, rounds/ms, before → after)",
      "RSS MB once ready (before load)",
      "peak RSS MB (VmHWM, whole mode)",
      "stopped",
    ],
    modes.map((m) => [
      m.mode,
      `${f(m.cpuProbe.before, 2)} → ${f(m.cpuProbe.after, 2)}`,
      Object.entries(m.readyRssMb)
        .map(([role, mb]) => `${role} ${f(mb, 1)}`)
        .join(", "),
      Object.entries(m.peakRssMb)
        .map(([role, mb]) => `${role} ${f(mb, 1)}`)
        .join(", "),
      Object.entries(m.exits)
        .map(([role, how]) => `${role}: ${how}`)
        .join(", "),
    ]),
  );
}

export function targetsTable(checks: TargetCheck[]): string {
  return table(
    ["figure", "value", "target", "result"],
    checks.map((c) => [c.figure, c.value, c.target, c.pass ? "PASS" : "**FAIL**"]),
  );
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in the README. */
export function replaceReadmeSection(readmePath: string, name: string, body: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const text = readFileSync(readmePath, "utf8");
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${readmePath} has no ${start} … ${end} section`);
  writeFileSync(readmePath, `${text.slice(0, i + start.length)}\n${body.trim()}\n${text.slice(j)}`);
}
