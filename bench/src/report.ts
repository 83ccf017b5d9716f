/** Markdown tables of a bench run: the same text is printed and written into bench/README.md. */
import { readFileSync, writeFileSync } from "node:fs";
import type { RunResult } from "./measure";
import type { ModeSummary, TargetCheck } from "./targets";

const f = (n: number | undefined, digits: number): string =>
  n === undefined || Number.isNaN(n) ? "–" : n.toFixed(digits);

function table(header: string[], rows: string[][]): string {
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
      r.processes.map((p) => `${p.role} ${f(p.cpuMsPerRequest, 3)}`).join(", "),
      r.processes.map((p) => `${p.role} ${f(p.peakRssMb, 0)}`).join(", "),
      f(r.otherCpuCores, 2),
      r.errors === 0 ? "0" : `${r.errors}: ${r.errorSamples[0] ?? ""}`.replace(/\|/g, "/"),
    ]),
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
