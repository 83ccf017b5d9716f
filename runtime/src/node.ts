/**
 * One runtime process: its stores (the embedded SQLite file by default, or DynamoDB and S3), the
 * Runtime, and its ingress, admin and checkpoint listeners; in a cluster (DynamoDB) also the peer
 * listener, and the servers call a ForwardingRuntimeApi that sends what other nodes lead to them. Used by `capstan dev`, `capstan serve`,
 * by the crash tests' child processes, and by the testing kit.
 */
import { GroupCommitStateStores } from "./storage/group-commit-state-store";
import { stderrLog, type Log } from "./log";
import type { Clock } from "./core/clock";
import { systemClock } from "./core/clock";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { ConfigError, type RuntimeConfig, type StateStoreKind } from "./config/config";
import { assertPortsFree, withPortHint } from "./config/ports";
import type { Invoker } from "./invoker/invoker";
import { randomUUID } from "node:crypto";
import { Runtime, type RuntimeClusterOptions } from "./runtime";
import { createTelemetry } from "./telemetry/create-telemetry";
import type { Telemetry } from "./telemetry/telemetry";
import type { HandlerLogSource } from "./telemetry/handler-logs";
import { startAdminServer } from "./server/admin-server";
import { startCheckpointServer } from "./server/checkpoint-server";
import { loadClusterKey, loadNodeCredentials, type NodeCredentials } from "./security/node-credentials";
import { PEER_OVERLOADED, PeerVerifier, type PeerOverloadListener } from "./security/peer-auth";
import { startPeerServer } from "./server/peer-server";
import type { RuntimeApi } from "./server/runtime-api";
import { PeerClient } from "./cluster/peer-client";
import { resolveNodeAddress } from "./cluster/node-address";
import { ForwardingRuntimeApi } from "./cluster/forwarding-runtime-api";
import type { MembershipStore } from "./cluster/membership-store";
import { PartitionUnavailableError } from "./partition/partition-errors";
import { startIngressServer } from "./server/ingress-server";
import { listenUrl } from "./server/listen-url";
import { apiKeyVerifier, type IngressVerifier } from "./server/ingress-auth";
import type { RegistrationAllowList } from "./server/registration-allow";
import type { ServerHandle } from "./server/http-server";
import { INGRESS_DRAIN_MS, PEER_DRAIN_MS } from "./server/request-drain";
import { lockDataDir, type DataDirLock } from "./storage/data-dir-lock";
import type { LogStore } from "./storage/log-store";
import type { PartitionStore } from "./storage/partition-store";
import type { PartitionStateStores } from "./storage/partition-state-store";
import { PARTITIONS_DIR_NAME, SqliteStateStores } from "./storage/sqlite-state-store";
import { openSqliteStores } from "./storage/sqlite-stores";

/** Both storage ports, opened together; the node closes them when it closes. */
export interface RuntimeStores {
  logStore: LogStore;
  partitionStore: PartitionStore;
  /** Where partition state lives; absent: in memory, snapshotted as JSON into `partitionStore`. */
  stateStores?: PartitionStateStores;
  close(): Promise<void>;
}

