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

/**
 * A paired mode (`cluster`, `tracing`) against the single-node `lambda` runs measured just before
 * each of its runs: throughput ratio, latency, CPU, and for a cluster its DynamoDB write units.
 */
export function pairedTable(results: RunResult[], mode: string, baselineMode: string): string {
  const tracing = mode === "tracing";
  const [from, to] = tracing ? ["tracing off", "tracing on"] : ["single node", mode];
  const roleCpu = (r: RunResult, role: string): string =>
    f(r.processes.find((p) => p.role === role)?.cpuMsPerRequest, 3);
  const rows: string[][] = [];
  for (const r of results.filter((x) => x.mode === mode)) {
    const base = results.find(
      (x) => x.mode === baselineMode && x.workload === r.workload && x.clients === r.clients,
    );
    if (base === undefined) continue;
    const byOp = r.writeUnitsByOperation;
    rows.push([
      r.workload,
      String(r.clients),
      `${f(base.requestsPerSecond, 0)} → ${f(r.requestsPerSecond, 0)}`,
      `${f((r.requestsPerSecond / base.requestsPerSecond) * 100, 1)}%`,
      `${f(base.p50Ms, 1)} → ${f(r.p50Ms, 1)}`,
      `${f(base.p99Ms, 1)} → ${f(r.p99Ms, 1)}`,
      `${f(serverCpu(base), 2)} → ${f(serverCpu(r), 2)}`,
      ...(tracing ? [`${roleCpu(base, "runtime")} → ${roleCpu(r, "runtime")}`, roleCpu(r, "otlp-sink")] : []),
      ...(mode === "cluster"
        ? [
            f(r.writeUnitsPerRequest, 2),
            byOp === undefined
              ? "–"
              : Object.entries(byOp)
                  .map(([op, units]) => `${op} ${f(units, 2)}`)
                  .join(", "),
            byOp === undefined ? "–" : f(dynamoDbWriteUnits(byOp), 2),
            f(r.dynamoDbRequestsPerRequest, 1),
          ]
        : []),
      String(base.errors + r.errors),
    ]);
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
