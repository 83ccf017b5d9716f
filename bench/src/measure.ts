/**
 * One measured run: warm-up, then a closed-loop phase bracketed by CPU and /metrics readings taken
 * with nothing in flight, so CPU per request and handler invocations per request are exact.
 */
import { readCounters, type RuntimeCounters } from "./admin";
import { percentile, runPhase } from "./load-generator";
import { cpuMsOf, machineBusyCpuMs, rssMbOf } from "./proc-stats";
import { clientScripts, type WorkloadName } from "./workloads";

/** How often resident memory is sampled during a run. */
const RSS_SAMPLE_MS = 100;
/** Lets work the runtime does after answering (completion records) land in this run's CPU time. */
const SETTLE_MS = 100;

export interface MeasuredProcess {
  role: string;
  pid: number;
}

export interface ProcessFigures {
  role: string;
  pid: number;
  cpuMsPerRequest: number;
  /** Highest VmRSS sampled during the measured phase, MB. */
  peakRssMb: number;
}

export interface RunResult {
  mode: string;
  workload: WorkloadName;
  clients: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Handler invocations (attempts) per request; undefined without a runtime. */
  invocationsPerRequest?: number;
  invokeFailures?: number;
  logRecordsPerRequest?: number;
  /** Log commits (one fsync each) per request, and their mean duration. */
  commitsPerRequest?: number;
  meanCommitMs?: number;
  processes: ProcessFigures[];
  /**
   * CPU used by processes outside the bench during the measured phase, in cores (e.g. 0.9 = most of
   * one of the 2 cores): anything well above 0 means the figures of this run are disturbed.
   */
  otherCpuCores: number;
  /**
   * For a target throughput: every run, each with the plain reference server's noop run measured
   * just before it (this result is the run of the pair with the median ratio).
   */
  pairs?: ReferencePair[];
}

export interface ReferencePair {
  requestsPerSecond: number;
  /** The plain server's noop req/s at the same client count, measured just before. */
  referencePerSecond: number;
  referenceErrors: number;
}

export interface RunOptions {
  mode: string;
  workload: WorkloadName;
  clients: number;
  baseUrl: string;
  adminUrl?: string;
  adminToken?: string;
  processes: MeasuredProcess[];
  warmupMs: number;
  durationMs: number;
  maxRequests: number;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function measureRun(o: RunOptions): Promise<RunResult> {
  const tag = `${o.mode}-${o.workload}-${o.clients}-${Date.now().toString(36)}`;
  const warm = await runPhase({
    baseUrl: o.baseUrl,
    scripts: clientScripts(o.workload, `${tag}-w`, o.clients),
    durationMs: o.warmupMs,
    maxRequests: o.maxRequests,
  });
  await delay(SETTLE_MS);
  const before: RuntimeCounters | undefined = o.adminUrl
    ? await readCounters(o.adminUrl, o.adminToken ?? "")
    : undefined;
  const cpuBefore = o.processes.map((p) => cpuMsOf(p.pid) ?? NaN);
  const machineBefore = machineBusyCpuMs();
  const wallBefore = performance.now();
  const peakRss = o.processes.map(() => 0);
  const sampleRss = (): void =>
    o.processes.forEach((p, i) => (peakRss[i] = Math.max(peakRss[i]!, rssMbOf(p.pid) ?? 0)));
  sampleRss();
  const sampler = setInterval(sampleRss, RSS_SAMPLE_MS);
  const phase = await runPhase({
    baseUrl: o.baseUrl,
    scripts: clientScripts(o.workload, tag, o.clients),
    durationMs: o.durationMs,
    maxRequests: o.maxRequests,
  });
  await delay(SETTLE_MS);
  clearInterval(sampler);
  sampleRss();
  const cpuAfter = o.processes.map((p) => cpuMsOf(p.pid) ?? NaN);
  const machineMs = machineBusyCpuMs() - machineBefore;
  const wallMs = performance.now() - wallBefore;
  const oursMs = cpuAfter.reduce((s, after, i) => s + (after - cpuBefore[i]!), 0);
  const after: RuntimeCounters | undefined = o.adminUrl
    ? await readCounters(o.adminUrl, o.adminToken ?? "")
    : undefined;
  const sorted = phase.latenciesMs.sort((a, b) => a - b);
  const n = phase.requests;
  return {
    mode: o.mode,
    workload: o.workload,
    clients: o.clients,
    requests: n,
    errors: phase.errors + warm.errors,
    errorSamples: [...warm.errorSamples, ...phase.errorSamples].slice(0, 5),
    requestsPerSecond: (n * 1000) / phase.elapsedMs,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    ...(before &&
      after && {
        invocationsPerRequest: (after.handlerInvocations - before.handlerInvocations) / n,
        invokeFailures: after.invokeFailures - before.invokeFailures,
        logRecordsPerRequest: (after.logRecords - before.logRecords) / n,
        commitsPerRequest: (after.commitBatches - before.commitBatches) / n,
        meanCommitMs:
          ((after.commitSeconds - before.commitSeconds) * 1000) /
          Math.max(1, after.commitBatches - before.commitBatches),
      }),
    processes: o.processes.map((p, i) => ({
      role: p.role,
      pid: p.pid,
      cpuMsPerRequest: (cpuAfter[i]! - cpuBefore[i]!) / n,
      peakRssMb: peakRss[i]!,
    })),
    otherCpuCores: Math.max(0, machineMs - oursMs) / wallMs,
  };
}
