/**
 * Shipped partition state under SIGKILL (CAPSTAN_STORE=dynamodb, DynamoDB Local + the S3 stand-in):
 * a runtime child takes counter updates through the ingress until one partition has shipped its state
 * file to S3 and trimmed its log below it, and is SIGKILLed while more updates are in flight. A child
 * on a new, empty data directory (another node: only the cluster's credentials) must then hold every
 * acknowledged update — from the snapshot plus the log after it — and nothing that was never sent;
 * it is killed mid-load in turn and restarted on its own directory (its local files, now ahead of
 * the snapshot), with the same check. Counts, not timings: each key's total divided by its amount
 * lies between the updates acknowledged and those sent.
 */
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createEndpoint, object } from "@capstan/sdk";
import { createHttpHandler } from "@capstan/sdk/http";
import { partitionOfTarget } from "@capstan/sdk/protocol";
import { SNAPSHOT_EVERY_RECORDS } from "../../runtime/src/partition/partition-processor";
import {
  ADMIN_TOKEN_FILE,
  ATTEMPT_KEY_FILE,
  IDENTITY_KEY_FILE,
} from "../../runtime/src/security/node-credentials";
import { DynamoDbLogStore } from "../../runtime/src/storage/dynamodb-log-store";
import { createCapstanTable } from "../../runtime/src/storage/dynamodb-table";
import { S3SnapshotStore } from "../../runtime/src/storage/s3-snapshot-store";
import {
  awsLocalChildEnv,
  startAwsLocal,
  type AwsLocal,
} from "../../runtime/src/storage/test-support/aws-local";
import { freshBucket } from "../../runtime/src/storage/test-support/s3-fixture";
import { AdminClient, UNFINISHED_STATUSES } from "./support/admin-client";
import { killAllRuntimeProcesses, startRuntimeProcess, type RuntimeProcess } from "./support/runtime-process";

/** Many partitions: the last one's staggered snapshot point comes after a few hundred records. */
const PARTITIONS = 32;
const SHIPPED = PARTITIONS - 1;
const RECORDS_TO_SNAPSHOT =
  SNAPSHOT_EVERY_RECORDS - Math.floor((SHIPPED * SNAPSHOT_EVERY_RECORDS) / PARTITIONS);
const KEYS = 16;
const CLIENTS = 8;
/** Each request writes at least one record: this many are sure to pass the snapshot point. */
const MAX_REQUESTS_TO_SNAPSHOT = RECORDS_TO_SNAPSHOT + 100;
/** Requests sent after the trim before the kill: the kill lands with requests in flight. */
const REQUESTS_BEFORE_KILL = 40;
const TABLE = "capstan-shipping-crash";
const START_TIMEOUT_MS = 30_000;
const KILL_TIMEOUT_MS = 5_000;
const WAIT_MS = 60_000;
const SETTLE_MS = 30_000;

jest.setTimeout(300_000);

const tally = object({
  name: "Tally",
  handlers: {
    add: async (ctx, amount: number) => {
      const total = ((await ctx.get<number>("total")) ?? 0) + amount;
      ctx.set("total", total);
      return total;
    },
  },
});

const amountOf = (key: string): number => (key.length % 5) + 2;

let aws: AwsLocal | undefined;
let bucket: string;
let server: Server;
let handlerUrl: string;
const dirs: string[] = [];

beforeAll(async () => {
  aws = await startAwsLocal();
  await createCapstanTable(aws.dynamodb, TABLE);
  bucket = await freshBucket(aws.s3Client);
  server = createServer(createHttpHandler(createEndpoint(tally)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  handlerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  killAllRuntimeProcesses();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await aws?.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-shipping-crash-"));
  dirs.push(dir);
  return dir;
}

const childEnv = (): NodeJS.ProcessEnv => awsLocalChildEnv(aws!, TABLE, bucket);

const start = (dataDir: string): Promise<RuntimeProcess> =>
  startRuntimeProcess(dataDir, PARTITIONS, START_TIMEOUT_MS, childEnv());

/** Per key: updates sent (acknowledged or not) and acknowledged. */
class Ledger {
  readonly sent = new Map<string, number>();
  readonly acked = new Map<string, number>();
  requests = 0;

  /**
   * CLIENTS closed-loop clients add to `keys` on `ingressUrl` until `stop()` says so (checked after
   * each answer) or a request fails (the node was killed). Resolves when every client has stopped.
   */
  async load(ingressUrl: string, keys: string[], stop: () => Promise<boolean>): Promise<void> {
    let done = false;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (!done) {
          const key = keys[this.requests++ % keys.length]!;
          this.sent.set(key, (this.sent.get(key) ?? 0) + 1);
          try {
            const res = await fetch(`${ingressUrl}/Tally/${key}/add`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(amountOf(key)),
            });
            if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
            await res.json();
          } catch {
            done = true; // killed: this request is sent, not acknowledged
            return;
          }
          this.acked.set(key, (this.acked.get(key) ?? 0) + 1);
          if (await stop()) done = true;
        }
      }),
    );
  }
}

