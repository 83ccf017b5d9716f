/**
 * The scale scenario (issue 13 §3): does the runtime's memory stay flat with keys and retained
 * invocations, and does it restart fast at that size? Through the ingress, at the default retention
 * (completed invocations kept 1 h): S invocations suspended on a 1-hour timer, then K distinct
 * `counter` keys (one `add` each, so K completed invocations retained), then R more adds on existing
 * keys (retained invocations without new keys). The runtime's VmRSS is sampled every 100 ms and
 * recorded at checkpoints; then the platform is SIGKILLed, restarted on the same data dir, timed
 * until it serves again, and every value is checked.
 *
 * Usage: node bench/dist/src/run.js --scenario scale [--keys 500000] [--suspended 50000]
 *   [--readds keys/10] [--clients 64] [--checkpoint-every 100000] [--verify all|N] [--max-minutes 120]
 *   [--json-file out.json] [--update-readme] [--keep-data]
 */
import { cpus, tmpdir } from "node:os";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { HOLD_MS } from "../functions/bench/services";
import { getState, query } from "./admin";
import { REPO_ROOT, startRuntimeChild, type RuntimeChild } from "./children";
import { cpuProbe } from "./cpu-probe";
import { runPhase, type PhaseResult } from "./load-generator";
import { cpuMsOf, machineBusyCpuMs, processTree, rssMbOf } from "./proc-stats";
import { replaceReadmeSection, targetsTable } from "./report";
import {
  checkpointsTable,
  derivedTable,
  scaleTargets,
  type Checkpoint,
  type ScaleReport,
  type Timings,
  type Verification,
} from "./scale-report";
import type { ClientScript } from "./workloads";

const README = path.join(REPO_ROOT, "bench/README.md");
const RSS_SAMPLE_MS = 100;
/** How long a restarted platform may take to answer before the scenario gives up. */
const SERVE_TIMEOUT_MS = 300_000;
/** How long the sent `hold` invocations may take to all reach `suspended`. */
const SUSPEND_TIMEOUT_MS = 600_000;
const NOOP_BODY = JSON.stringify({ scale: true });
const MAX_ERROR_SAMPLES = 5;

interface ScaleOptions {
  keys: number;
  suspended: number;
  readds: number;
  clients: number;
  checkpointEvery: number;
  /** Keys read back through the admin state API: all, or an evenly spaced sample. */
  verifyKeys: number;
  maxMinutes: number;
  jsonFile?: string;
  updateReadme: boolean;
  keepData: boolean;
}

function parseScaleOptions(argv: string[]): ScaleOptions {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, fallback: number, min: number): number => {
    const raw = value(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const keys = int("keys", 500_000, 1);
  const verify = value("verify") ?? "all";
  return {
    keys,
    suspended: int("suspended", 50_000, 0),
    readds: Math.min(keys, int("readds", Math.floor(keys / 10), 0)),
    clients: Math.min(int("clients", 64, 1), 1024),
    checkpointEvery: int("checkpoint-every", Math.min(100_000, Math.max(1, Math.floor(keys / 5))), 1),
    verifyKeys: verify === "all" ? keys : Math.min(keys, int("verify", keys, 0)),
    maxMinutes: int("max-minutes", 120, 1),
    ...(value("json-file") !== undefined && { jsonFile: value("json-file")! }),
    updateReadme: argv.includes("--update-readme"),
    keepData: argv.includes("--keep-data"),
  };
}

const progress = (s: string): void => void process.stderr.write(`[scale] ${s}\n`);

/** Key i's name and the delta its add carries: distinct values, so a swapped key is caught. */
const keyOf = (i: number): string => `scale-${i}`;
const deltaOf = (i: number): number => (i % 997) + 1;

/** Bytes of the files under `dir`, the handlers' build output excepted, in MB. */
function dataDirMb(dir: string): number {
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (e.name !== "build") walk(path.join(d, e.name));
      } else if (e.isFile()) bytes += statSync(path.join(d, e.name), { throwIfNoEntry: false })?.size ?? 0;
    }
  };
  walk(dir);
  return bytes / (1024 * 1024);
}