export interface RuntimeNodeOptions {
  dataDir: string;
  partitions: number;
  host: string;
  ingressPort: number;
  adminPort: number;
  /** The checkpoint listener's port (0: ephemeral). */
  checkpointPort: number;
  invoker: Invoker;
  clock?: Clock;
  realTimers?: boolean;
  /** Base URL the SDK uses for checkpoints; default: the checkpoint listener's own URL. */
  checkpointBaseUrl?: string;
  /** The node's secrets; default: loadNodeCredentials(dataDir), generated there on first start. */
  credentials?: NodeCredentials;
  completedRetentionMs?: number;
  log?: Log;
  /** Spans, logs and counters (its log wins over `log`); its owner shuts it down (flushes spans). */
  telemetry?: Telemetry;
  /** Caller headers the ingress never stores, besides the built-in credential headers. */
  sensitiveHeaders?: readonly string[];
  /** Ingress authentication; absent: none (loopback only by default). */
  ingressVerifier?: IngressVerifier;
  /** Deployments the admin API may register; default DEFAULT_REGISTRATION_ALLOW. */
  registrationAllow?: RegistrationAllowList;
  /**
   * The data directory's lock, when the caller took it already (`capstan dev` does, before it builds
   * into the directory) and releases it itself. Absent: the node takes it, and releases it on close.
   * `false`: no lock, for tests of the log's own fence, which open two runtimes on one directory.
   */
  dataDirLock?: DataDirLock | false;
  /** Open stores to run on instead of the SQLite file in `dataDir` (no data directory lock then). */
  stores?: RuntimeStores;
  /**
   * Without `stores`: partition state in one SQLite file per partition (`sqlite`, the default) or in
   * memory, snapshotted whole as JSON into the SQLite file (`memory`, ADR 0002: for comparisons).
   */
  stateStore?: StateStoreKind;
  /** This node's name as the owner of the partitions it claims. */
  nodeId?: string;
  /**
   * Cluster mode (with `stores` in DynamoDB): join the membership and lead the partitions the leases
   * give this node; serve the peer listener; forward what other nodes lead.
   */
  cluster?: RuntimeNodeClusterOptions;
  /**
   * A readiness gate closed before the listeners start, so `/health/ready` answers 503 until its
   * owner opens it (`capstan dev`: until every function is registered).
   */
  notReady?: { gate: string; reason: string };
  /**
   * On close, how long the requests in flight on the ingress and admin listeners may take to finish
   * before they are answered 503 (default INGRESS_DRAIN_MS; `close` may say otherwise).
   */
  drainMs?: number;
}

export interface RuntimeNodeClusterOptions {
  membership: MembershipStore;
  leaseDurationMs: number;
  /** The peer listener's port (0: ephemeral). */
  peerPort: number;
  /**
   * The base URL other nodes reach the peer listener at; default: on ECS the task's IPv4 address,
   * else the listener's own URL (cluster/node-address.ts).
   */
  nodeAddress?: string;
  /** The shared secret node-to-node requests are signed with. */
  clusterKey: Buffer;
}

export interface RuntimeNode {
  runtime: Runtime;
  /** Cluster mode: the peer listener's URL. */
  peerUrl?: string;
  ingressUrl: string;
  adminUrl: string;
  /** The checkpoint listener's URL (what the SDK is told, unless CAPSTAN_CHECKPOINT_URL says otherwise). */
  checkpointUrl: string;
  /** The bearer token the admin API requires. */
  adminToken: string;
  /** The public key requests to deployments are signed with (`capstanpk1_…`). */
  identityPublicKey: string;
  /**
   * Stops in this order (docs/operations.md#stopping-a-node):
   * 1. drain: the ingress and admin listeners stop accepting; the requests in flight get their
   *    answers (the runtime, the checkpoint and peer listeners keep running, so invocations they
   *    wait on can finish) until `drainMs` passes, then what is left is answered 503
   *    `*_DRAIN_DEADLINE`;
   * 2. in a cluster, hand every partition over (finish the batch in flight, snapshot, release the
   *    claim, leave), unless `handOver: false` (then it looks dead to the others once its lease runs
   *    out); else stop the runtime;
   * 3. drain the peer listener for PEER_DRAIN_MS (what is still in flight, or new, is answered 503
   *    `RUNTIME_PARTITION_UNAVAILABLE`: the partition moved), close the checkpoint listener, then
   *    the stores.
   */
  close(options?: RuntimeNodeCloseOptions): Promise<void>;
}

export interface RuntimeNodeCloseOptions {
  handOver?: boolean;
  /** The drain deadline of this close; default the node's `drainMs`. */
  drainMs?: number;
}

export async function startRuntimeNode(options: RuntimeNodeOptions): Promise<RuntimeNode> {
  // Stores given (DynamoDB and S3): partition state in their state stores (SQLite files shipped to
  // S3, which another node loads on takeover), else in memory with JSON snapshots.
  if (options.stores !== undefined) return startOnStores(options, options.stores, options.stores.stateStores);
  const ownLock = options.dataDirLock === undefined ? lockDataDir(options.dataDir) : undefined;
  let node: RuntimeNode;
  try {
    const memory = options.stateStore === "memory";
    if (memory) refuseStateFiles(options.dataDir);
    const stores = openSqliteStores(options.dataDir);
    node = await startOnStores(
      options,
      stores,
      memory ? undefined : new SqliteStateStores(options.dataDir, stores.partitionStore),
    );
  } catch (e) {
    ownLock?.release();
    throw e;
  }
  if (ownLock === undefined) return node;
  return {
    ...node,
    async close(closeOptions) {
      try {
        await node.close(closeOptions);
      } finally {
        ownLock.release();
      }
    },
  };
}

