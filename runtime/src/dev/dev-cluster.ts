/**
 * `capstan dev --nodes N`: a cluster on one machine, all on 127.0.0.1 — DynamoDB Local (its files
 * under the data dir, `dynamodb/`), the S3 stand-in (`s3/`), the local Lambda endpoint with the
 * functions built as `capstan dev` builds them, and N runtime nodes as separate OS processes
 * (`capstan serve` with CAPSTAN_STORE=dynamodb, node i's ports from dev-nodes.ts, CAPSTAN_NODE_ID
 * `node-i`). All nodes share one cluster key, attempt key, identity key and admin token (a request
 * may land on any node), taken from the data directory like a single node's. Node 0 creates the
 * table and bucket (`--create-table`, idempotent) and starts first; the functions are registered
 * once, through node 0's admin API (the registry is shared through the store). Stopping stops the
 * nodes first (SIGTERM), then the endpoints; a restart finds the same state.
 */
import path from "node:path";
import type { RuntimeConfig } from "../config/config";
import { assertPortsFree } from "../config/ports";
import type { Log } from "../log";
import { readSecret } from "../security/key-files";
import {
  ADMIN_TOKEN_FILE,
  ATTEMPT_KEY_FILE,
  IDENTITY_KEY_FILE,
  loadClusterKey,
  loadNodeCredentials,
} from "../security/node-credentials";
import { listenUrl } from "../server/listen-url";
import { lockDataDir } from "../storage/data-dir-lock";
import { devNodePorts, type DevNodePorts } from "./dev-nodes";
import { startDevFunctions, type DevFunctions } from "./dev-functions";
import { displayPath } from "./display-path";
import { startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb-local";
import { NodeProcess } from "./node-process";
import { startS3StandIn, type S3StandIn } from "./s3-stand-in";

/** The DynamoDB table and S3 bucket the dev cluster's nodes share. */
export const DEV_CLUSTER_TABLE = "capstan-dev";
export const DEV_CLUSTER_BUCKET = "capstan-dev";
/** How long a node may take from its start to answering `/health/ready` 200. */
export const NODE_READY_DEADLINE_MS = 120_000;
const READY_POLL_MS = 200;
const READY_REQUEST_TIMEOUT_MS = 2_000;

export interface DevClusterNode {
  ports: DevNodePorts;
  ingressUrl: string;
  adminUrl: string;
  checkpointUrl: string;
  peerUrl: string;
  process: NodeProcess;
}

export interface DevCluster {
  nodes: DevClusterNode[];
  lambdaUrl: string;
  dynamoDbEndpoint: string;
  s3Endpoint: string;
  adminToken: string;
  identityPublicKey: string;
  /** Rebuilds every function and registers the changed ones (through the first node that answers). */
  rebuild(): Promise<string[]>;
  close(): Promise<void>;
}

export interface DevClusterOptions {
  /** Hears each phase as it starts and ends. */
  progress: (line: string) => void;
  /** Each node's output line (prefixed with its name) and notes about its exits and restarts. */
  nodeOutput: (line: string) => void;
  /** How a node is started: `capstan serve` in this Node.js by default (a test may pass its own). */
  nodeCommand?: { command: string; args: string[] };
}

/** `capstan serve` as this very CLI runs it (compiled: dist/cli/main.js; under a loader: its .ts). */
function defaultNodeCommand(): { command: string; args: string[] } {
  const main = path.join(__dirname, "..", "cli", `main${path.extname(__filename)}`);
  return { command: process.execPath, args: [...process.execArgv, main] };
}

export async function startDevCluster(
  config: RuntimeConfig,
  nodeCount: number,
  log: Log,
  options: DevClusterOptions,
): Promise<DevCluster> {
  const plan = devNodePorts(config, nodeCount);
  const ports: Record<string, number> = { CAPSTAN_LAMBDA_PORT: config.lambdaPort };
  for (const p of plan) {
    const i = p.nodeId.slice("node-".length);
    Object.assign(ports, {
      [`CAPSTAN_INGRESS_PORT+${i}`]: p.ingress,
      [`CAPSTAN_ADMIN_PORT+${i}`]: p.admin,
      [`CAPSTAN_CHECKPOINT_PORT+${i}`]: p.checkpoint,
      [`CAPSTAN_PEER_PORT+${i}`]: p.peer,
    });
  }
  await assertPortsFree(config.host, ports);
  const lock = lockDataDir(config.dataDir);
  // Each step's undo, run in reverse when a later one fails or on close.
  const undo: Array<() => Promise<void>> = [async () => lock.release()];
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    const credentials = loadNodeCredentials(config.dataDir, config.secrets);
    const secrets = sharedSecrets(config);
    options.progress("starting DynamoDB Local and the S3 stand-in…");
    const [dynamodb, s3] = await Promise.all([
      startDynamoDbLocal({ dbPath: path.join(config.dataDir, "dynamodb"), detached: true }),
      startS3StandIn({ dir: path.join(config.dataDir, "s3") }),
    ]);
    undo.push(() => stopBoth(dynamodb, s3));
    const functions = await startDevFunctions(config, log, credentials.identity.publicKey, options.progress);
    undo.push(() => functions.close());
    options.progress(`building functions under ${displayPath(config.handlersDir)}…`);
    await functions.publishAll();

    const command = options.nodeCommand ?? defaultNodeCommand();
    const nodes = plan.map((p, i): DevClusterNode => {
      const env = nodeEnvironment(config, p, secrets, {
        dynamodb: dynamodb.endpoint,
        s3: s3.endpoint,
        lambda: functions.lambdaUrl,
      });
      return {
        ports: p,
        ingressUrl: listenUrl(config.host, p.ingress),
        adminUrl: listenUrl(config.host, p.admin),
        checkpointUrl: listenUrl(config.host, p.checkpoint),
        peerUrl: listenUrl(config.host, p.peer),
        process: new NodeProcess({
          name: p.nodeId,
          command: command.command,
          // Node 0 creates the table and bucket when missing; every start of it checks again.
          args: [...command.args, "serve", ...(i === 0 ? ["--create-table"] : [])],
          env,
          out: options.nodeOutput,
        }),
      };
    });
    undo.push(() => stopNodes(nodes));
    // One after another: node 0 creates the table the others need.
    for (const node of nodes) {
      options.progress(`starting ${node.ports.nodeId}…`);
      node.process.start();
      await waitReady(node, secrets.CAPSTAN_ADMIN_TOKEN);
    }
    const rebuild = async (): Promise<string[]> => {
      const onDisk = await functions.publishAll();
      const changed = await registerAll(functions, nodes, secrets.CAPSTAN_ADMIN_TOKEN);
      if (onDisk !== undefined) functions.noteRemoved(onDisk);
      return changed;
    };
    await waitBalanced(nodes, secrets.CAPSTAN_ADMIN_TOKEN, config.partitions, log);
    options.progress(`registering ${functions.publishedCount()} functions through node-0…`);
    const changed = await registerAll(functions, nodes, secrets.CAPSTAN_ADMIN_TOKEN);
    options.progress(`registered ${changed.length} functions`);
    return {
      nodes,
      lambdaUrl: functions.lambdaUrl,
      dynamoDbEndpoint: dynamodb.endpoint,
      s3Endpoint: s3.endpoint,
      adminToken: secrets.CAPSTAN_ADMIN_TOKEN,
      identityPublicKey: credentials.identity.publicKey,
      rebuild,
      close: unwind,
    };
  } catch (e) {
    await unwind();
    throw e;
  }
}

