/**
 * The AWS backend, both ports: the log in DynamoDB, snapshots in S3 with their pointer in DynamoDB,
 * metadata in DynamoDB; given the node's data directory, partition state in SQLite files there,
 * shipped to S3 as the snapshots (ShippedSqliteStateStores). What `capstan serve` opens with
 * CAPSTAN_STORE=dynamodb.
 */
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { ConfigError, type StoreConfig } from "../config/config";
import { DynamoDbLogStore } from "./dynamodb-log-store";
import { DynamoDbPartitionStore } from "./dynamodb-partition-store";
import { createCapstanTable } from "./dynamodb-table";
import { S3SnapshotStore } from "./s3-snapshot-store";
import { ShippedSqliteStateStores } from "./shipped-sqlite-state-stores";

export interface DynamoDbStores {
  logStore: DynamoDbLogStore;
  partitionStore: DynamoDbPartitionStore;
  /** Partition state as shipped SQLite files, when a data directory was given. */
  stateStores?: ShippedSqliteStateStores;
  /** Waits for the appends in flight, then closes the clients (and unlocks the state files). */
  close(): Promise<void>;
}

export interface OpenDynamoDbStoresOptions {
  region: string;
  /**
   * Create the table (and the bucket) when missing. Refused without an explicit endpoint for each:
   * on AWS they belong to the CDK stack, with the settings production needs.
   */
  createTable?: boolean;
  /**
   * The node's data directory: partition state lives there in SQLite files shipped to S3. Absent:
   * no `stateStores` (the runtime then keeps state in memory with JSON snapshots; tests only).
   */
  dataDir?: string;
}

/**
 * @example
 * const stores = await openDynamoDbStores(config.store, { region: config.awsRegion, dataDir: config.dataDir });
 * const runtime = new Runtime({ logStore: stores.logStore, partitionStore: stores.partitionStore,
 *   stateStores: stores.stateStores, ... });
 */
export async function openDynamoDbStores(
  store: Extract<StoreConfig, { kind: "dynamodb" }>,
  options: OpenDynamoDbStoresOptions,
): Promise<DynamoDbStores> {
  if (options.createTable === true && (store.endpoint === undefined || store.s3Endpoint === undefined)) {
    throw new ConfigError(
      "--create-table works only against local endpoints (CAPSTAN_DYNAMODB_ENDPOINT and CAPSTAN_S3_ENDPOINT): " +
        "on AWS the table and the bucket are created by the CDK stack",
    );
  }
  const dynamodb = new DynamoDBClient({
    region: options.region,
    ...(store.endpoint !== undefined && { endpoint: store.endpoint }),
  });
  const s3 = new S3Client({
    region: options.region,
    ...(store.s3Endpoint !== undefined && { endpoint: store.s3Endpoint, forcePathStyle: true }),
  });
  try {
    if (options.createTable === true) {
      await createCapstanTable(dynamodb, store.tableName);
      try {
        await s3.send(new CreateBucketCommand({ Bucket: store.s3Bucket }));
      } catch (e) {
        // Already there (ours, or from an earlier run): fine if we can reach it.
        await s3.send(new HeadBucketCommand({ Bucket: store.s3Bucket })).catch(() => {
          throw e;
        });
      }
    } else {
      await checkTable(dynamodb, store.tableName);
    }
  } catch (e) {
    dynamodb.destroy();
    s3.destroy();
    throw e;
  }
  const logStore = new DynamoDbLogStore({ client: dynamodb, tableName: store.tableName });
  const snapshots = new S3SnapshotStore({ s3, bucket: store.s3Bucket, dynamodb, tableName: store.tableName });
  const partitionStore = new DynamoDbPartitionStore({
    client: dynamodb,
    tableName: store.tableName,
    snapshots,
    epochOf: (p) => logStore.heldEpoch(p),
  });
  let stateStores: ShippedSqliteStateStores | undefined;
  if (options.dataDir !== undefined) {
    const logId = await tableIdentity(dynamodb, store.tableName).catch((e: unknown) => {
      dynamodb.destroy();
      s3.destroy();
      throw e;
    });
    stateStores = new ShippedSqliteStateStores({
      dataDir: options.dataDir,
      logName: store.tableName,
      ...(logId !== undefined && { logId }),
      snapshots,
      epochOf: (p) => logStore.heldEpoch(p),
    });
  }
  return {
    logStore,
    partitionStore,
    ...(stateStores !== undefined && { stateStores }),
    async close() {
      try {
        await logStore.close();
        await partitionStore.close();
      } finally {
        stateStores?.close();
        dynamodb.destroy();
        s3.destroy();
      }
    },
  };
}

/**
 * What tells this table from one deleted and created again under its name: its id on DynamoDB,
 * its creation time on DynamoDB Local (which has no id).
 */
async function tableIdentity(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  return Table?.TableId ?? Table?.CreationDateTime?.toISOString();
}

async function checkTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (e) {
    if (e instanceof ResourceNotFoundException) {
      throw new ConfigError(
        `CAPSTAN_DYNAMODB_TABLE=${tableName}: no such table (deploy the CDK stack, or pass --create-table ` +
          `with a local CAPSTAN_DYNAMODB_ENDPOINT)`,
      );
    }
    throw e;
  }
}
