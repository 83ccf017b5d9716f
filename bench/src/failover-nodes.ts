/**
 * The failover scenario's runtime nodes: FAILOVER_NODES `capstan serve` processes (the built CLI, as
 * a container runs it) on CAPSTAN_STORE=dynamodb, one table and bucket, sharing every secret as a
 * cluster must. Unlike `capstan dev --nodes`, nothing supervises them: the scenario itself SIGTERMs
 * or SIGKILLs a node and starts it again when it chooses (the dev launcher restarts a dead node after
 * a second, which would turn a SIGKILL failover into a restart). Each node keeps its ports and data
 * directory across restarts; node 0 creates the table and bucket (`--create-table`).
 */
import { randomBytes, generateKeyPairSync } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { REPO_ROOT, freePort } from "./children";

/** How many nodes the scenario runs (the 3). */
export const FAILOVER_NODES = 3;
const CLI = path.join(REPO_ROOT, "runtime/dist/cli/main.js");
const TABLE = "capstan-failover-bench";
const BUCKET = "capstan-failover-bench";
/** A node's start on a loaded machine (the first one creates the table). */
const READY_TIMEOUT_MS = 120_000;
const POLL_MS = 100;
const ADMIN_REQUEST_TIMEOUT_MS = 5_000;

/** `GET /cluster` as the admin API answers it (cluster-names.md). */
export interface ClusterView {
  nodeId: string;
  nodes: Array<{ nodeId: string; pid: number; live: boolean }>;
  partitions: Array<{ partition: number; leader?: string; epoch?: number; state: string }>;
}

interface NodeSlot {
  index: number;
  nodeId: string;
  ingressUrl: string;
  adminUrl: string;
  env: NodeJS.ProcessEnv;
  proc?: ChildProcess;
  exited?: Promise<void>;
  starts: number;
}

export class FailoverNodes {
  readonly adminToken = randomBytes(24).toString("base64url");
  private readonly slots: NodeSlot[] = [];

  private constructor(private readonly logDir: string) {}

  /** Chooses each node's ports and environment; starts nothing. */
  static async plan(options: {
    workDir: string;
    dynamodbEndpoint: string;
    s3Endpoint: string;
    partitions: number;
    leaseMs: number;
  }): Promise<FailoverNodes> {
    const logDir = path.join(options.workDir, "logs");
    mkdirSync(logDir, { recursive: true });
    const nodes = new FailoverNodes(logDir);
    const shared: NodeJS.ProcessEnv = {
      CAPSTAN_STORE: "dynamodb",
      CAPSTAN_DYNAMODB_TABLE: TABLE,
      CAPSTAN_DYNAMODB_ENDPOINT: options.dynamodbEndpoint,
      CAPSTAN_S3_BUCKET: BUCKET,
      CAPSTAN_S3_ENDPOINT: options.s3Endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      CAPSTAN_HOST: "127.0.0.1",
      CAPSTAN_PARTITIONS: String(options.partitions),
      CAPSTAN_LEASE_MS: String(options.leaseMs),
      CAPSTAN_CLUSTER_KEY: randomBytes(32).toString("base64"),
      CAPSTAN_ATTEMPT_KEY: randomBytes(32).toString("base64"),
      CAPSTAN_ADMIN_TOKEN: nodes.adminToken,
      CAPSTAN_IDENTITY_PRIVATE_KEY: generateKeyPairSync("ed25519")
        .privateKey.export({ format: "pem", type: "pkcs8" })
        .toString(),
      // Timestamped lines: each node logs its partition moves with their durations.
      CAPSTAN_LOG_FORMAT: "json",
      // Light load, memory irrelevant here: completed invocations are not kept.
      CAPSTAN_COMPLETED_RETENTION_MS: "0",
    };
    for (let i = 0; i < FAILOVER_NODES; i++) {
      const [ingress, admin, checkpoint, peer] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const nodeId = `node-${i}`;
      nodes.slots.push({
        index: i,
        nodeId,
        ingressUrl: `http://127.0.0.1:${ingress}`,
        adminUrl: `http://127.0.0.1:${admin}`,
        starts: 0,
        env: {
          ...process.env,
          ...shared,
          CAPSTAN_NODE_ID: nodeId,
          CAPSTAN_INGRESS_PORT: String(ingress),
          CAPSTAN_ADMIN_PORT: String(admin),
          CAPSTAN_CHECKPOINT_PORT: String(checkpoint),
          CAPSTAN_PEER_PORT: String(peer),
          CAPSTAN_DATA_DIR: path.join(options.workDir, "nodes", nodeId),
        },
      });
    }
    return nodes;
  }