/**
 * State in memory starts from the JSON snapshots in the log's file: a data directory that already has
 * state files kept its newer state there (and trimmed the log below it), so starting it in memory
 * would lose that state. Refused; the other way (memory, then sqlite) is an upgrade the state files
 * make on open.
 */
function refuseStateFiles(dataDir: string): void {
  const dir = path.join(dataDir, PARTITIONS_DIR_NAME);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new ConfigError(
      `CAPSTAN_STATE_STORE=memory: ${dir} holds partition state files; start with CAPSTAN_STATE_STORE=sqlite`,
    );
  }
}

/** A full replay cache is logged at most this often (a flood would otherwise flood the log too). */
const PEER_OVERLOAD_LOG_EVERY_MS = 10_000;

/** Counts each refusal in the runtime's metrics and logs it (counts only) at most every 10 s. */
function peerOverloadReporter(runtime: () => Runtime | undefined, log: Log): PeerOverloadListener {
  let loggedAtMs = -Infinity;
  return ({ nonces, refused }) => {
    const r = runtime();
    r?.telemetry.metrics.countPeerRefusal(PEER_OVERLOADED);
    const now = Date.now();
    if (now - loggedAtMs < PEER_OVERLOAD_LOG_EVERY_MS) return;
    loggedAtMs = now;
    (r?.telemetry.log ?? log)(
      `peer listener refusing requests (${PEER_OVERLOADED}): ${nonces} fresh nonces held, ${refused} refused so far`,
      "warn",
    );
  };
}