type SharedSecrets = Record<
  "CAPSTAN_ATTEMPT_KEY" | "CAPSTAN_ADMIN_TOKEN" | "CAPSTAN_IDENTITY_PRIVATE_KEY" | "CAPSTAN_CLUSTER_KEY",
  string
>;

/**
 * The secrets every node gets: the configured ones, else the data directory's (loadNodeCredentials
 * and loadClusterKey create them there on first start).
 */
function sharedSecrets(config: RuntimeConfig): SharedSecrets {
  const file = (name: string): string => {
    const value = readSecret(path.join(config.dataDir, name));
    if (value === undefined) throw new Error(`${name} is missing in ${config.dataDir}`);
    return value;
  };
  return {
    CAPSTAN_ATTEMPT_KEY: config.secrets.attemptKey?.toString("base64") ?? file(ATTEMPT_KEY_FILE),
    CAPSTAN_ADMIN_TOKEN: config.secrets.adminToken ?? file(ADMIN_TOKEN_FILE),
    CAPSTAN_IDENTITY_PRIVATE_KEY: config.secrets.identityPrivateKeyPem ?? file(IDENTITY_KEY_FILE),
    CAPSTAN_CLUSTER_KEY: loadClusterKey(config.dataDir, config.secrets).toString("base64"),
  };
}

/**
 * A node's environment: the caller's, with the store, its ports, its name and the shared secrets.
 * The local endpoints get placeholder AWS credentials, so the caller's real ones are never used (nor
 * sent) here.
 */
