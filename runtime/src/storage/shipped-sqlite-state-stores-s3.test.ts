/**
 * The PartitionStateStores contract of the shipped state files over the real S3 API (the stand-in)
 * with the snapshot pointer in DynamoDB Local: every open is a new node with an empty directory, so
 * each reopen downloads what the persist before it uploaded.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { describePartitionStateStoresContract } from "./partition-state-store.contract";
import { S3SnapshotStore } from "./s3-snapshot-store";
import { startAwsLocal, type AwsLocal } from "./test-support/aws-local";
import { dropTable, freshTable } from "./test-support/dynamodb-fixture";
import { movingNodeStores } from "./test-support/moving-node-stores";
import { freshBucket } from "./test-support/s3-fixture";

// DynamoDB Local is a JVM on a shared machine: its first requests are slow.
jest.setTimeout(120_000);

let aws: AwsLocal | undefined;
let dynamodb: DynamoDBClient;
let s3Client: S3Client;
beforeAll(async () => {
  aws = await startAwsLocal();
  ({ dynamodb, s3Client } = aws);
}, 120_000);
afterAll(() => aws?.stop());

describePartitionStateStoresContract("ShippedSqliteStateStores (S3 stand-in + DynamoDB Local)", async () => {
  const [tableName, bucket] = await Promise.all([freshTable(dynamodb), freshBucket(s3Client)]);
  const dirs: string[] = [];
  const stores = movingNodeStores(
    () => new S3SnapshotStore({ s3: s3Client, bucket, dynamodb, tableName }),
    () => {
      dirs.push(fs.mkdtempSync(path.join(os.tmpdir(), "capstan-shipped-s3-")));
      return dirs[dirs.length - 1]!;
    },
    tableName,
  );
  return {
    stores,
    cleanup: async () => {
      stores.closeAll();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
      await dropTable(dynamodb, tableName);
    },
  };
});
