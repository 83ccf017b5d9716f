import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbPartitionStore } from "./dynamodb-partition-store";
import { MemorySnapshotData, MemorySnapshotStore } from "./memory-snapshot-store";
import { describePartitionStoreContract } from "./partition-store.contract";
import { dropTable, freshTable, localDynamoDbClient } from "./test-support/dynamodb-fixture";
import { startDynamoDbLocal, type DynamoDbLocal } from "./test-support/dynamodb-local";

// DynamoDB Local is a JVM on a shared machine: its first requests are slow.
jest.setTimeout(60_000);

let ddb: DynamoDbLocal;
let client: DynamoDBClient;
beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  client = localDynamoDbClient(ddb.endpoint);
}, 120_000);
afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

// Snapshots through the in-memory SnapshotStore (its S3 implementation has its own contract run);
// metadata in DynamoDB Local.
describePartitionStoreContract("DynamoDbPartitionStore (DynamoDB Local)", async () => {
  const tableName = await freshTable(client);
  const snapshots = new MemorySnapshotData();
  const open = async (): Promise<DynamoDbPartitionStore> =>
    new DynamoDbPartitionStore({
      client,
      tableName,
      snapshots: new MemorySnapshotStore(snapshots),
      epochOf: () => 1,
    });
  return { store: await open(), reopen: open, cleanup: () => dropTable(client, tableName) };
});