/** The runtime and its listeners on open stores; closes the stores if it cannot start. */
async function startOnStores(
  options: RuntimeNodeOptions,
  stores: RuntimeStores,
  stateStores: PartitionStateStores | undefined,
): Promise<RuntimeNode> {
  const servers: ServerHandle[] = [];
  let peer: ServerHandle | undefined;
  const nodeDrainMs = options.drainMs ?? INGRESS_DRAIN_MS;
  try {
    const credentials = options.credentials ?? loadNodeCredentials(options.dataDir);
    const clock = options.clock ?? systemClock;
    const nodeId = options.nodeId ?? `node-${randomUUID()}`;
    // The peer listener starts before the runtime exists: until then it answers 503.
    const built: { runtime?: Runtime } = {};
    let peerUrl: string | undefined;
    let clusterOptions: RuntimeClusterOptions | undefined;
    let peers: PeerClient | undefined;
    if (options.cluster !== undefined) {
      // First, so the address the membership publishes is a listening one.
      const cluster = options.cluster;
      peer = await startPeerServer({
        target: () => built.runtime,
        verifier: new PeerVerifier(
          cluster.clusterKey,
          Date.now,
          peerOverloadReporter(() => built.runtime, options.log ?? stderrLog("info")),
        ),
        host: options.host,
        port: cluster.peerPort,
      });
      peerUrl = listenUrl(options.host, peer.port);
      const client = new PeerClient(cluster.clusterKey);
      peers = client;
      clusterOptions = {
        node: {
          nodeId,
          address: await resolveNodeAddress(cluster.nodeAddress, peerUrl, peer.port),
          pid: process.pid,
        },
        membership: cluster.membership,
        leaseDurationMs: cluster.leaseDurationMs,
        remoteAppend: async (p, record) => {
          const leader = built.runtime?.cluster?.leaderOf(p);
          if (leader === undefined) throw new PartitionUnavailableError(p, "no live leader known");
          await client.append(leader.address, p, record);
        },
        // Best effort, all at once: a peer that misses it notices at its next lease tick.
        announce: async (addresses, notice) => {
          await Promise.allSettled(addresses.map((address) => client.changed(address, notice)));
        },
      };
    }
    const runtime = new Runtime({
      attemptCredentials: credentials.attemptCredentials,
      partitions: options.partitions,
      logStore: stores.logStore,
      partitionStore: stores.partitionStore,
      // State files get their commits grouped (storage/group-commit-state-store.ts).
      ...(stateStores !== undefined && { stateStores: new GroupCommitStateStores(stateStores) }),
      invoker: options.invoker,
      clock,
      realTimers: options.realTimers ?? true,
      ...(options.completedRetentionMs !== undefined && {
        completedRetentionMs: options.completedRetentionMs,
      }),
      log: options.log ?? stderrLog("info"),
      ...(options.telemetry !== undefined && { telemetry: options.telemetry }),
      nodeId,
      ...(clusterOptions !== undefined && { cluster: clusterOptions }),
    });
    built.runtime = runtime;
    // A node of a cluster answers for every partition: what others lead is forwarded to them.
    const api: RuntimeApi =
      runtime.cluster !== undefined && peers !== undefined
        ? new ForwardingRuntimeApi(runtime, runtime.cluster, peers, credentials.attemptCredentials, clock)
        : runtime;
    if (options.notReady) runtime.readinessGates.close(options.notReady.gate, options.notReady.reason);
    // Listeners first, so a port in use fails before recovery starts attempts that need the checkpoint URL.
    const admin = await startAdminServer({
      api,
      host: options.host,
      port: options.adminPort,
      adminToken: credentials.adminToken,
      ...(options.registrationAllow !== undefined && { registrationAllow: options.registrationAllow }),
    });
    servers.push(admin);
    const checkpoint = await startCheckpointServer({
      api,
      host: options.host,
      port: options.checkpointPort,
    });
    servers.push(checkpoint);
    const ingress = await startIngressServer({
      api,
      host: options.host,
      port: options.ingressPort,
      ...(options.sensitiveHeaders !== undefined && { sensitiveHeaders: options.sensitiveHeaders }),
      ...(options.ingressVerifier !== undefined && { verifier: options.ingressVerifier }),
    });
    servers.push(ingress);
    const adminUrl = listenUrl(options.host, admin.port);
    const checkpointUrl = listenUrl(options.host, checkpoint.port);
    runtime.setCheckpointBaseUrl(options.checkpointBaseUrl ?? checkpointUrl);
    await runtime.start();
    const started = runtime;
    return {
      runtime,
      ...(peerUrl !== undefined && { peerUrl }),
      ingressUrl: listenUrl(options.host, ingress.port),
      adminUrl,
      checkpointUrl,
      adminToken: credentials.adminToken,
      identityPublicKey: credentials.identity.publicKey,
      async close(closeOptions = {}) {
        const drainMs = closeOptions.drainMs ?? nodeDrainMs;
        try {
          // The partitions are still led here and the checkpoint listener open, so what the
          // requests in flight wait on can finish; a request of another node forwarded here
          // (peer listener) is answered too.
          await Promise.all([ingress.drain(drainMs), admin.drain(drainMs)]);
          // The peer listener stays open during the hand-over: the others forward here until it
          // ends. So does the checkpoint listener: a handler's checkpoint is appended while its
          // partition is still led here, or refused by its new leader (a new attempt runs there).
          if (started.cluster !== undefined && closeOptions.handOver !== false) await started.leave();
          else await started.stop();
          // What other nodes forwarded here before they learnt of the releases is answered (or
          // refused as moved, which they retry at the new leader), not reset.
          await peer?.drain(PEER_DRAIN_MS);
        } finally {
          // Even when the hand-over failed: a listener left open would keep the process alive.
          try {
            await Promise.all([...servers, ...(peer ? [peer] : [])].map((s) => s.close()));
          } finally {
            await stores.close();
          }
        }
      },
    };
  } catch (e) {
    await Promise.all([...servers, ...(peer ? [peer] : [])].map((s) => s.close()));
    await stores.close();
    throw e;
  }
}

/**
 * A runtime node as the CLI starts it (`capstan dev`, `capstan serve`): settings from the validated
 * config, a port in use reported as a ConfigError that names the setting to change.
 */
