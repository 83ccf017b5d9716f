/**
 * Aggregates the self time of .cpuprofile files (V8's format, written by node --cpu-prof) by
 * function + file, and by area (runtime, sdk, node internals, each dependency).
 *
 * Usage: node bench/dist/src/cpuprofile-summary.js <file-or-dir>... [--top N]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  selfMs: number;
  /** Share of the non-idle time of the profiles summarized. */
  percent: number;
}

export interface ProfileSummary {
  title: string;
  files: string[];
  totalMs: number;
  idleMs: number;
  byFunction: HotSpot[];
  byArea: HotSpot[];
}

const IDLE = "(idle)";

function shortUrl(url: string): string {
  if (url === "") return "";
  const clean = url.replace(/^file:\/\//, "");
  // esbuild bundles of the Lambda functions live in the data dir: name them by function.
  const b = /\/build\/([^/]+)\/[0-9a-f]+\/index\.js$/.exec(clean);
  if (b) return `lambda bundle ${b[1]}`;
  const nm = clean.lastIndexOf("node_modules/");
  if (nm >= 0) return clean.slice(nm);
  for (const root of ["runtime/", "sdk/", "bench/"]) {
    const i = clean.lastIndexOf(`/${root}`);
    if (i >= 0) return clean.slice(i + 1);
  }
  return clean;
}

/** Node's own code, split by what it serves. */
const NODE_AREAS: Array<[RegExp, string]> = [
  [/^node:internal\/deps\/undici/, "node: fetch (undici)"],
  [/^node:internal\/webstreams/, "node: web streams (fetch bodies)"],
  [/^node:(_http|http|internal\/http)/, "node: http"],
  [/^node:(net|internal\/(net|stream_base|tcp))/, "node: net"],
  [/^node:internal\/(bootstrap|modules)|^node:internal\/main/, "node: module loading / thread start"],
  [/^node:internal\/(worker|per_context\/messageport)|^node:worker_threads/, "node: worker messaging"],
  [/^node:internal\/crypto|^node:crypto/, "node: crypto"],
  [/^node:(internal\/)?streams?|^node:stream/, "node: streams"],
  [/^node:internal\/(url|querystring)|^node:url/, "node: url"],
  [/^node:(events|internal\/event_target)/, "node: events"],
  [/^node:internal\/(timers|process\/task_queues)|^node:timers/, "node: timers / ticks"],
];

function areaOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return NODE_AREAS.find(([re]) => re.test(url))?.[1] ?? "node: other";
  const s = shortUrl(url);
  const nm = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(s);
  if (nm) return nm[1]!.startsWith("@capstan/") ? nm[1]!.slice("@capstan/".length) + "/dist" : nm[1]!;
  if (s.startsWith("lambda bundle")) return "lambda bundle (sdk + handler)";
  return s.split("/").slice(0, 2).join("/");
}

function collect(inputs: string[]): string[] {
  return inputs.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith(".cpuprofile"))
          .map((f) => path.join(p, f))
      : [p],
  );
}

/** Node names profiles CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main one. */
const PROFILE_NAME = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/;

function isMainThread(file: string): boolean {
  const m = PROFILE_NAME.exec(path.basename(file));
  return m === null || m[2] === "0";
}

/** The profiles in `inputs` written by process `pid`. */
export function profilesOf(inputs: string[], pid: number): string[] {
  return collect(inputs).filter((f) => PROFILE_NAME.exec(path.basename(f))?.[1] === String(pid));
}

/**
 * One summary for all threads, one for the main thread(s), one for the worker threads.
 *
 * `fromUs`: only samples taken at or after this CLOCK_MONOTONIC time in µs (what
 * `process.hrtime.bigint() / 1000n` reads in any process), to leave out start-up and warm-up.
 */
export function summarizeByThread(inputs: string[], top = 20, fromUs = 0): ProfileSummary[] {
  const files = collect(inputs);
  const main = files.filter(isMainThread);
  const workers = files.filter((f) => !isMainThread(f));
  return [
    summarizeFiles("all threads", files, top, fromUs),
    summarizeFiles("main thread", main, top, fromUs),
    ...(workers.length > 0
      ? [summarizeFiles(`${workers.length} worker thread(s)`, workers, top, fromUs)]
      : []),
  ];
}

export function summarizeProfiles(inputs: string[], top = 25): ProfileSummary {
  return summarizeFiles(inputs.join(", "), collect(inputs), top);
}

function summarizeFiles(title: string, files: string[], top: number, fromUs = 0): ProfileSummary {
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    let atUs = profile.startTime;
    profile.samples.forEach((id, i) => {
      const deltaUs = profile.timeDeltas[i] ?? 0;
      atUs += deltaUs;
      if (atUs < fromUs) return;
      const ms = deltaUs / 1000;
      const frame = byId.get(id);
      if (frame === undefined) return;
      totalMs += ms;
      if (frame.functionName === IDLE) {
        idleMs += ms;
        return;
      }
      const where = frame.url === "" ? "" : ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
      const key = `${frame.functionName || "(anonymous)"}${where}`;
      fn.set(key, (fn.get(key) ?? 0) + ms);
      const a = areaOf(frame.url, frame.functionName);
      area.set(a, (area.get(a) ?? 0) + ms);
    });
  }
  const busy = totalMs - idleMs;
  const rank = (m: Map<string, number>, n: number): HotSpot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, selfMs]) => ({ name, selfMs, percent: busy > 0 ? (selfMs * 100) / busy : 0 }));
  return { title, files, totalMs, idleMs, byFunction: rank(fn, top), byArea: rank(area, 15) };
}

export function formatSummary(title: string, s: ProfileSummary, withFunctions = true): string {
  const busy = s.totalMs - s.idleMs;
  const rows = (list: HotSpot[]): string =>
    list
      .map((h) => `| ${h.percent.toFixed(1)}% | ${h.selfMs.toFixed(0)} | \`${h.name.replace(/\|/g, "/")}\` |`)
      .join("\n");
  return [
    `#### ${title}`,
    "",
    `${s.files.length} profile(s); ${(busy / 1000).toFixed(1)} s on CPU of ${(s.totalMs / 1000).toFixed(1)} s sampled (idle excluded from %).`,
    "",
    "| self % | self ms | area |",
    "| --- | --- | --- |",
    rows(s.byArea),
    "",
    ...(withFunctions
      ? ["| self % | self ms | function (file:line) |", "| --- | --- | --- |", rows(s.byFunction), ""]
      : []),
  ].join("\n");
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const t = args.indexOf("--top");
  const top = t >= 0 ? Number(args[t + 1]) : 25;
  const f = args.indexOf("--from-us");
  const fromUs = f >= 0 ? Number(args[f + 1]) : 0;
  const inputs = args.filter(
    (a, i) => a !== "--top" && a !== "--from-us" && (t < 0 || i !== t + 1) && (f < 0 || i !== f + 1),
  );
  if (inputs.length === 0) {
    process.stderr.write("usage: cpuprofile-summary <file-or-dir>... [--top N] [--from-us <monotonic µs>]\n");
    process.exit(2);
  }
  for (const summary of summarizeByThread(inputs, top, fromUs))
    process.stdout.write(formatSummary(summary.title, summary) + "\n");
}
