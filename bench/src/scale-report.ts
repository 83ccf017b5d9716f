/**
 * The scale scenario's figures against issue 13's targets, as Markdown tables (printed, and written
 * into bench/README.md with --update-readme). Targets are judged here, never asserted in tests.
 */
import type { TargetCheck } from "./targets";

/** Issue 13 §3, at 500,000 keys and 50,000 suspended invocations. */
export const SCALE_TARGETS = {
  maxRssMb: 250,
  /** RSS growth allowed from GROWTH_FROM_KEYS to GROWTH_TO_KEYS keys. */
  growthMb: 30,
  growthFromKeys: 100_000,
  growthToKeys: 500_000,
  restartMs: 5000,
} as const;

export interface Checkpoint {
  /** What was just done: "ready", "suspended", "keys", "re-adds", "recovered". */
  label: string;
  /** Distinct counter keys written so far (each also left one completed invocation retained). */
  keys: number;
  /** Completed invocations the runtime retains by now (adds and re-adds, by the default retention). */
  retained: number;
  suspended: number;
  /** VmRSS of the runtime when the checkpoint was reached (requests drained), MB. */
  rssMb: number;
  /** Size of the data dir's files (log, stores, WAL; not the handlers' build), MB. */
  diskMb: number;
  /** Highest VmRSS sampled so far in the scenario, MB. */
  maxRssMb: number;
  /** Seconds since the scenario started. */
  elapsedS: number;
  /** Throughput of the segment that ended at this checkpoint. */
  requestsPerSecond: number;
}

export interface Verification {
  /** Counter keys read back through the admin state API, and how many held a wrong value. */
  keysChecked: number;
  wrongKeys: number;
  wrongSamples: string[];
  /** From SQL; undefined when the query failed (then `queryErrors` says why). */
  stateRows?: number;
  stateSum?: number;
  completed?: number;
  suspended?: number;
  queryErrors: string[];
  expected: { stateRows: number; stateSum: number; completed: number; suspended: number };
}

export interface ScaleReport {
  command: string;
  date: string;
  node: string;
  cpus: number;
  keys: number;
  readds: number;
  suspended: number;
  clients: number;
  checkpoints: Checkpoint[];
  /** Highest VmRSS per phase: fill (suspended, keys, re-adds), restart (recovery), verify. */
  maxRssMbByPhase: Record<string, number>;
  /** Fresh start on an empty data dir, then restart after SIGKILL on the full one. */
  start: Timings;
  restart: Timings;
  rssAfterRestartMb: number;
  errors: number;
  errorSamples: string[];
  verification: Verification;
  /** Other processes' CPU during the fill (cores), and the CPU probe before and after (rounds/ms). */
  otherLoadCores: number;
  cpuProbe: { before: number; after: number };
}

export interface Timings {
  /** From spawning `capstan dev` to its "Capstan is running." line. */
  readyLineMs: number;
  /** To the first `GET /health` answering ok. */
  healthMs: number;
  /** To the first ingress request answered correctly (`bench/noop`, a Lambda cold start included). */
  firstIngressMs: number;
}

const f = (n: number | undefined, digits: number): string =>
  n === undefined || Number.isNaN(n) ? "n/a" : n.toFixed(digits);

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/**
 * RSS growth with keys: from the checkpoint nearest the target's start (100,000 keys, or a fifth of a
 * smaller run) to the last, with the slope fitted by least squares over every checkpoint in between
 * (V8 grows its heap in steps, so two samples alone move by tens of MB).
 */
