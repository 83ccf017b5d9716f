/**
 * The AWS backend as `capstan serve` opens it, and its PartitionStore's contract, on one DynamoDB
 * Local and one S3 stand-in.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { DynamoDbPartitionStore } from "./dynamodb-partition-store";
import { openDynamoDbStores } from "./dynamodb-stores";
import { MemorySnapshotData, MemorySnapshotStore } from "./memory-snapshot-store";
import { describePartitionStoreContract } from "./partition-store.contract";
import { startAwsLocal, type AwsLocal } from "./test-support/aws-local";
import { dropTable, freshTable } from "./test-support/dynamodb-fixture";
import { countObjects } from "./test-support/s3-fixture";

// DynamoDB Local is a JVM on a shared machine: its first requests are slow.
jest.setTimeout(60_000);

let aws: AwsLocal | undefined;
let dynamodb: DynamoDBClient;
let s3Client: S3Client;
beforeAll(async () => {
  aws = await startAwsLocal();
  ({ dynamodb, s3Client } = aws);
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
}, 120_000);
afterAll(() => aws?.stop());

// Snapshots through the in-memory SnapshotStore (its S3 implementation has its own contract run);
// metadata in DynamoDB Local.
describePartitionStoreContract("DynamoDbPartitionStore (DynamoDB Local)", async () => {
  const tableName = await freshTable(dynamodb);
  const snapshots = new MemorySnapshotData();
  const open = async (): Promise<DynamoDbPartitionStore> =>
    new DynamoDbPartitionStore({
      client: dynamodb,
      tableName,
      snapshots: new MemorySnapshotStore(snapshots),
      epochOf: () => 1,
    });
  return { store: await open(), reopen: open, cleanup: () => dropTable(dynamodb, tableName) };
});

const config = (tableName: string, local = true) =>
  ({
    kind: "dynamodb",
    tableName,
    endpoint: local ? aws!.ddb.endpoint : undefined,
    s3Bucket: `${tableName}-bucket`,
    s3Endpoint: local ? aws!.s3.endpoint : undefined,
  }) as const;

test("--create-table is refused unless both endpoints are local, before any request", async () => {
  await expect(
    openDynamoDbStores(config("on-aws", false), { region: "us-east-1", createTable: true }),
  ).rejects.toMatchObject({
    code: "CONFIG_INVALID",
    message: expect.stringContaining("CAPSTAN_DYNAMODB_ENDPOINT"),
  });
});

test("a missing table is a configuration error naming the variable", async () => {
  await expect(openDynamoDbStores(config("no-such-table"), { region: "us-east-1" })).rejects.toMatchObject({
    code: "CONFIG_INVALID",
    message: expect.stringContaining("CAPSTAN_DYNAMODB_TABLE=no-such-table"),
  });
});

test("creates the table and bucket locally; snapshots carry the epoch this node holds", async () => {
  const stores = await openDynamoDbStores(config("created"), { region: "us-east-1", createTable: true });
  const again = await openDynamoDbStores(config("created"), { region: "us-east-1", createTable: true });
  const epoch = await stores.logStore.claim(0, "node-a");
  await stores.logStore.append(0, 1, [{ kind: "recover", epoch }]);

  await stores.partitionStore.saveSnapshot(0, { lsn: 1, state: { invocations: { a: 1 } } });
  await stores.partitionStore.putMeta("partitions", 4);

  // `again` holds no claim on partition 0 (epoch 0): its snapshot cannot move the pointer.
  await expect(again.partitionStore.saveSnapshot(0, { lsn: 2, state: {} })).rejects.toMatchObject({
    code: "STORE_SNAPSHOT_FENCED",
  });
  expect(await again.partitionStore.loadSnapshot(0)).toEqual({ lsn: 1, state: { invocations: { a: 1 } } });
  expect(await again.partitionStore.getMeta("partitions")).toBe(4);
  expect(await countObjects(s3Client, "created-bucket", "snap/0/")).toBe(1);
  await Promise.all([stores.close(), again.close()]);
});

test("the JSON snapshot reader refuses a shipped state file rather than misreading it", async () => {
  const data = new MemorySnapshotData();
  await new MemorySnapshotStore(data).put(0, 5, 1, Buffer.from("SQLite format 3\0rest of the file"));
  const store = new DynamoDbPartitionStore({
    client: dynamodb,
    tableName: "unused",
    snapshots: new MemorySnapshotStore(data),
    epochOf: () => 1,
  });
  await expect(store.loadSnapshot(0)).rejects.toThrow("ShippedSqliteStateStores");
});
