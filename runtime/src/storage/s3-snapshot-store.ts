/**
 * The SnapshotStore on AWS: each snapshot an immutable S3 object (`If-None-Match: *`, under a key of
 * its own), the pointer to the newest an item `snap#P` in Capstan's DynamoDB table.
 *
 * A put uploads first, then moves the pointer with a compare-and-set on the pointer it read (lsn and
 * epoch unchanged), which it only does for a higher LSN and an epoch at least the pointer's. A put
 * that loses deletes its own object. The pointer item lists the kept snapshots; those it drops are
 * deleted after it moved, as are objects left by a put that crashed between upload and pointer
 * (found by listing the partition's prefix). A crash leaves at worst an object that the next put
 * deletes: the pointer always names an object that exists.
 *
 * Files go up and come down as streams (`putFile`, `download`): a state file larger than memory is
 * never held in the heap. One PUT per snapshot, so at most MAX_SNAPSHOT_BYTES.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import type { Readable } from "node:stream";
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { streamToFile } from "./durable-file";
import { snapshotKey } from "./dynamodb-table";
import {
  MAX_SNAPSHOT_BYTES,
  SNAPSHOTS_KEPT,
  SnapshotFencedError,
  SnapshotMissingError,
  SnapshotTooLargeError,
  checkSnapshotArgs,
  snapshotObjectKey,
  type SnapshotRef,
  type SnapshotStore,
} from "./snapshot-store";

/** Compare-and-set rounds of one put against concurrent writers before it gives up. */
export const MAX_POINTER_ATTEMPTS = 16;

export interface S3SnapshotStoreOptions {
  s3: S3Client;
  bucket: string;
  dynamodb: DynamoDBClient;
  tableName: string;
  /** Largest object uploaded; default MAX_SNAPSHOT_BYTES (one PUT). */
  maxObjectBytes?: number;
}

/** What one upload sends: made when the upload starts (a file's stream is opened only then). */
type Upload = () => Pick<PutObjectCommandInput, "Body" | "ContentLength">;

interface Pointer {
  kept: SnapshotRef[];
}

/**
 * @example
 * const snapshots = new S3SnapshotStore({ s3, bucket: "capstan-snapshots", dynamodb, tableName: "capstan" });
 * await snapshots.put(3, state.appliedLsn, epoch, bytes); // false if a newer snapshot exists already
 * const newest = await snapshots.latest(3); // a new leader loads it and replays the log after newest.lsn
 */
export class S3SnapshotStore implements SnapshotStore {
  constructor(private readonly options: S3SnapshotStoreOptions) {}

  async put(partition: number, lsn: number, epoch: number, bytes: Uint8Array): Promise<boolean> {
    checkSnapshotArgs(partition, lsn, epoch);
    this.checkSize(partition, bytes.length);
    return this.store(partition, lsn, epoch, () => ({ Body: bytes, ContentLength: bytes.length }));
  }

  async putFile(partition: number, lsn: number, epoch: number, file: string): Promise<boolean> {
    checkSnapshotArgs(partition, lsn, epoch);
    const { size } = await fs.promises.stat(file);
    this.checkSize(partition, size);
    return this.store(partition, lsn, epoch, () => ({
      Body: fs.createReadStream(file),
      ContentLength: size,
    }));
  }

