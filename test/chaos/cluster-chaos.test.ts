/**
 * The cluster chaos suite: 3 runtime nodes, each its own OS process (`capstan serve` as the CLI starts
 * it, CAPSTAN_STORE=dynamodb) on one DynamoDB Local table and one S3 stand-in bucket, under mixed load
 * (calls, sends, sleeps, object updates, idempotent retries) spread over the live nodes. Chaos, in
 * seeded order: cycles of SIGKILL of a random node mid-load and its restart; one SIGSTOP of a leader
 * past its lease and its SIGCONT (it must not write again: its epoch is stale); one SIGTERM handover.
 * Then the crash suites' oracle (support/oracle.ts) must hold on the final state read through any
 * node, and the log in DynamoDB must show that no append with a stale epoch ever succeeded
 * (support/cluster-log-epochs.ts).
 *
 * Reproduce a schedule: CAPSTAN_CHAOS_SEED=<seed> npx jest test/chaos/cluster-chaos.test.ts
 * (CAPSTAN_CHAOS_CYCLES raises the number of kill cycles for a soak run.)
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { createEndpoint } from "@capstan/sdk";
import { createHttpHandler } from "@capstan/sdk/http";
import { RequestSigner } from "../../runtime/src/security/request-signer";
import { createCapstanTable } from "../../runtime/src/storage/dynamodb-table";
import { localDynamoDbClient } from "../../runtime/src/storage/test-support/dynamodb-fixture";
import {
  startDynamoDbLocal,
  type DynamoDbLocal,
} from "../../runtime/src/storage/test-support/dynamodb-local";
import { freshBucket, localS3Client } from "../../runtime/src/storage/test-support/s3-fixture";
import { startS3StandIn, type S3StandIn } from "../../runtime/src/storage/test-support/s3-stand-in";
import { DELIVERY_RETRY_MAX_MS } from "../../runtime/src/partition/outbox-delivery";
import { AdminClient, UNFINISHED_STATUSES } from "./support/admin-client";
import { chaosServices } from "./support/chaos-services";
import { ClusterAdminReads } from "./support/cluster-admin-reads";
import { checkLogEpochs } from "./support/cluster-log-epochs";
import { ClusterNodes } from "./support/cluster-nodes";
import { HandlerObserver } from "./support/handler-observer";
import { LoadDriver } from "./support/load-driver";
import { checkAll, formatViolations } from "./support/oracle";
import { between, prng } from "./support/prng";

const SEED = Number(process.env.CAPSTAN_CHAOS_SEED ?? Date.now() % 1_000_000);
const CYCLES = Number(process.env.CAPSTAN_CHAOS_CYCLES ?? 4);
const NODES = 3;
const PARTITIONS = 8;
/** Short leases so failover after a SIGKILL or a SIGSTOP is seconds, not tens of seconds. */
const LEASE_MS = 3_000;
const WORKERS = 12;
const MAX_NEW_PER_PHASE = 250;
const LOAD_MS = { min: 800, max: 2_000 };
/** Load on the others while a node is dead, before it is restarted. */
const DEAD_MS = { min: 500, max: 1_500 };
/** The paused leader stays frozen this long past its lease. */
const PAUSE_PAST_LEASE_MS = 2_000;
const TERM_DEADLINE_MS = 15_000;
const START_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 120_000;
const DRAIN_MS = 30_000;
const SETTLE_MS = 40_000;
const LEADERS_DEADLINE_MS = 30_000;
const TEST_TIMEOUT_MS = 240_000 + CYCLES * 20_000;
const TABLE = "capstan-cluster-chaos";
const REPRO = `CAPSTAN_CHAOS_SEED=${SEED} npx jest test/chaos/cluster-chaos.test.ts`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** GET /cluster of one node, as the admin API answers it. */
interface ClusterAnswer {
  partitions: Array<{ partition: number; leader?: string; state: string }>;
}