export function growth(
  r: ScaleReport,
): { from: Checkpoint; to: Checkpoint; bytesPerKey: number } | undefined {
  const withKeys = r.checkpoints.filter((c) => c.label === "keys");
  const to = withKeys.at(-1);
  if (to === undefined) return undefined;
  const wanted = Math.min(SCALE_TARGETS.growthFromKeys, Math.floor(to.keys / 5));
  const points = withKeys.filter((c) => c.keys >= wanted);
  const from = points[0];
  if (from === undefined || points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((a, c) => a + c.keys, 0) / n;
  const my = points.reduce((a, c) => a + c.rssMb, 0) / n;
  const sxy = points.reduce((a, c) => a + (c.keys - mx) * (c.rssMb - my), 0);
  const sxx = points.reduce((a, c) => a + (c.keys - mx) ** 2, 0);
  return { from, to, bytesPerKey: (sxy / sxx) * 1024 * 1024 };
}

export function scaleTargets(r: ScaleReport): TargetCheck[] {
  const t = SCALE_TARGETS;
  const maxRss = Math.max(...Object.values(r.maxRssMbByPhase));
  const g = growth(r);
  const fullSize = r.keys >= t.growthToKeys;
  const span = t.growthToKeys - t.growthFromKeys;
  const growthValue =
    g === undefined
      ? undefined
      : fullSize
        ? g.to.rssMb - g.from.rssMb
        : (g.bytesPerKey * span) / (1024 * 1024);
  const v = r.verification;
  const e = v.expected;
  const countsExact =
    v.queryErrors.length === 0 &&
    v.stateRows === e.stateRows &&
    v.stateSum === e.stateSum &&
    v.completed === e.completed &&
    v.suspended === e.suspended;
  return [
    {
      figure: `runtime RSS, highest VmRSS sampled (every 100 ms) in any phase`,
      value: `${f(maxRss, 1)} MB (${Object.entries(r.maxRssMbByPhase)
        .map(([p, mb]) => `${p} ${f(mb, 1)}`)
        .join(", ")})`,
      target: `≤ ${t.maxRssMb} MB`,
      pass: maxRss <= t.maxRssMb,
    },
    {
      figure: fullSize
        ? `runtime RSS growth from ${g?.from.keys ?? "?"} to ${g?.to.keys ?? "?"} keys`
        : `runtime RSS growth over ${span} keys, projected from ${g?.from.keys ?? "?"} → ${g?.to.keys ?? "?"} keys (run smaller than the target's)`,
      value: `${f(growthValue, 1)} MB (${f(g?.bytesPerKey, 0)} B per key with its retained invocation)`,
      target: `≤ ${t.growthMb} MB`,
      pass: growthValue !== undefined && growthValue <= t.growthMb,
    },
    {
      figure: "restart after SIGKILL: spawn → first ingress request answered",
      value: `${f(r.restart.firstIngressMs, 0)} ms (ready line ${f(r.restart.readyLineMs, 0)}, /health ${f(r.restart.healthMs, 0)}; fresh start ${f(r.start.firstIngressMs, 0)})`,
      target: `≤ ${t.restartMs} ms`,
      pass: r.restart.firstIngressMs <= t.restartMs,
    },
    {
      figure: "every key's value exact after restart (admin state API)",
      value:
        `${v.keysChecked - v.wrongKeys}/${v.keysChecked} keys exact` +
        (v.wrongSamples.length > 0 ? ` (${v.wrongSamples[0]!})` : ""),
      target: `all ${r.keys} keys`,
      pass: v.wrongKeys === 0 && v.keysChecked === r.keys,
    },
    {
      figure: "counts exact after restart (admin SQL: counter state rows and sum, completed, suspended)",
      value:
        `rows ${v.stateRows ?? "n/a"}/${e.stateRows}, sum ${v.stateSum ?? "n/a"}/${e.stateSum}, ` +
        `completed ${v.completed ?? "n/a"}/${e.completed}, suspended ${v.suspended ?? "n/a"}/${e.suspended}` +
        (v.queryErrors.length > 0 ? `; ${v.queryErrors.join("; ")}` : ""),
      target: "all exact",
      pass: countsExact,
    },
    {
      figure: "errors (failed or wrong ingress answers during the fill)",
      value: String(r.errors) + (r.errorSamples.length > 0 ? ` (${r.errorSamples[0]!.slice(0, 120)})` : ""),
      target: "0",
      pass: r.errors === 0,
    },
  ];
}

export function checkpointsTable(r: ScaleReport): string {
  return table(
    [
      "after",
      "keys",
      "retained completed",
      "suspended",
      "VmRSS MB",
      "max VmRSS MB so far",
      "data dir MB",
      "elapsed s",
      "req/s (segment)",
    ],
    r.checkpoints.map((c) => [
      c.label,
      String(c.keys),
      String(c.retained),
      String(c.suspended),
      f(c.rssMb, 1),
      f(c.maxRssMb, 1),
      f(c.diskMb, 1),
      f(c.elapsedS, 0),
      f(c.requestsPerSecond, 0),
    ]),
  );
}

/**
 * Memory per item from the RSS steps between checkpoints: suspended invocations (ready → suspended),
 * a key with its retained invocation (the keys' growth), a retained invocation alone (the re-adds:
 * new completed invocations on existing keys), hence a key's state alone by difference.
 */
export function derivedTable(r: ScaleReport): string {
  const at = (label: string): Checkpoint | undefined => r.checkpoints.filter((c) => c.label === label).at(-1);
  const per = (a: Checkpoint | undefined, b: Checkpoint | undefined, n: number): number | undefined =>
    a === undefined || b === undefined || n <= 0 ? undefined : ((b.rssMb - a.rssMb) * 1024 * 1024) / n;
  const suspended = per(at("ready"), at("suspended"), r.suspended);
  const keyWithInvocation = growth(r)?.bytesPerKey;
  const retained = per(at("keys"), at("re-adds"), r.readds);
  const keyState =
    keyWithInvocation === undefined || retained === undefined ? undefined : keyWithInvocation - retained;
  return table(
    ["item", "runtime RSS per item (bytes)", "from"],
    [
      ["suspended invocation (1-hour timer)", f(suspended, 0), "ready → suspended"],
      ["counter key + its completed invocation", f(keyWithInvocation, 0), "keys checkpoints (growth)"],
      ["retained completed invocation alone", f(retained, 0), "last keys checkpoint → re-adds"],
      ["counter key's state alone (difference)", f(keyState, 0), "the two rows above"],
    ],
  );
}
