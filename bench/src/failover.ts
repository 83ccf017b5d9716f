/**
 * The failover scenario (issue 14 §2 targets): how long a node's partitions are without a leader
 * after it stops. DynamoDB Local and the S3 stand-in (aws-stand-ins-child.ts), the bench services as
 * an HTTP deployment, and FAILOVER_NODES `capstan serve` nodes as real processes (failover-nodes.ts)
 * at the default lease, under a light background load (failover-load.ts). Each round SIGTERMs a node
 * that leads partitions, then — once it is back and the partitions are spread again — SIGKILLs one,
 * and measures per moved partition, from the signal:
 *
 * (a) until `GET /cluster` on a surviving node names a new leader (polled every POLL_MS);
 * (b) until a request to a key of that partition is answered 200 through every surviving node. Only
 *     requests sent after (a) count, so an answer from the old leader finishing its hand-over is
 *     never taken for the new leader's; (b) is therefore an upper bound by up to one poll.
 *
 * Judged against the targets in failover-report.ts; exit code 1 when one fails.
 *
 * Usage: node bench/dist/src/run.js --scenario failover [--rounds 3] [--lease-ms 10000]
 *   [--partitions 16] [--clients 4] [--kinds SIGTERM,SIGKILL] [--json-file out.json]
 *   [--update-readme] [--keep-data]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { partitionOfTarget } from "@capstan/sdk/protocol";
import { registerDeployment } from "./admin";
import { REPO_ROOT, startServerChild, type Child } from "./children";
import { BackgroundLoad } from "./failover-load";
import { FAILOVER_NODES, FailoverNodes } from "./failover-nodes";
import {
  failoverTargets,
  movesTable,
  summaryTable,
  type FailoverKind,
  type FailoverMove,
  type FailoverReport,
  type MovedPartition,
} from "./failover-report";
import { replaceReadmeSection, targetsTable } from "./report";

const README = path.join(REPO_ROOT, "bench/README.md");
/** The runtime's default lease (DEFAULT_LEASE_DURATION_MS in runtime/src/cluster/lease-coordinator.ts). */
const DEFAULT_LEASE_MS = 10_000;
/** The runtime's default partition count (DEFAULT_PARTITIONS in runtime/src/config/config.ts). */
const DEFAULT_PARTITIONS = 16;
/** How often each surviving node's `/cluster` is read while partitions move. */
const POLL_MS = 50;
/** Pause between two probes of a partition through a node after a refusal. */
const PROBE_RETRY_MS = 50;
const PROBE_TIMEOUT_MS = 30_000;
/** Past the lease: a move not done by then is reported as never served. */
const MOVE_GRACE_MS = 60_000;
/** The spread-out cluster after a start or restart (lease ticks, loads, hand-overs). */
const BALANCE_TIMEOUT_MS = 180_000;
const KINDS: readonly FailoverKind[] = ["SIGTERM", "SIGKILL"];

interface FailoverOptions {
  rounds: number;
  leaseMs: number;
  partitions: number;
  clients: number;
  kinds: FailoverKind[];
  jsonFile?: string;
  updateReadme: boolean;
  keepData: boolean;
}

