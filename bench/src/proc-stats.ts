/**
 * CPU and memory of processes, read from /proc: utime+stime of /proc/<pid>/stat cover every thread
 * of the process (the local Lambda endpoint's workers are threads of the dev process), VmRSS and
 * VmHWM (peak RSS) come from /proc/<pid>/status.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

const TICKS_PER_SECOND = clockTicksPerSecond();

interface StatLine {
  comm: string;
  ppid: number;
  cpuMs: number;
  threads: number;
}

function readStat(pid: number): StatLine | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields restart after the last ')'.
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const f = text.slice(close + 2).split(" ");
  // After ')': state(3) ppid(4) ... utime(14) stime(15) ... num_threads(20), numbered from 1 with pid.
  const ticks = Number(f[11]) + Number(f[12]);
  return { comm, ppid: Number(f[1]), cpuMs: (ticks * 1000) / TICKS_PER_SECOND, threads: Number(f[17]) };
}

/** CPU time (user + system, all threads) of `pid` in ms, or undefined if it is gone. */
export function cpuMsOf(pid: number): number | undefined {
  return pid === process.pid ? selfCpuMs() : readStat(pid)?.cpuMs;
}

/** The bench process's own CPU time, at µs precision. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function statusField(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Current resident set, MB. */
export const rssMbOf = (pid: number): number | undefined => statusField(pid, "VmRSS");
/** Peak resident set since the process started, MB. */
export const peakRssMbOf = (pid: number): number | undefined => statusField(pid, "VmHWM");

export interface ProcessInfo {
  pid: number;
  comm: string;
  threads: number;
}

/** `pid` and all its descendants (e.g. esbuild's service process under the dev platform). */
export function processTree(pid: number): ProcessInfo[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat === undefined) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(name));
    children.set(stat.ppid, list);
  }
  const out: ProcessInfo[] = [];
  const visit = (p: number): void => {
    const stat = readStat(p);
    if (stat === undefined) return;
    out.push({ pid: p, comm: stat.comm, threads: stat.threads });
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out;
}

/** Busy CPU time of the whole machine (all cores, all processes) in ms, from /proc/stat. */
export function machineBusyCpuMs(): number {
  const first = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal ...
  const f = first.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return ((total - f[3]! - f[4]!) * 1000) / TICKS_PER_SECOND;
}