async function waitFor(what: string, condition: () => Promise<boolean>, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every key's updates are between those acknowledged and those sent, once nothing is unfinished. */
async function expectWithinLedger(
  admin: AdminClient,
  keys: string[],
  ledger: Ledger,
): Promise<Map<string, number>> {
  await waitFor(
    "unfinished invocations to complete",
    async () => {
      for (const status of UNFINISHED_STATUSES)
        if ((await admin.invocations(status)).length > 0) return false;
      return true;
    },
    SETTLE_MS,
  );
  const counts = new Map<string, number>();
  for (const key of keys) {
    const state = (await admin.state("Tally", key)) as { total?: number };
    const total = state.total ?? 0;
    expect(total % amountOf(key)).toBe(0);
    const count = total / amountOf(key);
    expect({ key, count, atLeastAcked: count >= (ledger.acked.get(key) ?? 0) }).toEqual({
      key,
      count,
      atLeastAcked: true,
    });
    expect(count).toBeLessThanOrEqual(ledger.sent.get(key) ?? 0);
    counts.set(key, count);
  }
  return counts;
}

test("a SIGKILLed node's shipped state comes back whole on an empty data directory and on its own", async () => {
  const keys: string[] = [];
  for (let i = 0; keys.length < KEYS; i++) {
    const key = `k${i}`;
    if (partitionOfTarget({ service: "Tally", handler: "add", key }, undefined, PARTITIONS) === SHIPPED) {
      keys.push(key);
    }
  }
  const snapshots = new S3SnapshotStore({
    s3: aws!.s3Client,
    bucket,
    dynamodb: aws!.dynamodb,
    tableName: TABLE,
  });
  const log = new DynamoDbLogStore({ client: aws!.dynamodb, tableName: TABLE });
  const ledger = new Ledger();

  // Node A: load until the partition has shipped its file and trimmed its log, then kill mid-load.
  const aDir = tempDir();
  const a = await start(aDir);
  await new AdminClient(a.ready.adminUrl, aDir).registerDeployment(handlerUrl);
  const trimmed = async (): Promise<boolean> => {
    const [first] = await log.read(SHIPPED, 0, 1);
    return first !== undefined && first.lsn > 1;
  };
  await ledger.load(
    a.ready.ingressUrl,
    keys,
    async () => ledger.requests >= MAX_REQUESTS_TO_SNAPSHOT || (await snapshots.list(SHIPPED)).length > 0,
  );
  expect((await snapshots.list(SHIPPED)).length).toBeGreaterThan(0);
  await waitFor("the log trimmed below the snapshot", trimmed);
  const killAt = ledger.requests + REQUESTS_BEFORE_KILL;
  const loadA = ledger.load(a.ready.ingressUrl, keys, async () => false);
  await waitFor("requests in flight", async () => ledger.requests >= killAt);
  await a.kill(KILL_TIMEOUT_MS);
  await loadA;

  // Node B: an empty data directory with the cluster's credentials.
  const bDir = tempDir();
  for (const file of [ADMIN_TOKEN_FILE, ATTEMPT_KEY_FILE, IDENTITY_KEY_FILE]) {
    fs.copyFileSync(path.join(aDir, file), path.join(bDir, file));
  }
  const b = await start(bDir);
  const adminB = new AdminClient(b.ready.adminUrl, bDir);
  const afterMove = await expectWithinLedger(adminB, keys, ledger);
  expect(fs.existsSync(path.join(bDir, "shipped-state", TABLE, `p${SHIPPED}.db`))).toBe(true);

  // B killed mid-load, restarted on its own directory: its local files lead.
  const killBAt = ledger.requests + REQUESTS_BEFORE_KILL;
  const loadB = ledger.load(b.ready.ingressUrl, keys, async () => false);
  await waitFor("requests in flight on B", async () => ledger.requests >= killBAt);
  await b.kill(KILL_TIMEOUT_MS);
  await loadB;
  const c = await start(bDir);
  const afterRestart = await expectWithinLedger(new AdminClient(c.ready.adminUrl, bDir), keys, ledger);
  for (const key of keys) expect(afterRestart.get(key)!).toBeGreaterThanOrEqual(afterMove.get(key)!);
  await c.kill(KILL_TIMEOUT_MS);
  process.stderr.write(
    `shipping crash: ${ledger.requests} requests, ${[...ledger.acked.values()].reduce((a, b) => a + b, 0)} ` +
      `acknowledged; snapshot of partition ${SHIPPED} at lsn ${(await snapshots.list(SHIPPED))[0]?.lsn}\n`,
  );
});