  get size(): number {
    return this.slots.length;
  }

  nodeId(i: number): string {
    return this.slot(i).nodeId;
  }

  ingressUrl(i: number): string {
    return this.slot(i).ingressUrl;
  }

  adminUrl(i: number): string {
    return this.slot(i).adminUrl;
  }

  /** The indices of the nodes whose process runs. */
  running(): number[] {
    return this.slots.filter((s) => isRunning(s.proc)).map((s) => s.index);
  }

  /** Starts node i and resolves once its `/health/ready` answers 200. */
  async start(i: number): Promise<void> {
    const s = this.slot(i);
    if (isRunning(s.proc)) throw new Error(`${s.nodeId} is already running`);
    s.starts++;
    const log = createWriteStream(path.join(this.logDir, `${s.nodeId}.${s.starts}.log`));
    const args = [CLI, "serve", ...(i === 0 ? ["--create-table"] : [])];
    const proc = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: s.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    proc.stdout.pipe(log, { end: false });
    proc.stderr.pipe(log, { end: false });
    s.proc = proc;
    s.exited = new Promise<void>((resolve) =>
      proc.once("exit", () => {
        log.end();
        resolve();
      }),
    );
    const deadline = performance.now() + READY_TIMEOUT_MS;
    while (performance.now() < deadline) {
      if (!isRunning(proc)) throw new Error(`${s.nodeId} exited while starting; see ${this.logDir}`);
      if ((await this.status(s.adminUrl, "/health/ready")) === 200) return;
      await delay(POLL_MS);
    }
    throw new Error(`${s.nodeId} was not ready within ${READY_TIMEOUT_MS} ms; see ${this.logDir}`);
  }

  /** Sends `signal` to node i; resolves at once with a promise of its exit. */
  signal(i: number, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    const s = this.slot(i);
    if (s.proc === undefined || !isRunning(s.proc)) throw new Error(`${s.nodeId} is not running`);
    s.proc.kill(signal);
    return s.exited!;
  }

  /** `GET /cluster` on node i; undefined when it does not answer. */
  async cluster(i: number): Promise<ClusterView | undefined> {
    try {
      const res = await fetch(`${this.slot(i).adminUrl}/cluster`, {
        headers: { authorization: `Bearer ${this.adminToken}` },
        signal: AbortSignal.timeout(ADMIN_REQUEST_TIMEOUT_MS),
      });
      if (res.status !== 200) {
        await res.arrayBuffer();
        return undefined;
      }
      return (await res.json()) as ClusterView;
    } catch {
      return undefined;
    }
  }

  /**
   * Until every running node answers `/cluster` with the same leader for every partition, each a
   * running node that reports it `leading` itself, and every running node leads some partition.
   */
  async waitBalanced(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (await this.balanced()) return;
      await delay(POLL_MS);
    }
    throw new Error(`the nodes did not agree on balanced leaders within ${timeoutMs} ms`);
  }

  private async balanced(): Promise<boolean> {
    const running = this.running();
    const views = await Promise.all(running.map((i) => this.cluster(i)));
    if (views.some((v) => v === undefined)) return false;
    const ids = new Set(running.map((i) => this.slot(i).nodeId));
    const first = views[0]!;
    const leaders = new Set<string>();
    for (const p of first.partitions) {
      if (p.leader === undefined || !ids.has(p.leader)) return false;
      leaders.add(p.leader);
      for (const v of views) {
        const q = v!.partitions.find((x) => x.partition === p.partition);
        if (q?.leader !== p.leader) return false;
        if (v!.nodeId === p.leader && q.state !== "leading") return false;
      }
    }
    return leaders.size === ids.size;
  }

  /** SIGKILLs every node still running (the scenario's end, or its failure). */
  async killAll(): Promise<void> {
    for (const s of this.slots) {
      if (s.proc !== undefined && isRunning(s.proc)) {
        s.proc.kill("SIGKILL");
        await s.exited;
      }
    }
  }

  private async status(base: string, route: string): Promise<number> {
    try {
      const res = await fetch(`${base}${route}`, {
        headers: { authorization: `Bearer ${this.adminToken}` },
        signal: AbortSignal.timeout(ADMIN_REQUEST_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  private slot(i: number): NodeSlot {
    const s = this.slots[i];
    if (s === undefined) throw new Error(`no node ${i}`);
    return s;
  }
}

function isRunning(proc: ChildProcess | undefined): boolean {
  return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
}
