import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { S3SnapshotStore } from "./s3-snapshot-store";
import { SnapshotTooLargeError, snapshotObjectKey } from "./snapshot-store";
import { describeSnapshotStoreContract } from "./snapshot-store.contract";
import { startAwsLocal, type AwsLocal } from "./test-support/aws-local";
import { dropTable, freshTable } from "./test-support/dynamodb-fixture";
import { countObjects, freshBucket } from "./test-support/s3-fixture";

// DynamoDB Local is a JVM on a shared machine: its first requests are slow.
jest.setTimeout(60_000);

let aws: AwsLocal | undefined;
let dynamodb: DynamoDBClient;
let s3Client: S3Client;
beforeAll(async () => {
  aws = await startAwsLocal();
  ({ dynamodb, s3Client } = aws);
}, 120_000);
afterAll(() => aws?.stop());

describeSnapshotStoreContract("S3SnapshotStore (S3 stand-in + DynamoDB Local)", async () => {
  const [tableName, bucket] = await Promise.all([freshTable(dynamodb), freshBucket(s3Client)]);
  const open = async (): Promise<S3SnapshotStore> =>
    new S3SnapshotStore({ s3: s3Client, bucket, dynamodb, tableName });
  return {
    store: await open(),
    openAnother: open,
    objectCount: (partition) => countObjects(s3Client, bucket, `snap/${partition}/`),
    cleanup: () => dropTable(dynamodb, tableName),
  };
});

describe("S3SnapshotStore", () => {
  it("deletes an object left by a put that crashed before it moved the pointer", async () => {
    const [tableName, bucket] = await Promise.all([freshTable(dynamodb), freshBucket(s3Client)]);
    const store = new S3SnapshotStore({ s3: s3Client, bucket, dynamodb, tableName });
    await store.put(0, 10, 1, new Uint8Array([1]));
    // A crashed put: its object is there, the pointer never named it.
    await s3Client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: snapshotObjectKey(0, 15, 1, "crashed"),
        Body: new Uint8Array([2]),
      }),
    );

    await store.put(0, 20, 1, new Uint8Array([3]));
    await store.put(0, 30, 1, new Uint8Array([4]));

    expect((await store.list(0)).map((r) => r.lsn)).toEqual([30, 20]);
    expect(await countObjects(s3Client, bucket, "snap/0/")).toBe(2);
    await dropTable(dynamodb, tableName);
  });

  it("uploads a file of exactly its object limit and refuses one byte more, before any upload", async () => {
    const [tableName, bucket] = await Promise.all([freshTable(dynamodb), freshBucket(s3Client)]);
    const store = new S3SnapshotStore({ s3: s3Client, bucket, dynamodb, tableName, maxObjectBytes: 1_000 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-s3-snapshots-"));
    try {
      const file = path.join(dir, "state.db");
      fs.writeFileSync(file, Buffer.alloc(1_000, 7));
      expect(await store.putFile(0, 1, 1, file)).toBe(true);
      fs.writeFileSync(file, Buffer.alloc(1_001, 7));
      await expect(store.putFile(0, 2, 1, file)).rejects.toBeInstanceOf(SnapshotTooLargeError);
      await expect(store.put(0, 3, 1, new Uint8Array(1_001))).rejects.toMatchObject({
        code: "STORE_SNAPSHOT_TOO_LARGE",
      });
      expect((await store.list(0)).map((r) => r.lsn)).toEqual([1]);
      expect(await countObjects(s3Client, bucket, "snap/0/")).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await dropTable(dynamodb, tableName);
    }
  });
});