function nodeEnvironment(
  config: RuntimeConfig,
  p: DevNodePorts,
  secrets: SharedSecrets,
  endpoints: { dynamodb: string; s3: string; lambda: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CAPSTAN_CLUSTER_KEY: secrets.CAPSTAN_CLUSTER_KEY,
    CAPSTAN_ATTEMPT_KEY: secrets.CAPSTAN_ATTEMPT_KEY,
    CAPSTAN_ADMIN_TOKEN: secrets.CAPSTAN_ADMIN_TOKEN,
    CAPSTAN_IDENTITY_PRIVATE_KEY: secrets.CAPSTAN_IDENTITY_PRIVATE_KEY,
    CAPSTAN_STORE: "dynamodb",
    CAPSTAN_DYNAMODB_TABLE: DEV_CLUSTER_TABLE,
    CAPSTAN_DYNAMODB_ENDPOINT: endpoints.dynamodb,
    CAPSTAN_S3_BUCKET: DEV_CLUSTER_BUCKET,
    CAPSTAN_S3_ENDPOINT: endpoints.s3,
    CAPSTAN_LAMBDA_ENDPOINT: endpoints.lambda,
    AWS_REGION: config.awsRegion,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    CAPSTAN_NODE_ID: p.nodeId,
    CAPSTAN_HOST: config.host,
    CAPSTAN_INGRESS_PORT: String(p.ingress),
    CAPSTAN_ADMIN_PORT: String(p.admin),
    CAPSTAN_CHECKPOINT_PORT: String(p.checkpoint),
    CAPSTAN_PEER_PORT: String(p.peer),
    CAPSTAN_PARTITIONS: String(config.partitions),
    // Each node's own files (its generated nothing: every secret is given) apart from the others'.
    CAPSTAN_DATA_DIR: path.join(config.dataDir, "nodes", p.nodeId),
  };
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  delete env.AWS_DEFAULT_REGION;
  return env;
}

/** Polls the node's `/health/ready` until 200; fails when the node exits or the deadline passes. */
async function waitReady(node: DevClusterNode, adminToken: string): Promise<void> {
  const deadline = Date.now() + NODE_READY_DEADLINE_MS;
  let exited = false;
  void node.process.whenExited().then(() => (exited = true));
  for (;;) {
    if (exited) {
      throw new Error(`${node.ports.nodeId} exited while starting:\n${node.process.recentOutput()}`);
    }
    try {
      const res = await fetch(`${node.adminUrl}/health/ready`, {
        headers: { authorization: `Bearer ${adminToken}` },
        signal: AbortSignal.timeout(READY_REQUEST_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`${node.ports.nodeId} was not ready within ${NODE_READY_DEADLINE_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}

/**
 * Until every node leads a partition (when there are at least as many partitions as nodes), as
 * node 0's GET /cluster shows: a node that leads none answers a call without a key with 503 until
 * the partitions are spread, which a first `curl` should not meet. Past NODE_READY_DEADLINE_MS it
 * goes on with a warning (the nodes keep balancing).
 */
async function waitBalanced(
  nodes: DevClusterNode[],
  adminToken: string,
  partitions: number,
  log: Log,
): Promise<void> {
  if (partitions < nodes.length) return;
  const deadline = Date.now() + NODE_READY_DEADLINE_MS;
  let leaders = new Set<string>();
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${nodes[0]!.adminUrl}/cluster`, {
        headers: { authorization: `Bearer ${adminToken}` },
        signal: AbortSignal.timeout(READY_REQUEST_TIMEOUT_MS),
      });
      const view = (await res.json()) as { partitions?: Array<{ leader?: string }> };
      leaders = new Set((view.partitions ?? []).map((p) => p.leader ?? ""));
      if (nodes.every((n) => leaders.has(n.ports.nodeId))) return;
    } catch {
      // Node 0 busy or restarting: ask again.
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
  const idle = nodes.filter((n) => !leaders.has(n.ports.nodeId)).map((n) => n.ports.nodeId);
  log(`${idle.join(", ")} lead no partition yet; the nodes keep balancing`, "warn");
}

/** Registers what is published and not yet registered, through node 0 (or the next that answers). */
async function registerAll(
  functions: DevFunctions,
  nodes: DevClusterNode[],
  adminToken: string,
): Promise<string[]> {
  const { changed } = await functions.registerPublished(async (qualified) => {
    let lastError: Error | undefined;
    for (const node of nodes) {
      if (!node.process.running) continue;
      try {
        await registerThrough(node.adminUrl, adminToken, qualified);
        return;
      } catch (e) {
        if (!(e instanceof Unreachable)) throw e;
        lastError = e;
      }
    }
    throw lastError ?? new Error("no node is running");
  });
  return changed;
}

class Unreachable extends Error {}

async function registerThrough(adminUrl: string, adminToken: string, qualified: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${adminUrl}/deployments`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ arn: qualified, force: true }),
    });
  } catch (e) {
    throw new Unreachable(`${adminUrl}: ${(e as Error).message}`, { cause: e });
  }
  const text = await res.text();
  if (res.status >= 400) {
    let message = text;
    try {
      const body = JSON.parse(text) as { code?: string; message?: string };
      message = `${body.code ?? res.status}: ${body.message ?? text}`;
    } catch {
      // Not JSON: the text as it is.
    }
    throw new Error(`registering ${qualified}: ${message}`);
  }
}

async function stopNodes(nodes: DevClusterNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.process.stop()));
}

async function stopBoth(dynamodb: DynamoDbLocal, s3: S3StandIn): Promise<void> {
  await Promise.all([dynamodb.stop(), s3.stop()]);
}
