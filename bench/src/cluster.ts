/**
 * The bench's `cluster` mode (issue 14 §6): `capstan dev --nodes 3 --no-watch` as a child — the dev
 * cluster launcher itself (runtime/src/dev/dev-cluster.ts), not a second one: DynamoDB Local, the S3
 * stand-in, the local Lambda endpoint with the bench functions, and CLUSTER_NODES `capstan serve`
 * processes on CAPSTAN_STORE=dynamodb. The nodes' DynamoDB traffic goes through the metering proxy
 * (dynamodb-meter-child.ts, via dynamodb-meter-preload.ts) so write units per request can be read.
 * The load generator sends each request to the next node's ingress (round-robin).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { startRuntimeChild, startServerChild, type Child } from "./children";
import { processTree } from "./proc-stats";
import type { MeasuredProcess } from "./measure";

/** How many runtime nodes the cluster mode runs (the 3). */
export const CLUSTER_NODES = 3;
/** Where base ports for the cluster's listeners are looked for (node i takes base + i). */
const PORT_RANGE = { low: 20_000, high: 60_000 };
const PORT_ATTEMPTS = 200;
/** DynamoDB Local's JVM, then the nodes one after another, then the partitions spreading. */
const CLUSTER_READY_TIMEOUT_MS = 300_000;

export interface ClusterDeployment {
  ingressUrls: string[];
  adminUrls: string[];
  adminToken: string;
  meterUrl: string;
  children: Child[];
  processes: MeasuredProcess[];
}

export interface DynamoDbMeter {
  /** Requests per DynamoDB operation, since the meter started. */
  requests: Record<string, number>;
  /** Write units DynamoDB Local reported, per operation. */
  writeUnits: Record<string, number>;
}

export async function readMeter(meterUrl: string): Promise<DynamoDbMeter> {
  const res = await fetch(`${meterUrl}/__meter`);
  if (res.status !== 200) throw new Error(`dynamodb meter: HTTP ${res.status}`);
  return (await res.json()) as DynamoDbMeter;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * Base ports for the listeners, each with CLUSTER_NODES free consecutive ports and no overlap (the
 * dev cluster checks them again and refuses to start on a clash).
 */
async function freeBases(count: number): Promise<number[]> {
  const taken = new Set<number>();
  const bases: number[] = [];
  for (let attempt = 0; bases.length < count && attempt < PORT_ATTEMPTS; attempt++) {
    const base = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low));
    const ports = Array.from({ length: CLUSTER_NODES }, (_, i) => base + i);
    if (ports.some((p) => taken.has(p))) continue;
    let free = true;
    for (const p of ports) if (!(await bindable(p))) free = false;
    if (!free) continue;
    ports.forEach((p) => taken.add(p));
    bases.push(base);
  }
  if (bases.length < count) throw new Error("no free ports for the cluster's listeners");
  return bases;
}

/** Starts the metering proxy and the dev cluster; resolves once every node answers. */
export async function startCluster(options: {
  handlersDir: string;
  workDir: string;
  env?: NodeJS.ProcessEnv;
}): Promise<ClusterDeployment> {
  const logDir = path.join(options.workDir, "logs");
  const upstreamFile = path.join(options.workDir, "dynamodb-upstream");
  const meter = await startServerChild("dynamodb-meter", "dynamodb-meter-child.js", logDir, {
    BENCH_DYNAMODB_UPSTREAM_FILE: upstreamFile,
  });
  const [ingress, admin, checkpoint, peer, lambda] = await freeBases(5);
  const adminToken = randomBytes(24).toString("base64url");
  let dev: Child;
  try {
    dev = await startRuntimeChild({
      role: "dev",
      handlersDir: options.handlersDir,
      dataDir: path.join(options.workDir, "data"),
      logDir,
      nodeArgs: ["-r", path.join(__dirname, "dynamodb-meter-preload.js")],
      devArgs: ["--nodes", String(CLUSTER_NODES)],
      ports: { ingress: ingress!, admin: admin!, checkpoint: checkpoint!, peer: peer!, lambda: lambda! },
      adminToken,
      readyLine: "Capstan is running:",
      readyTimeoutMs: CLUSTER_READY_TIMEOUT_MS,
      env: {
        ...options.env,
        BENCH_DYNAMODB_METER_URL: meter.url,
        BENCH_DYNAMODB_UPSTREAM_FILE: upstreamFile,
      },
    });
  } catch (e) {
    await meter.stop();
    throw e;
  }
  const processes: MeasuredProcess[] = processTree(dev.pid).map((p) => ({
    role: roleOf(p.pid, p.comm, dev.pid),
    pid: p.pid,
  }));
  processes.push({ role: "dynamodb-meter", pid: meter.pid });
  const nodes = (base: number): string[] =>
    Array.from({ length: CLUSTER_NODES }, (_, i) => `http://127.0.0.1:${base + i}`);
  return {
    ingressUrls: nodes(ingress!),
    adminUrls: nodes(admin!),
    adminToken,
    meterUrl: meter.url,
    // The dev process stops its nodes, then DynamoDB Local; the meter after them.
    children: [dev, meter],
    processes,
  };
}

/** `dev` (launcher, S3 stand-in), `node-i` (a `capstan serve`), `lambda`, `dynamodb-local`, … */
function roleOf(pid: number, comm: string, devPid: number): string {
  if (pid === devPid) return "dev";
  if (comm === "java") return "dynamodb-local";
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    // Gone already.
  }
  const env = (() => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    } catch {
      return [];
    }
  })();
  const nodeId = env.find((e) => e.startsWith("CAPSTAN_NODE_ID="))?.slice("CAPSTAN_NODE_ID=".length);
  if (cmdline.includes(" serve") && nodeId !== undefined) return nodeId;
  return comm === "node" ? "lambda-endpoint" : comm;
}