/** The runtime's VmRSS every RSS_SAMPLE_MS, its highest value kept per phase. */
class RssSampler {
  readonly maxByPhase: Record<string, number> = {};
  private phase = "fill";
  private pid = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(pid: number) {
    this.pid = pid;
    this.timer = setInterval(() => this.sample(), RSS_SAMPLE_MS);
    this.timer.unref();
  }
  track(pid: number, phase: string): void {
    this.pid = pid;
    this.phase = phase;
  }
  sample(): number {
    const mb = rssMbOf(this.pid);
    if (mb === undefined) return NaN;
    this.maxByPhase[this.phase] = Math.max(this.maxByPhase[this.phase] ?? 0, mb);
    return mb;
  }
  max(): number {
    return Math.max(...Object.values(this.maxByPhase));
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Client scripts sharing one cursor over [from, to): each request takes the next index. */
function rangeScripts(
  clients: number,
  from: number,
  request: (i: number) => { path: string; body: string },
  check: (i: number, status: number, body: string) => string | undefined,
): ClientScript[] {
  let cursor = from;
  return Array.from({ length: clients }, () => {
    let mine = -1;
    return {
      next: () => request((mine = cursor++)),
      check: (status, body) => check(mine, status, body),
    };
  });
}

class Scenario {
  readonly checkpoints: Checkpoint[] = [];
  errors = 0;
  readonly errorSamples: string[] = [];
  retained = 0;
  private readonly startedAt = performance.now();
  constructor(
    private readonly o: ScaleOptions,
    private readonly deadline: number,
    private readonly dataDir: string,
  ) {}

  async phase(
    runtime: RuntimeChild,
    count: number,
    scripts: ClientScript[],
  ): Promise<PhaseResult & { requestsPerSecond: number }> {
    const remaining = this.deadline - performance.now();
    if (remaining <= 0) throw new Error(`--max-minutes ${this.o.maxMinutes} reached`);
    const r = await runPhase({
      baseUrl: runtime.ingressUrl,
      scripts,
      durationMs: remaining,
      maxRequests: count,
    });
    if (r.requests < count) throw new Error(`--max-minutes ${this.o.maxMinutes} reached`);
    this.errors += r.errors;
    for (const e of r.errorSamples)
      if (this.errorSamples.length < MAX_ERROR_SAMPLES) this.errorSamples.push(e);
    return { ...r, requestsPerSecond: (r.requests * 1000) / r.elapsedMs };
  }

  checkpoint(label: string, keys: number, suspended: number, rss: RssSampler, requestsPerSecond = NaN): void {
    const c: Checkpoint = {
      label,
      keys,
      retained: this.retained,
      suspended,
      rssMb: rss.sample(),
      maxRssMb: rss.max(),
      diskMb: dataDirMb(this.dataDir),
      elapsedS: (performance.now() - this.startedAt) / 1000,
      requestsPerSecond,
    };
    this.checkpoints.push(c);
    progress(
      `${label}: ${keys} keys, ${c.retained} retained, ${suspended} suspended, VmRSS ${c.rssMb.toFixed(1)} MB ` +
        `(max ${c.maxRssMb.toFixed(1)}), disk ${c.diskMb.toFixed(0)} MB, ${c.elapsedS.toFixed(0)} s, ${requestsPerSecond.toFixed(0)} req/s, ` +
        `${this.errors} errors`,
    );
  }
}

async function ingressOk(runtime: RuntimeChild): Promise<boolean> {
  try {
    const res = await fetch(`${runtime.ingressUrl}/bench/noop`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: NOOP_BODY,
    });
    return res.status === 200 && (await res.text()) === NOOP_BODY;
  } catch {
    return false;
  }
}

async function healthOk(runtime: RuntimeChild): Promise<boolean> {
  try {
    const res = await fetch(`${runtime.adminUrl}/health`);
    return res.status === 200 && ((await res.json()) as { status?: string }).status === "ok";
  } catch {
    return false;
  }
}

/**
 * Starts the platform on `dataDir` and times it until it serves: the ready line, `/health` ok, the
 * first ingress request answered. Each successful probe leaves one completed `bench/noop` invocation.
 */
async function startAndTime(
  dataDir: string,
  logDir: string,
  role: string,
): Promise<{ runtime: RuntimeChild; timings: Timings }> {
  const t0 = performance.now();
  const runtime = await startRuntimeChild({
    role,
    handlersDir: path.join(REPO_ROOT, "bench/functions"),
    dataDir,
    logDir,
    defaultRetention: true,
  });
  const readyLineMs = performance.now() - t0;
  const until = async (probe: () => Promise<boolean>, what: string): Promise<number> => {
    const deadline = performance.now() + SERVE_TIMEOUT_MS;
    while (!(await probe())) {
      if (performance.now() > deadline)
        throw new Error(`${role}: ${what} not ok after ${SERVE_TIMEOUT_MS} ms`);
      await delay(20);
    }
    return performance.now() - t0;
  };
  const healthMs = await until(() => healthOk(runtime), "/health");
  const firstIngressMs = await until(() => ingressOk(runtime), "POST /bench/noop");
  progress(
    `${role}: ready line ${readyLineMs.toFixed(0)} ms, /health ${healthMs.toFixed(0)} ms, first ingress ${firstIngressMs.toFixed(0)} ms`,
  );
  return { runtime, timings: { readyLineMs, healthMs, firstIngressMs } };
}

/** SIGKILL the platform: the dev process and every descendant (the local Lambda endpoint, esbuild). */
async function killPlatform(runtime: RuntimeChild): Promise<void> {
  const tree = processTree(runtime.pid);
  const exited = new Promise<void>((resolve) => {
    if (runtime.proc.exitCode !== null || runtime.proc.signalCode !== null) resolve();
    else runtime.proc.once("exit", () => resolve());
  });
  for (const p of tree) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await exited;
  await runtime.stop();
}

async function countWhere(runtime: RuntimeChild, sql: string): Promise<number> {
  const r = await query(runtime.adminUrl, runtime.adminToken, sql);
  return Number(r.rows[0]?.[0]);
}

async function waitSuspended(runtime: RuntimeChild, expected: number): Promise<void> {
  const deadline = performance.now() + SUSPEND_TIMEOUT_MS;
  for (;;) {
    const n = await countWhere(runtime, "SELECT count(*) FROM invocations WHERE status = 'suspended'");
    if (n >= expected) return;
    if (performance.now() > deadline) throw new Error(`only ${n}/${expected} hold invocations suspended`);
    await delay(1000);
  }
}

/** Reads the keys back through the admin state API, `clients` at a time, plus SQL counts and sum. */
async function verify(
  runtime: RuntimeChild,
  o: ScaleOptions,
  expected: Verification["expected"],
  valueOf: (i: number) => number,
): Promise<Verification> {
  const v: Verification = { keysChecked: 0, wrongKeys: 0, wrongSamples: [], queryErrors: [], expected };
  const step = o.keys / Math.max(1, o.verifyKeys);
  const indexes = Array.from({ length: o.verifyKeys }, (_, j) => Math.floor(j * step));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < indexes.length) {
      const i = indexes[next++]!;
      let got: unknown;
      try {
        got = (await getState(runtime.adminUrl, runtime.adminToken, "counter", keyOf(i)))["count"];
      } catch (e) {
        got = (e as Error).message;
      }
      v.keysChecked++;
      if (got !== valueOf(i)) {
        v.wrongKeys++;
        if (v.wrongSamples.length < MAX_ERROR_SAMPLES)
          v.wrongSamples.push(`${keyOf(i)}: expected ${valueOf(i)}, got ${String(got)}`);
      }
      if (v.keysChecked % 50_000 === 0) progress(`verify: ${v.keysChecked}/${indexes.length} keys read`);
    }
  };
  await Promise.all(Array.from({ length: o.clients }, worker));
  const sql = async (text: string): Promise<unknown[] | undefined> => {
    try {
      return (await query(runtime.adminUrl, runtime.adminToken, text)).rows[0];
    } catch (e) {
      // The admin's own error (e.g. ADMIN_QUERY_TIMEOUT), without the SQL text.
      const message = (e as Error).message;
      v.queryErrors.push(message.slice(Math.max(0, message.indexOf("HTTP "))).slice(0, 160));
      return undefined;
    }
  };
  const state = await sql(
    "SELECT count(*), sum(CAST(value AS INTEGER)) FROM state WHERE service = 'counter' AND state_key = 'count'",
  );
  if (state !== undefined) [v.stateRows, v.stateSum] = [Number(state[0]), Number(state[1])];
  const statuses = await sql("SELECT sum(status = 'completed'), sum(status = 'suspended') FROM invocations");
  if (statuses !== undefined) [v.completed, v.suspended] = [Number(statuses[0]), Number(statuses[1])];
  return v;
}