  async download(ref: SnapshotRef, file: string): Promise<void> {
    let body: Readable;
    try {
      const object = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: ref.key }),
      );
      body = object.Body as Readable;
    } catch (e) {
      if (e instanceof NoSuchKey) throw new SnapshotMissingError(ref.key);
      throw e;
    }
    await streamToFile(body, file);
  }

  private checkSize(partition: number, bytes: number): void {
    const max = this.options.maxObjectBytes ?? MAX_SNAPSHOT_BYTES;
    if (bytes > max) throw new SnapshotTooLargeError(partition, bytes, max);
  }

  private async store(partition: number, lsn: number, epoch: number, upload: Upload): Promise<boolean> {
    let pointer = await this.pointer(partition);
    if (!this.admits(partition, pointer, lsn, epoch)) return false;
    const key = snapshotObjectKey(partition, lsn, epoch, randomUUID());
    await this.options.s3.send(
      new PutObjectCommand({ Bucket: this.options.bucket, Key: key, ...upload(), IfNoneMatch: "*" }),
    );
    for (let attempt = 1; attempt <= MAX_POINTER_ATTEMPTS; attempt++) {
      const kept = [{ lsn, epoch, key }, ...pointer.kept];
      if (await this.moveTo(partition, pointer, kept.slice(0, SNAPSHOTS_KEPT))) {
        await this.deleteUnkept(partition, kept.slice(0, SNAPSHOTS_KEPT), lsn);
        return true;
      }
      pointer = await this.pointer(partition);
      let admitted: boolean;
      try {
        admitted = this.admits(partition, pointer, lsn, epoch);
      } catch (e) {
        await this.deleteObject(key);
        throw e;
      }
      if (!admitted) {
        await this.deleteObject(key);
        return false;
      }
    }
    await this.deleteObject(key);
    throw new Error(
      `snapshot pointer of partition ${partition} kept moving: gave up after ${MAX_POINTER_ATTEMPTS} tries`,
    );
  }

  async latest(partition: number): Promise<(SnapshotRef & { bytes: Uint8Array }) | undefined> {
    const newest = (await this.pointer(partition)).kept[0];
    if (newest === undefined) return undefined;
    const object = await this.options.s3.send(
      new GetObjectCommand({ Bucket: this.options.bucket, Key: newest.key }),
    );
    return { ...newest, bytes: await object.Body!.transformToByteArray() };
  }

  async list(partition: number): Promise<SnapshotRef[]> {
    return (await this.pointer(partition)).kept;
  }

  /** The clients belong to the caller. */
  async close(): Promise<void> {}

  /** Whether a snapshot at `lsn` by `epoch` may move `pointer`; throws if `epoch` is stale. */
  private admits(partition: number, pointer: Pointer, lsn: number, epoch: number): boolean {
    const newest = pointer.kept[0];
    if (newest !== undefined && newest.epoch > epoch)
      throw new SnapshotFencedError(partition, epoch, newest.epoch);
    return newest === undefined || newest.lsn < lsn;
  }

  private async pointer(partition: number): Promise<Pointer> {
    const { Item } = await this.options.dynamodb.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: pointerKey(partition),
        ConsistentRead: true,
      }),
    );
    return { kept: Item?.kept?.S === undefined ? [] : (JSON.parse(Item.kept.S) as SnapshotRef[]) };
  }

  /** Compare-and-set: moves the pointer only if it is still what was read. */
  private async moveTo(partition: number, seen: Pointer, kept: SnapshotRef[]): Promise<boolean> {
    const newest = kept[0]!;
    const before = seen.kept[0];
    const values: Record<string, AttributeValue> = {
      ":lsn": { N: String(newest.lsn) },
      ":epoch": { N: String(newest.epoch) },
      ":key": { S: newest.key },
      ":kept": { S: JSON.stringify(kept) },
    };
    if (before !== undefined) {
      values[":seenLsn"] = { N: String(before.lsn) };
      values[":seenEpoch"] = { N: String(before.epoch) };
    }
    try {
      await this.options.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: pointerKey(partition),
          UpdateExpression: "SET lsn = :lsn, epoch = :epoch, #key = :key, kept = :kept",
          ConditionExpression:
            before === undefined ? "attribute_not_exists(lsn)" : "lsn = :seenLsn AND epoch = :seenEpoch",
          ExpressionAttributeNames: { "#key": "key" },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  /**
   * Deletes the partition's objects that are neither kept nor newer than the snapshot just stored
   * (dropped from the pointer, or left by a put that crashed before it moved the pointer).
   * Best effort: what is left is deleted by a later put.
   */
  private async deleteUnkept(partition: number, kept: SnapshotRef[], lsn: number): Promise<void> {
    const keep = new Set(kept.map((r) => r.key));
    const prefix = `snap/${partition}/`;
    const newestKey = snapshotObjectKey(partition, lsn, 0, "");
    try {
      let token: string | undefined;
      do {
        const page = await this.options.s3.send(
          new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          // Keys sort by zero-padded lsn: an object at or above this lsn may belong to a newer put.
          if (object.Key !== undefined && !keep.has(object.Key) && object.Key < newestKey) {
            await this.deleteObject(object.Key);
          }
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch {
      // The pointer moved; cleaning up can wait for the next snapshot.
    }
  }

  private async deleteObject(key: string): Promise<void> {
    await this.options.s3
      .send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }))
      .catch(() => undefined);
  }
}

function pointerKey(partition: number): Record<string, AttributeValue> {
  return { pk: { S: snapshotKey(partition) }, sk: { N: "0" } };
}