describe("3 nodes on DynamoDB Local under SIGKILL, SIGSTOP and SIGTERM", () => {
  let ddb: DynamoDbLocal;
  let s3: S3StandIn;
  let dynamodb: DynamoDBClient;
  let s3Client: S3Client;
  let bucket: string;
  let dir: string;
  let server: Server;
  let handlerUrl: string;
  let observer: HandlerObserver;
  let nodes: ClusterNodes;
  const adminToken = randomBytes(24).toString("base64url");

  beforeAll(async () => {
    [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3StandIn()]);
    dynamodb = localDynamoDbClient(ddb.endpoint);
    s3Client = localS3Client(s3.endpoint);
    await createCapstanTable(dynamodb, TABLE);
    bucket = await freshBucket(s3Client);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-cluster-chaos-"));
    // AdminClient reads the token where a runtime keeps it.
    fs.writeFileSync(path.join(dir, "admin-token"), adminToken, { mode: 0o600 });
    observer = new HandlerObserver(prng(SEED ^ 0x5eed));
    const endpoint = createEndpoint(...chaosServices(observer), {
      fetch: observer.fetch,
      logger: observer.logger,
    });
    server = createServer(createHttpHandler(observer.wrap(endpoint)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    handlerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // One cluster: every node shares the store, the cluster key and the other secrets.
    const shared = {
      CAPSTAN_STORE: "dynamodb",
      CAPSTAN_DYNAMODB_TABLE: TABLE,
      CAPSTAN_DYNAMODB_ENDPOINT: ddb.endpoint,
      CAPSTAN_S3_BUCKET: bucket,
      CAPSTAN_S3_ENDPOINT: s3.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      CAPSTAN_PARTITIONS: String(PARTITIONS),
      CAPSTAN_LEASE_MS: String(LEASE_MS),
      CAPSTAN_CLUSTER_KEY: randomBytes(32).toString("base64"),
      CAPSTAN_ATTEMPT_KEY: randomBytes(32).toString("base64"),
      CAPSTAN_ADMIN_TOKEN: adminToken,
      CAPSTAN_IDENTITY_PRIVATE_KEY: RequestSigner.generatePem(),
      CAPSTAN_INGRESS_PORT: "0",
      CAPSTAN_ADMIN_PORT: "0",
      CAPSTAN_CHECKPOINT_PORT: "0",
      CAPSTAN_PEER_PORT: "0",
      // Completed invocations stay readable for the oracle.
      CAPSTAN_COMPLETED_RETENTION_MS: String(3_600_000),
      CAPSTAN_LOG_LEVEL: "warn",
    };
    nodes = new ClusterNodes(
      NODES,
      (i) => ({ ...shared, CAPSTAN_NODE_ID: `node-${i}`, CAPSTAN_DATA_DIR: path.join(dir, `node-${i}`) }),
      START_TIMEOUT_MS,
    );
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    nodes?.killAll();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dynamodb?.destroy();
    s3Client?.destroy();
    await Promise.all([ddb?.stop(), s3?.stop()]);
  }, SETUP_TIMEOUT_MS);

  test(
    `the oracle holds and no stale epoch wrote, across ${CYCLES} kill cycles, a pause and a handover (seed ${SEED})`,
    () =>
      withDiagnosis(async () => {
        process.stderr.write(`cluster chaos seed ${SEED}; reproduce with: ${REPRO}\n`);
        const schedule = prng(SEED);
        const driver = new LoadDriver(prng(SEED + 1));
        const events: string[] = [];
        let phase = 0;
        const liveIngress = (): string[] => nodes.live().map((n) => n.ready.ingressUrl);
        const anyAdmin = (): string => nodes.live()[0]!.ready.adminUrl;
        /** Load on the live nodes for `ms`, with `during` run once the load is going. */
        const load = async (ms: number, during?: () => Promise<void>): Promise<void> => {
          driver.attachAll(liveIngress(), phase++);
          const deadline = Date.now() + ms;
          const running = driver.run(WORKERS, MAX_NEW_PER_PHASE, () => Date.now() >= deadline);
          if (during !== undefined) {
            await sleep(between(schedule, 50, 300));
            await during();
            driver.attachAll(liveIngress(), phase++);
          }
          await running;
        };

        for (let i = 0; i < NODES; i++) await nodes.start(i);
        await new AdminClient(nodes.live()[0]!.ready.adminUrl, dir).registerDeployment(handlerUrl);
        await waitForLeaders(anyAdmin(), adminToken);

        // SIGKILL a random node mid-load, keep the others loaded while it is dead, restart it.
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          await load(between(schedule, LOAD_MS.min, LOAD_MS.max));
          const victim = between(schedule, 0, NODES - 1);
          await load(between(schedule, DEAD_MS.min, DEAD_MS.max), async () => {
            await nodes.kill(victim);
            events.push(`SIGKILL node-${victim}`);
          });
          const ready = await nodes.start(victim);
          events.push(`restarted node-${victim} (ready in ${ready.startupMs} ms)`);
        }

        // SIGSTOP a leader past its lease; the others take its partitions; SIGCONT: its epoch is stale.
        const leader = await someLeader(anyAdmin(), adminToken);
        await load(LEASE_MS + PAUSE_PAST_LEASE_MS, async () => {
          nodes.pause(leader);
          events.push(`SIGSTOP node-${leader}`);
        });
        nodes.resume(leader);
        events.push(`SIGCONT node-${leader}`);
        await load(between(schedule, LOAD_MS.min, LOAD_MS.max));

        // SIGTERM: a graceful handover, while loaded.
        const leaving = between(schedule, 0, NODES - 1);
        await load(between(schedule, LOAD_MS.min, LOAD_MS.max), async () => {
          const { exitedMs, killed } = await nodes.terminate(leaving, TERM_DEADLINE_MS);
          events.push(`SIGTERM node-${leaving}: exited after ${exitedMs} ms${killed ? " (SIGKILL)" : ""}`);
          if (killed)
            throw new Error(`node-${leaving} did not exit within ${TERM_DEADLINE_MS} ms of SIGTERM`);
        });
        await nodes.start(leaving);
        await load(between(schedule, LOAD_MS.min, LOAD_MS.max));

        // Drain, settle, judge (once every partition has a leader again after the restarts).
        await waitForLeaders(anyAdmin(), adminToken);
        driver.attachAll(liveIngress(), phase++);
        await driver.drainRetries(WORKERS, Date.now() + DRAIN_MS);
        const admin = new ClusterAdminReads(new AdminClient(anyAdmin(), dir));
        const settleDeadline = Date.now() + SETTLE_MS;
        let unfinished = -1;
        let stuckIds: string[] = [];
        // Nothing unfinished for a whole delivery backoff: a cross-partition message still waiting
        // out its retry (its receiver moved) would otherwise start an invocation after the check.
        let quietSince: number | undefined;
        while (Date.now() < settleDeadline) {
          const counts = await Promise.all(UNFINISHED_STATUSES.map((s) => admin.invocations(s)));
          unfinished = counts.reduce((n, list) => n + list.length, 0);
          stuckIds = counts.flat().map((i) => i.id);
          if (unfinished !== 0) quietSince = undefined;
          else if (quietSince === undefined) quietSince = Date.now();
          else if (Date.now() - quietSince > DELIVERY_RETRY_MAX_MS) break;
          await sleep(200);
        }
        // What an unfinished invocation looked like at the end, for the failure report.
        const stuck = await Promise.all(
          stuckIds.slice(0, 5).map(async (id) => {
            const d = await admin.invocation(id);
            const { journal, ...rest } = (d ?? {}) as { journal?: unknown[] };
            return `${id}: ${JSON.stringify({ ...rest, journalEntries: journal?.length }).slice(0, 800)}`;
          }),
        );
        const { checks } = await checkAll(admin, driver.requests, observer, liveIngress()[0]!);
        checks.push(await checkLogEpochs(dynamodb, TABLE, PARTITIONS));

        const acked = driver.requests.filter((r) => r.ack);
        const report = [
          `cluster chaos seed ${SEED}: ${driver.requests.length} requests (${acked.length} acknowledged, ` +
            `${acked.filter((r) => r.attempts > 1).length} only after a retry)`,
          `events: ${events.join("; ")}`,
          `handler attempts ${observer.attempts}, checkpoint acks ${observer.checkpointAcks}, ` +
            `failed checkpoints ${observer.checkpointFailures}`,
          ...checks.map((c) => `${c.violations.length === 0 ? "✓" : "✗"} ${c.name}: ${c.verified} verified`),
        ].join("\n");
        process.stderr.write(`${report}\n`);
        const failures = formatViolations(checks);
        if (failures !== "" || unfinished !== 0) {
          const tails = Array.from(
            { length: NODES },
            (_, i) => `--- node-${i} stderr (tail) ---\n${nodes.stderrTail(i).slice(-2_000)}`,
          );
          throw new Error(
            `cluster chaos failed (seed ${SEED}); reproduce with: ${REPRO}\n` +
              (unfinished !== 0
                ? `${unfinished} invocation(s) still unfinished after ${SETTLE_MS} ms\n${stuck.join("\n")}\n`
                : "") +
              `${failures}\n${report}\n${tails.join("\n")}`,
          );
        }
      }),
    TEST_TIMEOUT_MS,
  );

  /**
   * `run`, with what each live node says of the cluster and its stderr added to any failure: an admin
   * read that keeps failing (e.g. a partition no node answers for) is otherwise a bare HTTP status.
   */
  async function withDiagnosis(run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (e) {
      const views = await Promise.all(
        nodes.live().map(async (n) => {
          const view = await cluster(n.ready.adminUrl, adminToken).catch((err: unknown) => String(err));
          return `--- /cluster of ${n.ready.adminUrl} ---\n${JSON.stringify(view)}`;
        }),
      );
      const tails = Array.from(
        { length: NODES },
        (_, i) => `--- node-${i} stderr (tail) ---\n${nodes.stderrTail(i).slice(-2_000)}`,
      );
      const message = (e as Error)?.message ?? String(e);
      if (message.includes("stderr (tail)")) throw e;
      throw new Error(`${message}\n${views.join("\n")}\n${tails.join("\n")}`, { cause: e });
    }
  }

  async function cluster(adminUrl: string, token: string): Promise<ClusterAnswer> {
    const res = await fetch(`${adminUrl}/cluster`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5_000),
    });
    if (res.status !== 200) throw new Error(`GET /cluster answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as ClusterAnswer;
  }

  /** Until every partition has a leader (the cluster has settled after the starts). */
  async function waitForLeaders(adminUrl: string, token: string): Promise<void> {
    const deadline = Date.now() + LEADERS_DEADLINE_MS;
    for (;;) {
      const view = await cluster(adminUrl, token);
      if (view.partitions.every((p) => p.leader !== undefined)) return;
      if (Date.now() > deadline) throw new Error(`partitions without a leader: ${JSON.stringify(view)}`);
      await sleep(200);
    }
  }

  /** The index of a node that leads at least one partition now. */
  async function someLeader(adminUrl: string, token: string): Promise<number> {
    await waitForLeaders(adminUrl, token);
    const view = await cluster(adminUrl, token);
    const leaders = [...new Set(view.partitions.map((p) => p.leader!))].sort();
    return Number(leaders[0]!.slice("node-".length));
  }
});