async function fill(runtime: RuntimeChild, o: ScaleOptions, s: Scenario, rss: RssSampler): Promise<void> {
  s.checkpoint("ready", 0, 0, rss);
  if (o.suspended > 0) {
    const r = await s.phase(
      runtime,
      o.suspended,
      rangeScripts(
        o.clients,
        0,
        () => ({ path: "/bench/hold/send", body: "null" }),
        (_, status, body) => (status === 202 ? undefined : `hold/send: HTTP ${status} ${body.slice(0, 200)}`),
      ),
    );
    await waitSuspended(runtime, o.suspended);
    s.checkpoint("suspended", 0, o.suspended, rss, r.requestsPerSecond);
  }
  const add = (i: number): { path: string; body: string } => ({
    path: `/counter/${keyOf(i)}/add`,
    body: String(deltaOf(i)),
  });
  const expectAnswer =
    (times: number) =>
    (i: number, status: number, body: string): string | undefined =>
      status !== 200
        ? `add ${keyOf(i)}: HTTP ${status} ${body.slice(0, 200)}`
        : body === String(times * deltaOf(i))
          ? undefined
          : `add ${keyOf(i)}: expected ${times * deltaOf(i)}, got ${body.slice(0, 200)}`;
  for (let from = 0; from < o.keys; from += o.checkpointEvery) {
    const to = Math.min(o.keys, from + o.checkpointEvery);
    const r = await s.phase(runtime, to - from, rangeScripts(o.clients, from, add, expectAnswer(1)));
    s.retained += to - from;
    s.checkpoint("keys", to, o.suspended, rss, r.requestsPerSecond);
  }
  if (o.readds > 0) {
    const r = await s.phase(runtime, o.readds, rangeScripts(o.clients, 0, add, expectAnswer(2)));
    s.retained += o.readds;
    s.checkpoint("re-adds", o.keys, o.suspended, rss, r.requestsPerSecond);
  }
}

