/**
 * One measured run: warm-up, then a closed-loop phase bracketed by CPU and /metrics readings taken
 * with nothing in flight, so CPU per request and handler invocations per request are exact.
 */
import { readCounters, type RuntimeCounters } from "./admin";
import { readMeter, type DynamoDbMeter } from "./cluster";
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
  /**
   * `cluster` mode: DynamoDB write units per request as DynamoDB Local reported them (1 WRU per KB
   * per item, transactions included; DynamoDB bills a transactional write twice that), in total and
   * per operation, and DynamoDB requests per request.
   */
  writeUnitsPerRequest?: number;
  writeUnitsByOperation?: Record<string, number>;
  dynamoDbRequestsPerRequest?: number;
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
  /** Several (a cluster's nodes): requests go round-robin. */
  baseUrl: string | string[];
  adminUrl?: string;
  /** A cluster's nodes: their counters are summed (instead of adminUrl's). */
  adminUrls?: string[];
  adminToken?: string;
  /** A cluster's DynamoDB metering proxy (cluster.ts). */
  meterUrl?: string;
  processes: MeasuredProcess[];
  warmupMs: number;
  durationMs: number;
  maxRequests: number;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The runtime's counters: one node's, or the sum over a cluster's nodes. */
async function counters(o: RunOptions): Promise<RuntimeCounters | undefined> {
  const urls = o.adminUrls ?? (o.adminUrl === undefined ? [] : [o.adminUrl]);
  if (urls.length === 0) return undefined;
  const each = await Promise.all(urls.map((u) => readCounters(u, o.adminToken ?? "")));
  return each.reduce((a, b) => ({
    handlerInvocations: a.handlerInvocations + b.handlerInvocations,
    invokeFailures: a.invokeFailures + b.invokeFailures,
    logRecords: a.logRecords + b.logRecords,
    commitBatches: a.commitBatches + b.commitBatches,
    commitSeconds: a.commitSeconds + b.commitSeconds,
  }));
}

const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

function meterFigures(before: DynamoDbMeter, after: DynamoDbMeter, n: number): Partial<RunResult> {
  const byOperation: Record<string, number> = {};
  for (const [op, units] of Object.entries(after.writeUnits)) {
    const delta = units - (before.writeUnits[op] ?? 0);
    if (delta > 0) byOperation[op] = delta / n;
  }
  return {
    writeUnitsPerRequest: (total(after.writeUnits) - total(before.writeUnits)) / n,
    writeUnitsByOperation: byOperation,
    dynamoDbRequestsPerRequest: (total(after.requests) - total(before.requests)) / n,
  };
}

export async function measureRun(o: RunOptions): Promise<RunResult> {
  const tag = `${o.mode}-${o.workload}-${o.clients}-${Date.now().toString(36)}`;
  const warm = await runPhase({
    baseUrl: o.baseUrl,
    scripts: clientScripts(o.workload, `${tag}-w`, o.clients),
    durationMs: o.warmupMs,
    maxRequests: o.maxRequests,
  });
  await delay(SETTLE_MS);
  const before: RuntimeCounters | undefined = await counters(o);
  const meterBefore = o.meterUrl === undefined ? undefined : await readMeter(o.meterUrl);
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
  const after: RuntimeCounters | undefined = await counters(o);
  const meterAfter = o.meterUrl === undefined ? undefined : await readMeter(o.meterUrl);
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
    ...(meterBefore && meterAfter && meterFigures(meterBefore, meterAfter, n)),
    processes: o.processes.map((p, i) => ({
      role: p.role,
      pid: p.pid,
      cpuMsPerRequest: (cpuAfter[i]! - cpuBefore[i]!) / n,
      peakRssMb: peakRss[i]!,
    })),
    otherCpuCores: Math.max(0, machineMs - oursMs) / wallMs,
  };
}