export async function startRuntimeNodeFromConfig(
  config: RuntimeConfig,
  invoker: Invoker,
  log: Log,
  credentials: NodeCredentials,
  dataDirLock?: DataDirLock,
  options: {
    createTable?: boolean;
    notReady?: RuntimeNodeOptions["notReady"];
    /** Where handler logs are read from: `capstan dev` passes its local Lambda endpoint's. */
    handlerLogs?: HandlerLogSource;
  } = {},
): Promise<RuntimeNode> {
  const ports: Record<string, number> = {
    CAPSTAN_INGRESS_PORT: config.ingressPort,
    CAPSTAN_ADMIN_PORT: config.adminPort,
    CAPSTAN_CHECKPOINT_PORT: config.checkpointPort,
  };
  if (config.store.kind === "dynamodb") ports.CAPSTAN_PEER_PORT = config.peerPort;
  await assertPortsFree(config.host, ports);
  const store = config.store;
  let stores: RuntimeStores | undefined;
  let cluster: (RuntimeNodeClusterOptions & { close(): void }) | undefined;
  if (store.kind === "dynamodb") {
    // Loaded only here: the embedded store's start does not pay for the DynamoDB and S3 clients.
    const { openDynamoDbStores } = await import("./storage/dynamodb-stores");
    stores = await openDynamoDbStores(store, {
      region: config.awsRegion,
      createTable: options.createTable === true,
      dataDir: config.dataDir,
    });
    try {
      cluster = await clusterOptionsFromConfig(config, store);
    } catch (e) {
      await stores.close();
      throw e;
    }
  } else if (options.createTable === true) {
    throw new ConfigError("--create-table needs CAPSTAN_STORE=dynamodb");
  }
  // Chosen here so the exported telemetry's resource names the node (`service.instance.id`).
  const nodeId = config.nodeId ?? `node-${randomUUID()}`;
  const telemetry = createTelemetry({ ...config, nodeId }, log, {
    ...(options.handlerLogs !== undefined && { handlerLogs: options.handlerLogs }),
  });
  let node: RuntimeNode;
  try {
    node = await withPortHint(ports, () =>
      startRuntimeNode({
        ...(stores !== undefined && { stores }),
        ...(cluster !== undefined && { cluster }),
        nodeId,
        dataDir: config.dataDir,
        stateStore: config.stateStore,
        partitions: config.partitions,
        host: config.host,
        ingressPort: config.ingressPort,
        adminPort: config.adminPort,
        checkpointPort: config.checkpointPort,
        credentials,
        invoker,
        completedRetentionMs: config.completedRetentionMs,
        ...(config.checkpointBaseUrl !== undefined && { checkpointBaseUrl: config.checkpointBaseUrl }),
        log,
        telemetry,
        ...(dataDirLock !== undefined && { dataDirLock }),
        ...(options.notReady !== undefined && { notReady: options.notReady }),
        sensitiveHeaders: config.sensitiveHeaders,
        ...(config.ingressApiKeys.length > 0 && { ingressVerifier: apiKeyVerifier(config.ingressApiKeys) }),
        registrationAllow: config.registrationAllow,
      }),
    );
  } catch (e) {
    cluster?.close();
    await telemetry.shutdown();
    throw e;
  }
  return {
    ...node,
    async close(closeOptions) {
      try {
        await node.close(closeOptions);
      } finally {
        cluster?.close();
        await telemetry.shutdown(); // exports the spans and counters still buffered
      }
    },
  };
}

/** Cluster mode from the configuration: the membership in the store's DynamoDB table, the cluster key. */
async function clusterOptionsFromConfig(
  config: RuntimeConfig,
  store: Extract<RuntimeConfig["store"], { kind: "dynamodb" }>,
): Promise<RuntimeNodeClusterOptions & { close(): void }> {
  const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const { DynamoDbMembershipStore } = await import("./cluster/dynamodb-membership-store");
  const clusterKey = loadClusterKey(config.dataDir, config.secrets); // before any client: it may throw
  const client = new DynamoDBClient({
    region: config.awsRegion,
    ...(store.endpoint !== undefined && { endpoint: store.endpoint }),
  });
  return {
    membership: new DynamoDbMembershipStore({ client, tableName: store.tableName, clock: systemClock }),
    leaseDurationMs: config.leaseDurationMs,
    peerPort: config.peerPort,
    ...(config.nodeAddress !== undefined && { nodeAddress: config.nodeAddress }),
    clusterKey,
    close: () => client.destroy(),
  };
}