/** CPU of everything but the platform and the bench during the fill, in cores. */
function otherLoad(
  platformPids: number[],
  busy0: number,
  own0: number,
  elapsedMs: number,
  busy1: number,
): number {
  const own1 = platformPids.reduce((n, pid) => n + (cpuMsOf(pid) ?? 0), 0);
  return Math.max(0, busy1 - busy0 - (own1 - own0)) / elapsedMs;
}

export async function scaleMain(argv: string[]): Promise<void> {
  const o = parseScaleOptions(argv);
  const workDir = mkdtempSync(path.join(tmpdir(), "capstan-scale-"));
  const dataDir = path.join(workDir, "data");
  const logDir = path.join(workDir, "logs");
  const command = `node bench/dist/src/run.js ${argv.join(" ")}`.trim();
  const date = new Date().toISOString();
  const deadline = performance.now() + o.maxMinutes * 60_000;
  progress(
    `work dir ${workDir}; ${o.keys} keys, ${o.suspended} suspended (timer ${HOLD_MS} ms), ${o.readds} re-adds, ${o.clients} clients`,
  );
  const probeBefore = cpuProbe();
  const s = new Scenario(o, deadline, dataDir);
  const first = await startAndTime(dataDir, logDir, "runtime");
  let runtime = first.runtime;
  const rss = new RssSampler(runtime.pid);
  let probes = 1;
  try {
    const pids = [...processTree(runtime.pid).map((p) => p.pid), process.pid];
    const own0 = pids.reduce((n, pid) => n + (cpuMsOf(pid) ?? 0), 0);
    const busy0 = machineBusyCpuMs();
    const fillStart = performance.now();
    await fill(runtime, o, s, rss);
    const otherLoadCores = otherLoad(pids, busy0, own0, performance.now() - fillStart, machineBusyCpuMs());
    progress(`fill done; other processes used ${otherLoadCores.toFixed(2)} cores meanwhile; SIGKILL`);
    await killPlatform(runtime);
    rss.track(0, "restart");
    const second = await startAndTime(dataDir, logDir, "runtime-restarted");
    runtime = second.runtime;
    probes++;
    rss.track(runtime.pid, "restart");
    rss.sample();
    s.checkpoint("recovered", o.keys, o.suspended, rss);
    rss.track(runtime.pid, "verify");
    const valueOf = (i: number): number => (i < o.readds ? 2 : 1) * deltaOf(i);
    let stateSum = 0;
    for (let i = 0; i < o.keys; i++) stateSum += valueOf(i);
    const verification = await verify(
      runtime,
      o,
      { stateRows: o.keys, stateSum, completed: s.retained + probes, suspended: o.suspended },
      valueOf,
    );
    const report: ScaleReport = {
      command,
      date,
      node: process.version,
      cpus: cpus().length,
      keys: o.keys,
      readds: o.readds,
      suspended: o.suspended,
      clients: o.clients,
      checkpoints: s.checkpoints,
      maxRssMbByPhase: { ...rss.maxByPhase },
      start: first.timings,
      restart: second.timings,
      rssAfterRestartMb: s.checkpoints.at(-1)!.rssMb,
      errors: s.errors,
      errorSamples: s.errorSamples,
      verification,
      otherLoadCores,
      cpuProbe: { before: probeBefore, after: NaN },
    };
    rss.stop();
    await runtime.stop();
    report.cpuProbe.after = cpuProbe();
    writeReport(report, o);
  } finally {
    rss.stop();
    await runtime.stop();
    if (!o.keepData) rmSync(workDir, { recursive: true, force: true });
    else progress(`kept ${workDir}`);
  }
}

function writeReport(report: ScaleReport, o: ScaleOptions): void {
  const checks = scaleTargets(report);
  if (o.jsonFile) writeFileSync(o.jsonFile, JSON.stringify({ ...report, targets: checks }, null, 2));
  const v = report.verification;
  const text = [
    `Produced on ${report.date} (Node ${report.node}, ${report.cpus} CPUs; other processes used ` +
      `${report.otherLoadCores.toFixed(2)} cores during the fill; CPU probe ${report.cpuProbe.before.toFixed(1)} → ` +
      `${report.cpuProbe.after.toFixed(1)} rounds/ms) by \`${report.command}\`: ${report.keys} keys, ` +
      `${report.readds} re-adds, ${report.suspended} suspended, ${report.clients} clients.`,
    "",
    targetsTable(checks),
    "",
    checkpointsTable(report),
    "",
    derivedTable(report),
    ...(v.wrongSamples.length > 0 ? ["", `Wrong values: ${v.wrongSamples.join("; ")}`] : []),
  ].join("\n");
  process.stdout.write(text + "\n");
  if (o.updateReadme) replaceReadmeSection(README, "scale", text);
  if (!checks.every((c) => c.pass)) process.exitCode = 1;
}
