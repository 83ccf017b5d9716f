/**
 * The PartitionStore of the AWS backend: snapshots through a SnapshotStore (S3 objects, a DynamoDB
 * pointer), metadata (deployments, the partition count) as items of Capstan's DynamoDB table, so
 * every node of a cluster sees the same registry.
 *
 * Its JSON snapshots (`loadSnapshot`/`saveSnapshot`: the serialized partition state, gzipped) serve
 * the runtime only when it keeps partition state in memory (JsonSnapshotStateStores: tests); a node
 * of `capstan serve` keeps it in SQLite files shipped through the same SnapshotStore
 * (ShippedSqliteStateStores), which also reads a JSON snapshot left by an older build. A snapshot is
 * stored with the epoch this node holds for the partition (`epochOf`), so a node that lost the
 * partition cannot move the pointer.
 * Metadata items share one partition key (`meta`, sort key a hash of the document key): listing a
 * prefix is one Query, filtered here. The registry is small (deployments, a few settings).
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { META_KEY, queryAll } from "./dynamodb-table";
import type { PartitionStore, Snapshot } from "./partition-store";
import type { SnapshotStore } from "./snapshot-store";

/** A metadata document (one item): DynamoDB's item limit with room for keys. */
export const MAX_META_VALUE_BYTES = 350 * 1024;

export interface DynamoDbPartitionStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  snapshots: SnapshotStore;
  /** The fence epoch this node holds for a partition (0: none). */
  epochOf(partition: number): number;
}

/**
 * @example
 * const store = new DynamoDbPartitionStore({ client, tableName: "capstan", snapshots,
 *   epochOf: (p) => logStore.heldEpoch(p) });
 * await store.saveSnapshot(3, { lsn: 20_000, state }); // S3 object, then the pointer moves
 */
export class DynamoDbPartitionStore implements PartitionStore {
  constructor(private readonly options: DynamoDbPartitionStoreOptions) {}

  async loadSnapshot(partition: number): Promise<Snapshot | undefined> {
    const latest = await this.options.snapshots.latest(partition);
    if (latest === undefined) return undefined;
    if (Buffer.from(latest.bytes.subarray(0, 6)).toString("latin1") === "SQLite") {
      throw new Error(
        `partition ${partition}'s snapshot is a state file: open it with ShippedSqliteStateStores`,
      );
    }
    const state = JSON.parse(gunzipSync(latest.bytes).toString("utf8")) as unknown;
    return { lsn: latest.lsn, state };
  }

  async saveSnapshot(partition: number, snapshot: Snapshot): Promise<void> {
    const bytes = gzipSync(Buffer.from(JSON.stringify(snapshot.state), "utf8"));
    await this.options.snapshots.put(partition, snapshot.lsn, this.options.epochOf(partition), bytes);
  }

  async getMeta(key: string): Promise<unknown> {
    const { Item } = await this.options.client.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: metaItemKey(key), ConsistentRead: true }),
    );
    return Item?.value?.S === undefined ? undefined : (JSON.parse(Item.value.S) as unknown);
  }

  async putMeta(key: string, value: unknown): Promise<void> {
    const text = JSON.stringify(value);
    if (Buffer.byteLength(text, "utf8") > MAX_META_VALUE_BYTES) {
      throw new RangeError(`metadata ${key} is larger than ${MAX_META_VALUE_BYTES} bytes`);
    }
    await this.options.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: { ...metaItemKey(key), key: { S: key }, value: { S: text } },
      }),
    );
  }

  async listMeta(prefix: string): Promise<Array<{ key: string; value: unknown }>> {
    const out: Array<{ key: string; value: unknown }> = [];
    for await (const item of queryAll(this.options.client, this.options.tableName, META_KEY)) {
      const key = item.key!.S!;
      if (key.startsWith(prefix)) out.push({ key, value: JSON.parse(item.value!.S!) as unknown });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deleteMeta(key: string): Promise<void> {
    await this.options.client.send(
      new DeleteItemCommand({ TableName: this.options.tableName, Key: metaItemKey(key) }),
    );
  }

  /** The clients belong to the caller. */
  async close(): Promise<void> {}
}

function metaItemKey(key: string): Record<string, AttributeValue> {
  const sk = createHash("sha256").update(key).digest().readUIntBE(0, 6);
  return { pk: { S: META_KEY }, sk: { N: String(sk) } };
}
