/**
 * Capstan's one DynamoDB table: its key schema, the items it holds, and how to create it on a local
 * endpoint. Every item is addressed by `pk` (string: kind#id) and `sk` (number):
 *
 * | Item           | pk          | sk        | Attributes                                             |
 * | -------------- | ----------- | --------- | ------------------------------------------------------ |
 * | Log batch      | `log#P`     | first LSN | `last`, `n`, `epoch`, `fmt` (json/gzip), `d`, `tx`     |
 * | Fence          | `fence#P`   | 0         | `epoch`, `owner`, `tail` (last LSN), `trimmed`         |
 * | Snapshot ptr   | `snap#P`    | 0         | `lsn`, `key`, `epoch`, `kept` (JSON: kept snapshots)   |
 * | Node heartbeat | `nodes`     | H(node id)| `nodeId`, `counter`, `address`, `pid`, `ttl`           |
 * | Metadata       | `meta`      | H(key)    | `key`, `value` (JSON)                                  |
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  QueryCommand,
  ResourceInUseException,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";

/** Key of a partition's log batches. */
export const logKey = (partition: number): string => `log#${partition}`;
/** Key of a partition's fence item. */
export const fenceKey = (partition: number): string => `fence#${partition}`;
/** Key of a partition's snapshot pointer. */
export const snapshotKey = (partition: number): string => `snap#${partition}`;
/**
 * Partition key of every node's heartbeat item (sort key: a hash of the node id): reading all nodes
 * is one Query. The research note's `node#id` items would need a Scan over the whole table.
 */
export const NODES_KEY = "nodes";
/** Partition key of every metadata document (sort key: a hash of the document key). */
export const META_KEY = "meta";

/**
 * Every item under one partition key, page by page, read consistently: the heartbeats (`nodes`) and
 * the metadata documents (`meta`) are each one Query, never a Scan of the table.
 */
export async function* queryAll(
  client: DynamoDBClient,
  tableName: string,
  pk: string,
): AsyncGenerator<Record<string, AttributeValue>> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: pk } },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    yield* page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

/** How long createTable waits for the table to become ACTIVE (immediate on DynamoDB Local). */
const CREATE_DEADLINE_MS = 60_000;

/**
 * Creates the table (on-demand) if it does not exist and waits until it is ACTIVE. Only for local
 * endpoints and tests: on AWS the table belongs to the CDK stack (PITR, deletion protection, TTL).
 *
 * @example
 * await createCapstanTable(new DynamoDBClient({ endpoint: "http://127.0.0.1:8000" }), "capstan");
 */
export async function createCapstanTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "N" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  const deadline = Date.now() + CREATE_DEADLINE_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === "ACTIVE") return;
    if (Date.now() > deadline)
      throw new Error(`table ${tableName} is not ACTIVE after ${CREATE_DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
