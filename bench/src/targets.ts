/**
 * The targets, for handlers behind the local Lambda endpoint, judged against the plain
 * server measured in the same run, just before each measured target run.
 */
import type { RunResult } from "./measure";

export interface ModeSummary {
  mode: string;
  /** RSS of each process once ready, before any load (no Lambda worker started yet), MB. */
  readyRssMb: Record<string, number>;
  /** Peak RSS (VmHWM) of each process over the whole mode, MB. */
  peakRssMb: Record<string, number>;
  /** How each child ended when stopped. */
  exits: Record<string, string>;
  /** Failed or wrong responses during the mode's prewarm. */
  prewarmErrors: number;
  /** cpuProbe() before the mode's processes start and after they stop (machine speed). */
  cpuProbe: { before: number; after: number };
}

export interface TargetCheck {
  figure: string;
  value: string;
  target: string;
  pass: boolean;
}

/** The modes with handlers behind the local Lambda endpoint, each judged on its own. */
export const LAMBDA_MODES: readonly string[] = ["lambda", "lambda-managed"];
const RUNTIME_RSS_LIMIT_MB = 200;
/** Above this, another process took a noticeable share of the 2 cores during a run. */
const OTHER_LOAD_WARN_CORES = 0.15;

function find(results: RunResult[], mode: string, workload: string, clients: number): RunResult | undefined {
  return results.find((r) => r.mode === mode && r.workload === workload && r.clients === clients);
}

const fmt = (n: number | undefined, digits = 2): string =>
  n === undefined || Number.isNaN(n) ? "n/a" : n.toFixed(digits);

export function checkTargets(results: RunResult[], modes: ModeSummary[], loadClients: number): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const mode of LAMBDA_MODES.filter((m) => results.some((r) => r.mode === m)))
    checks.push(...modeTargets(results, modes, mode, loadClients));
  const errors =
    results.reduce((s, r) => s + r.errors + (r.invokeFailures ?? 0), 0) +
    results.reduce((s, r) => s + (r.pairs ?? []).reduce((n, p) => n + p.referenceErrors, 0), 0) +
    modes.reduce((s, m) => s + m.prewarmErrors, 0);
  checks.push({
    figure: "errors (failed/wrong responses + runtime invoke failures, all modes, incl. prewarm and warm-up)",
    value: String(errors),
    target: "0",
    pass: errors === 0,
  });
  const badExits = modes.flatMap((m) =>
    Object.entries(m.exits)
      .filter(([, how]) => how !== "exit 0")
      .map(([role, how]) => `${m.mode}/${role}: ${how}`),
  );
  checks.push({
    figure: "children stopped cleanly on SIGTERM",
    value: badExits.length === 0 ? "all exit 0" : badExits.join(", "),
    target: "all exit 0",
    pass: badExits.length === 0,
  });
  const noisy = results.filter((r) => r.otherCpuCores > OTHER_LOAD_WARN_CORES);
  checks.push({
    figure: `runs disturbed by other processes (> ${OTHER_LOAD_WARN_CORES} core busy outside the bench)`,
    value: noisy.length === 0 ? "none" : noisy.map((r) => `${r.mode} ${r.workload} @${r.clients}`).join(", "),
    target: "none (else rerun on a quiet machine)",
    pass: noisy.length === 0,
  });
  return checks;
}

/** The per-mode targets for one Lambda mode: throughput ratios, invocations, latency, memory. */
function modeTargets(
  results: RunResult[],
  modes: ModeSummary[],
  mode: string,
  loadClients: number,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const ratio = (workload: string, min: number): void => {
    const pairs = find(results, mode, workload, loadClients)?.pairs ?? [];
    const shares = pairs.map((p) => p.requestsPerSecond / p.referencePerSecond).sort((a, b) => a - b);
    const median = shares[Math.floor(shares.length / 2)];
    const each = pairs
      .map((p) => `${fmt(p.requestsPerSecond, 0)} / ${fmt(p.referencePerSecond, 0)}`)
      .join(", ");
    checks.push({
      figure: `${mode} ${workload} @${loadClients} req/s vs plain noop @${loadClients} just before (median of ${pairs.length} pairs)`,
      value: median === undefined ? "not run" : `${fmt(median * 100)}% (${each})`,
      target: `≥ ${min * 100}%`,
      pass: median !== undefined && median >= min,
    });
  };
  ratio("noop", 0.08);
  ratio("counter-spread", 0.06);
  ratio("steps", 0.025);
  const perRequest = (workload: string, label: string, ok: (x: number) => boolean): void => {
    const runs = results.filter((r) => r.mode === mode && r.workload === workload);
    for (const r of runs) {
      checks.push({
        figure: `${mode} ${workload} @${r.clients} handler invocations / request`,
        value: fmt(r.invocationsPerRequest, 3),
        target: label,
        pass: r.invocationsPerRequest !== undefined && ok(r.invocationsPerRequest),
      });
    }
  };
  perRequest("steps", "= 1", (x) => x === 1);
  perRequest("sleeper", "≤ 2", (x) => x <= 2);
  perRequest("fanout", "= 11", (x) => x === 11);
  for (const r of results.filter((x) => x.mode === mode && x.workload === "sleeper")) {
    checks.push({
      figure: `${mode} sleeper @${r.clients} p50`,
      value: `${fmt(r.p50Ms, 1)} ms`,
      target: "100 ± 10 ms",
      pass: Math.abs(r.p50Ms - 100) <= 10,
    });
  }
  const lambdaMode = modes.find((m) => m.mode === mode);
  if (lambdaMode) {
    const rss = lambdaMode.peakRssMb["runtime"];
    checks.push({
      figure: `${mode} runtime process peak RSS (VmHWM, whole run; handlers run in the local Lambda process)`,
      value: `${fmt(rss, 1)} MB`,
      target: `≤ ${RUNTIME_RSS_LIMIT_MB} MB`,
      pass: rss !== undefined && rss <= RUNTIME_RSS_LIMIT_MB,
    });
  }
  return checks;
}