function parseFailoverOptions(argv: string[]): FailoverOptions {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name} must be an integer in [${min}, ${max}]`);
    return n;
  };
  const kinds = (value("kinds") ?? KINDS.join(",")).split(",");
  for (const k of kinds)
    if (!KINDS.includes(k as FailoverKind))
      throw new Error(`--kinds: ${k} is not one of ${KINDS.join(", ")}`);
  return {
    rounds: int("rounds", 3, 1, 100),
    // The runtime's own bounds of CAPSTAN_LEASE_MS (MIN_LEASE_MS, MAX_LEASE_MS).
    leaseMs: int("lease-ms", DEFAULT_LEASE_MS, 300, 600_000),
    partitions: int("partitions", DEFAULT_PARTITIONS, FAILOVER_NODES, 1024),
    clients: int("clients", 4, 1, 64),
    kinds: kinds as FailoverKind[],
    ...(value("json-file") !== undefined && { jsonFile: value("json-file")! }),
    updateReadme: argv.includes("--update-readme"),
    keepData: argv.includes("--keep-data"),
  };
}

const progress = (s: string): void => void process.stderr.write(`[failover] ${s}\n`);

/** A `counter` key of each partition (the runtime hashes object keys to partitions the same way). */
function keysByPartition(partitions: number): string[] {
  const keys: Array<string | undefined> = new Array(partitions);
  let found = 0;
  for (let i = 0; found < partitions; i++) {
    const key = `probe-${i}`;
    const p = partitionOfTarget({ service: "counter", handler: "add", key }, undefined, partitions)!;
    if (keys[p] === undefined) {
      keys[p] = key;
      found++;
    }
  }
  return keys as string[];
}

/** POSTs counter adds to `key` through `ingressUrl` until one answers 200; resolves with its answer time. */
async function probeUntilServed(ingressUrl: string, key: string, until: number): Promise<number | undefined> {
  while (performance.now() < until) {
    try {
      const res = await fetch(`${ingressUrl}/counter/${key}/add`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "1",
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // Refused or timed out: the partition is not served through this node yet.
    }
    await delay(PROBE_RETRY_MS);
  }
  return undefined;
}

/** Signals `victim`, measures every partition it led, and waits until each one served again. */
async function measureMove(
  nodes: FailoverNodes,
  load: BackgroundLoad,
  keys: string[],
  o: FailoverOptions,
  kind: FailoverKind,
  round: number,
  victim: number,
): Promise<FailoverMove> {
  const victimId = nodes.nodeId(victim);
  const before = await nodes.cluster(victim);
  const led = (before?.partitions ?? []).filter((p) => p.state === "leading").map((p) => p.partition);
  if (led.length === 0) throw new Error(`${victimId} leads no partition`);
  const survivors = nodes.running().filter((i) => i !== victim);
  load.remove(nodes.ingressUrl(victim));
  load.take();
  const loadAverage = loadavg();
  const t0 = performance.now();
  const exited = nodes.signal(victim, kind).then(() => performance.now() - t0);
  const until = t0 + o.leaseMs + MOVE_GRACE_MS;
  const moved = new Map<number, MovedPartition>(
    led.map((p) => [p, { partition: p, serveMsByNode: {} }] as const),
  );
  const probes: Promise<void>[] = [];
  const startProbes = (m: MovedPartition): void => {
    for (const s of survivors) {
      const nodeId = nodes.nodeId(s);
      probes.push(
        probeUntilServed(nodes.ingressUrl(s), keys[m.partition]!, until).then((at) => {
          m.serveMsByNode[nodeId] = at === undefined ? undefined : at - t0;
        }),
      );
    }
  };
  while (performance.now() < until && [...moved.values()].some((m) => m.clusterMs === undefined)) {
    const views = await Promise.all(survivors.map((s) => nodes.cluster(s)));
    const now = performance.now() - t0;
    for (const v of views) {
      for (const p of v?.partitions ?? []) {
        const m = moved.get(p.partition);
        if (m === undefined || m.clusterMs !== undefined) continue;
        if (p.leader === undefined || p.leader === victimId) continue;
        if (p.state !== "leading" && p.state !== "elsewhere") continue;
        m.clusterMs = now;
        m.newLeader = p.leader;
        startProbes(m);
      }
    }
    await delay(POLL_MS);
  }
  await Promise.all(probes);
  for (const m of moved.values()) {
    const times = survivors.map((s) => m.serveMsByNode[nodes.nodeId(s)]);
    if (times.length > 0 && times.every((t) => t !== undefined)) m.serveMs = Math.max(...times);
  }
  const victimExitMs = await exited;
  return {
    kind,
    round,
    victim: victimId,
    loadAverage,
    victimExitMs,
    partitions: [...moved.values()],
    load: load.take(),
  };
}

export async function failoverMain(argv: string[]): Promise<void> {
  const o = parseFailoverOptions(argv);
  const workDir = mkdtempSync(path.join(tmpdir(), "capstan-failover-"));
  const logDir = path.join(workDir, "logs");
  const command = `node bench/dist/src/run.js ${argv.join(" ")}`.trim();
  const date = new Date().toISOString();
  progress(`work dir ${workDir}; lease ${o.leaseMs} ms, ${o.partitions} partitions, ${o.rounds} rounds`);
  const children: Child[] = [];
  let nodes: FailoverNodes | undefined;
  const load = new BackgroundLoad(o.clients, `load-${Date.now().toString(36)}`);
  try {
    const aws = await startServerChild("aws-stand-ins", "aws-stand-ins-child.js", logDir);
    children.push(aws);
    const sdk = await startServerChild("http-sdk", "http-deployment-child.js", logDir);
    children.push(sdk);
    nodes = await FailoverNodes.plan({
      workDir,
      dynamodbEndpoint: aws.url,
      s3Endpoint: String(aws.ready.s3),
      partitions: o.partitions,
      leaseMs: o.leaseMs,
    });
    for (let i = 0; i < nodes.size; i++) {
      progress(`starting ${nodes.nodeId(i)}`);
      await nodes.start(i);
    }
    await registerDeployment(nodes.adminUrl(0), nodes.adminToken, sdk.url);
    await nodes.waitBalanced(BALANCE_TIMEOUT_MS);
    for (let i = 0; i < nodes.size; i++) load.add(nodes.ingressUrl(i));
    load.start();
    const keys = keysByPartition(o.partitions);
    const moves: FailoverMove[] = [];
    let next = 0;
    for (let round = 0; round < o.rounds; round++) {
      for (const kind of o.kinds) {
        const victim = next++ % nodes.size;
        progress(
          `round ${round + 1}: ${kind} ${nodes.nodeId(victim)} (load average ${loadavg()[0]!.toFixed(2)})`,
        );
        const move = await measureMove(nodes, load, keys, o, kind, round, victim);
        moves.push(move);
        const serve = move.partitions.map((p) => p.serveMs ?? Infinity);
        progress(
          `  ${move.partitions.length} partitions: /cluster max ${Math.max(...move.partitions.map((p) => p.clusterMs ?? Infinity)).toFixed(0)} ms, ` +
            `serve max ${Math.max(...serve).toFixed(0)} ms, victim exited after ${move.victimExitMs.toFixed(0)} ms, ` +
            `load ${move.load.ok} ok / ${move.load.errors} errors${move.load.errors > 0 ? ` (${move.load.errorSamples[0]})` : ""}`,
        );
        await nodes.start(victim);
        load.add(nodes.ingressUrl(victim));
        await nodes.waitBalanced(BALANCE_TIMEOUT_MS);
      }
    }
    await load.stop();
    writeReport(
      {
        command,
        date,
        node: process.version,
        cpus: cpus().length,
        leaseMs: o.leaseMs,
        partitions: o.partitions,
        clients: o.clients,
        moves,
      },
      o,
    );
  } finally {
    await load.stop();
    await nodes?.killAll();
    for (const c of children.reverse()) await c.stop();
    if (!o.keepData) rmSync(workDir, { recursive: true, force: true });
    else progress(`kept ${workDir}`);
  }
}

function writeReport(report: FailoverReport, o: FailoverOptions): void {
  const checks = failoverTargets(report);
  if (o.jsonFile) writeFileSync(o.jsonFile, JSON.stringify({ ...report, targets: checks }, null, 2));
  const text = [
    `Produced on ${report.date} (Node ${report.node}, ${report.cpus} CPUs, load average ` +
      `${loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")} at the end) by \`${report.command}\`: ${FAILOVER_NODES} nodes, lease ` +
      `${report.leaseMs} ms, ${report.partitions} partitions, ${report.clients} load clients.`,
    "",
    targetsTable(checks),
    "",
    summaryTable(report),
    "",
    movesTable(report),
  ].join("\n");
  process.stdout.write(text + "\n");
  if (o.updateReadme) replaceReadmeSection(README, "failover", text);
  if (!checks.every((c) => c.pass)) process.exitCode = 1;
}
